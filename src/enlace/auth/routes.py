"""HTTP routes: login/logout/me, users (admins) and API tokens."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from enlace.auth import repository as repo
from enlace.auth import service
from enlace.auth.schemas import (
    CambioPassword,
    LoginEntrada,
    LoginSalida,
    TokenCreado,
    TokenCrear,
    TokenSalida,
    UsuarioActualizar,
    UsuarioCrear,
    UsuarioSalida,
)
from enlace.comun.alcance import exigir_rol
from enlace.dependencias import ActorDep, NucleoDep, SessionBD, ip_cliente

router = APIRouter(prefix="/api", tags=["auth"])


async def _salida(session: SessionBD, usuario) -> UsuarioSalida:  # type: ignore[no-untyped-def]
    actor = await service.construir_actor(session, usuario)
    return UsuarioSalida(
        id=usuario.id,
        usuario=usuario.usuario,
        nombre=usuario.nombre,
        email=usuario.email,
        rol=usuario.rol,
        activo=usuario.activo,
        agente_id=actor.agente_id,
        equipo_ids=list(actor.equipo_ids),
    )


@router.post("/auth/login", response_model=LoginSalida)
async def login(
    datos: LoginEntrada, request: Request, response: Response, session: SessionBD, nucleo: NucleoDep
) -> LoginSalida:
    ajustes = nucleo.settings
    creada = await service.iniciar_sesion(
        session,
        nucleo.fabrica,
        usuario=datos.usuario,
        password=datos.password,
        ip=ip_cliente(request),
        user_agent=request.headers.get("user-agent"),
        ahora=nucleo.reloj_seguridad.ahora(),
        max_fallos=ajustes.login_max_fallos,
        ventana_minutos=ajustes.login_ventana_minutos,
        horas_sesion=ajustes.sesion_horas,
    )
    edad = ajustes.sesion_horas * 3600
    seguro = ajustes.cookies_seguras
    response.set_cookie(
        service.COOKIE_SESION, creada.token, max_age=edad, httponly=True, samesite="lax", secure=seguro, path="/"
    )
    # Readable by the panel's JavaScript, echoed back in X-CSRF-Token (double submit).
    response.set_cookie(
        service.COOKIE_CSRF, creada.csrf, max_age=edad, httponly=False, samesite="lax", secure=seguro, path="/"
    )
    return LoginSalida(usuario=await _salida(session, creada.usuario), csrf_token=creada.csrf)


@router.post("/auth/logout", status_code=204)
async def logout(request: Request, response: Response, actor: ActorDep, session: SessionBD, nucleo: NucleoDep) -> None:
    await service.cerrar_sesion(session, request.cookies.get(service.COOKIE_SESION), nucleo.reloj_seguridad.ahora())
    response.delete_cookie(service.COOKIE_SESION, path="/")
    response.delete_cookie(service.COOKIE_CSRF, path="/")


@router.get("/auth/yo", response_model=UsuarioSalida)
async def yo(actor: ActorDep, session: SessionBD) -> UsuarioSalida:
    usuario = await repo.usuario_por_id(session, actor.usuario_id)
    return await _salida(session, usuario)


@router.post("/auth/password", status_code=204)
async def cambiar_password(datos: CambioPassword, actor: ActorDep, session: SessionBD) -> None:
    await service.cambiar_password(session, actor, datos.actual, datos.nueva)


@router.get("/usuarios", response_model=list[UsuarioSalida])
async def listar_usuarios(actor: ActorDep, session: SessionBD) -> list[UsuarioSalida]:
    exigir_rol(actor, "admin")
    return [await _salida(session, u) for u in await repo.listar_usuarios(session)]


@router.post("/usuarios", response_model=UsuarioSalida, status_code=201)
async def crear_usuario(datos: UsuarioCrear, actor: ActorDep, session: SessionBD) -> UsuarioSalida:
    exigir_rol(actor, "admin")
    usuario = await service.crear_usuario(session, datos)
    await _auditar(session, actor, "usuario.crear", usuario.id, {"usuario": usuario.usuario, "rol": usuario.rol})
    return await _salida(session, usuario)


@router.patch("/usuarios/{usuario_id}", response_model=UsuarioSalida)
async def actualizar_usuario(
    usuario_id: int, datos: UsuarioActualizar, actor: ActorDep, session: SessionBD, nucleo: NucleoDep
) -> UsuarioSalida:
    exigir_rol(actor, "admin")
    usuario = await service.actualizar_usuario(session, actor, usuario_id, datos, nucleo.reloj_seguridad.ahora())
    cambios = datos.model_dump(exclude_none=True, exclude={"password"})
    if datos.password:
        cambios["password"] = "cambiada"
    await _auditar(session, actor, "usuario.actualizar", usuario.id, cambios)
    return await _salida(session, usuario)


@router.get("/tokens", response_model=list[TokenSalida])
async def listar_tokens(actor: ActorDep, session: SessionBD) -> list[TokenSalida]:
    propios = None if actor.es_admin else actor.usuario_id
    return [TokenSalida.model_validate(t) for t in await repo.listar_tokens(session, propios)]


@router.post("/tokens", response_model=TokenCreado, status_code=201)
async def crear_token(datos: TokenCrear, actor: ActorDep, session: SessionBD) -> TokenCreado:
    exigir_rol(actor, "admin")
    fila, token = await service.crear_token(session, actor, datos)
    await _auditar(session, actor, "token.crear", fila.id, {"nombre": fila.nombre, "usuario_id": fila.usuario_id})
    return TokenCreado.model_validate({**TokenSalida.model_validate(fila).model_dump(), "token": token})


@router.delete("/tokens/{token_id}", response_model=TokenSalida)
async def revocar_token(token_id: int, actor: ActorDep, session: SessionBD, nucleo: NucleoDep) -> TokenSalida:
    exigir_rol(actor, "admin")
    fila = await service.revocar_token(session, token_id, nucleo.reloj_seguridad.ahora())
    await _auditar(session, actor, "token.revocar", fila.id, {"nombre": fila.nombre})
    return TokenSalida.model_validate(fila)


async def _auditar(session: SessionBD, actor, accion: str, objeto_id: int, detalle: dict) -> None:  # type: ignore[no-untyped-def,type-arg]
    from enlace.comun.auditoria import registrar_auditoria

    await registrar_auditoria(
        session, actor, accion, objeto_tipo=accion.split(".")[0], objeto_id=objeto_id, detalle=detalle
    )
