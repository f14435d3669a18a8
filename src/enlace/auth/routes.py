"""HTTP routes: login/logout/me, users (admins) and API tokens."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from enlace.auth import repository as repo
from enlace.auth import service
from enlace.auth.schemas import (
    AlcanceSalida,
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
from enlace.auth.seguridad import hash_token
from enlace.comun.alcance import exigir_rol
from enlace.comun.alcances_token import catalogo, requiere
from enlace.db.sesion import al_confirmar
from enlace.dependencias import ActorDep, NucleoDep, SessionBD, ip_cliente

router = APIRouter(prefix="/api", tags=["auth"])
# Login, logout, "me" and password change declare no area: API tokens cannot use them.
USUARIOS = requiere("usuarios")


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
        # An agent belongs to one team (its agent row's); a supervisor to the teams they supervise.
        equipo_ids=list(actor.equipo_ids)
        if usuario.rol != "agente"
        else await repo.equipos_de_agente(session, usuario.id),
        debe_cambiar_password=usuario.debe_cambiar_password,
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
        espera_base_s=ajustes.login_espera_base_s,
        max_fallos_ip=ajustes.login_max_fallos_ip,
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
    cookie = request.cookies.get(service.COOKIE_SESION)
    await service.cerrar_sesion(session, cookie, nucleo.reloj_seguridad.ahora())
    if cookie:
        _cerrar_conexiones(session, nucleo, hash_credencial=hash_token(cookie))
    response.delete_cookie(service.COOKIE_SESION, path="/")
    response.delete_cookie(service.COOKIE_CSRF, path="/")


@router.get("/auth/yo", response_model=UsuarioSalida)
async def yo(actor: ActorDep, session: SessionBD) -> UsuarioSalida:
    usuario = await repo.usuario_por_id(session, actor.usuario_id)
    return await _salida(session, usuario)


@router.post("/auth/password", status_code=204)
async def cambiar_password(
    datos: CambioPassword, request: Request, actor: ActorDep, session: SessionBD, nucleo: NucleoDep
) -> None:
    """Change your own password: every other session of yours ends (and its realtime connections)."""
    cookie = request.cookies.get(service.COOKIE_SESION)
    actual = hash_token(cookie) if cookie else None
    await service.cambiar_password(session, actor, datos.actual, datos.nueva, actual, nucleo.reloj_seguridad.ahora())
    _cerrar_conexiones(session, nucleo, usuario_id=actor.usuario_id, salvo_credencial=actual)


def _cerrar_conexiones(session: SessionBD, nucleo: NucleoDep, **quien: Any) -> None:
    """After commit, close the realtime connections the change invalidated (they keep receiving otherwise)."""
    from enlace.tiempo_real.salas import cerrar_conexiones

    al_confirmar(session, lambda: cerrar_conexiones(nucleo.sio, **quien))


@router.get("/usuarios", response_model=list[UsuarioSalida], dependencies=[USUARIOS])
async def listar_usuarios(actor: ActorDep, session: SessionBD) -> list[UsuarioSalida]:
    exigir_rol(actor, "admin")
    return [await _salida(session, u) for u in await repo.listar_usuarios(session)]


@router.post("/usuarios", response_model=UsuarioSalida, status_code=201, dependencies=[USUARIOS])
async def crear_usuario(datos: UsuarioCrear, actor: ActorDep, session: SessionBD) -> UsuarioSalida:
    exigir_rol(actor, "admin")
    usuario = await service.crear_usuario(session, datos)
    await _auditar(session, actor, "usuario.crear", usuario.id, {"usuario": usuario.usuario, "rol": usuario.rol})
    return await _salida(session, usuario)


@router.patch("/usuarios/{usuario_id}", response_model=UsuarioSalida, dependencies=[USUARIOS])
async def actualizar_usuario(
    usuario_id: int, datos: UsuarioActualizar, actor: ActorDep, session: SessionBD, nucleo: NucleoDep
) -> UsuarioSalida:
    exigir_rol(actor, "admin")
    usuario = await service.actualizar_usuario(session, actor, usuario_id, datos, nucleo.reloj_seguridad.ahora())
    if any(v is not None for v in (datos.rol, datos.activo, datos.password, datos.equipo_id)):
        # What this user may see changed: its open connections re-authenticate with the new rights.
        _cerrar_conexiones(session, nucleo, usuario_id=usuario.id)
    cambios = datos.model_dump(exclude_none=True, exclude={"password"})
    if datos.password:
        cambios["password"] = "cambiada"
    await _auditar(session, actor, "usuario.actualizar", usuario.id, cambios)
    return await _salida(session, usuario)


@router.get("/tokens", response_model=list[TokenSalida], dependencies=[USUARIOS])
async def listar_tokens(actor: ActorDep, session: SessionBD) -> list[TokenSalida]:
    propios = None if actor.es_admin else actor.usuario_id
    return [TokenSalida.model_validate(t) for t in await repo.listar_tokens(session, propios)]


@router.get("/tokens/alcances", response_model=list[AlcanceSalida], dependencies=[USUARIOS])
async def listar_alcances(actor: ActorDep) -> list[AlcanceSalida]:
    """The scopes a token may carry (the panel's token form offers exactly these)."""
    exigir_rol(actor, "admin")
    return [AlcanceSalida(**a) for a in catalogo()]


@router.post("/tokens", response_model=TokenCreado, status_code=201, dependencies=[USUARIOS])
async def crear_token(datos: TokenCrear, actor: ActorDep, session: SessionBD) -> TokenCreado:
    exigir_rol(actor, "admin")
    fila, token = await service.crear_token(session, actor, datos)
    await _auditar(session, actor, "token.crear", fila.id, {"nombre": fila.nombre, "usuario_id": fila.usuario_id})
    return TokenCreado.model_validate({**TokenSalida.model_validate(fila).model_dump(), "token": token})


@router.delete("/tokens/{token_id}", response_model=TokenSalida, dependencies=[USUARIOS])
async def revocar_token(token_id: int, actor: ActorDep, session: SessionBD, nucleo: NucleoDep) -> TokenSalida:
    exigir_rol(actor, "admin")
    fila = await service.revocar_token(session, token_id, nucleo.reloj_seguridad.ahora())
    _cerrar_conexiones(session, nucleo, hash_credencial=fila.token_hash)
    await _auditar(session, actor, "token.revocar", fila.id, {"nombre": fila.nombre})
    return TokenSalida.model_validate(fila)


async def _auditar(session: SessionBD, actor, accion: str, objeto_id: int, detalle: dict) -> None:  # type: ignore[no-untyped-def,type-arg]
    from enlace.comun.auditoria import registrar_auditoria

    await registrar_auditoria(
        session, actor, accion, objeto_tipo=accion.split(".")[0], objeto_id=objeto_id, detalle=detalle
    )
