"""Login, sessions, API tokens and users: the decisions (the caller owns the transaction)."""

from __future__ import annotations

import hmac
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from fastapi import Request
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from enlace.agentes.models import Agente, Equipo
from enlace.auth import repository as repo
from enlace.auth.models import SesionUsuario, TokenApi, Usuario
from enlace.auth.schemas import TokenCrear, UsuarioActualizar, UsuarioCrear
from enlace.auth.seguridad import hash_token, hashear, nuevo_token, problema_password, verificar
from enlace.comun.actor import Actor
from enlace.comun.alcances_token import tokens_que_puede_dar, validar_alcances
from enlace.errores import Conflicto, DemasiadosIntentos, EntradaInvalida, NoAutenticado, NoEncontrado, Prohibido

COOKIE_SESION = "enlace_sesion"
COOKIE_CSRF = "enlace_csrf"
CABECERA_CSRF = "x-csrf-token"
METODOS_SEGUROS = {"GET", "HEAD", "OPTIONS"}
# The same words whatever went wrong: no user enumeration through messages.
MENSAJE_LOGIN_FALLIDO = "Usuario o contraseña incorrectos."


@dataclass(slots=True)
class SesionCreada:
    token: str
    csrf: str
    usuario: Usuario
    expira_at: datetime


async def construir_actor(
    session: AsyncSession, usuario: Usuario, *, alcances: tuple[str, ...] = (), via_token: bool = False
) -> Actor:
    agente_id = await repo.agente_de_usuario(session, usuario.id) if usuario.rol == "agente" else None
    equipos = await repo.equipos_de_supervisor(session, usuario.id) if usuario.rol == "supervisor" else ()
    return Actor(
        usuario_id=usuario.id,
        rol=usuario.rol,
        nombre=usuario.nombre,
        agente_id=agente_id,
        equipo_ids=equipos,
        alcances=alcances,
        via_token=via_token,
        debe_cambiar_password=usuario.debe_cambiar_password,
    )


def espera_tras_fallos(fallos: int, max_fallos: int, base_s: int, tope_s: int) -> int:
    """Seconds to wait after the last failure: none below the limit, then doubling from `base_s`."""
    if fallos < max_fallos:
        return 0
    return int(min(tope_s, base_s * 2 ** (fallos - max_fallos)))


async def reservar_intento(
    fabrica_independiente,  # type: ignore[no-untyped-def]
    *,
    usuario: str,
    ip: str | None,
    ahora: datetime,
    max_fallos: int,
    ventana_minutos: int,
    espera_base_s: int,
    max_fallos_ip: int = 50,
) -> tuple[int, Usuario | None]:
    """Count this attempt BEFORE verifying anything, atomically per user name.

    The attempt is committed as a failure in its own transaction under an advisory lock, so N
    parallel guesses see each other: at most `max_fallos` of them are evaluated, the rest get 429.
    The lockout is keyed by user name AND client address, with growing waits, so guessing from
    one place never locks the real user out from another.
    """
    desde = ahora - timedelta(minutes=ventana_minutos)
    async with fabrica_independiente() as otra:
        await repo.bloquear_usuario_login(otra, usuario)
        fallos = await repo.fallos_recientes(otra, usuario=usuario, ip=ip, desde=desde)
        espera = espera_tras_fallos(len(fallos), max_fallos, espera_base_s, ventana_minutos * 60)
        if espera and fallos[0] + timedelta(seconds=espera) > ahora:
            faltan = math.ceil((fallos[0] + timedelta(seconds=espera) - ahora).total_seconds())
            raise DemasiadosIntentos(
                f"Demasiados intentos fallidos desde esta dirección. Espera {_duracion(faltan)} e inténtalo de nuevo.",
                reintentar_en_s=faltan,
            )
        if ip and await repo.fallos_de_ip(otra, ip, desde) >= max_fallos_ip:
            raise DemasiadosIntentos(
                f"Demasiados intentos fallidos desde esta dirección. Espera {ventana_minutos} minutos.",
                reintentar_en_s=ventana_minutos * 60,
            )
        intento_id = await repo.registrar_intento(otra, usuario=usuario, ip=ip, momento=ahora)
        encontrado = await repo.usuario_por_nombre(otra, usuario)
        await otra.commit()
    return intento_id, encontrado


def _duracion(segundos: int) -> str:
    if segundos < 90:
        return f"{segundos} segundos"
    return f"{math.ceil(segundos / 60)} minutos"


async def iniciar_sesion(
    session: AsyncSession,
    fabrica_independiente,  # type: ignore[no-untyped-def]
    *,
    usuario: str,
    password: str,
    ip: str | None,
    user_agent: str | None,
    ahora: datetime,
    max_fallos: int,
    ventana_minutos: int,
    horas_sesion: int,
    espera_base_s: int = 30,
    max_fallos_ip: int = 50,
) -> SesionCreada:
    intento_id, encontrado = await reservar_intento(
        fabrica_independiente,
        usuario=usuario,
        ip=ip,
        ahora=ahora,
        max_fallos=max_fallos,
        ventana_minutos=ventana_minutos,
        espera_base_s=espera_base_s,
        max_fallos_ip=max_fallos_ip,
    )
    # Always verify a hash, even for unknown users, so timing does not reveal who exists. No database
    # connection is held meanwhile: the attempt is already committed, the request session is untouched.
    valido = await verificar(encontrado.password_hash if encontrado else None, password)
    if not valido or encontrado is None or not encontrado.activo:
        async with fabrica_independiente() as otra:
            await repo.confirmar_fallo(otra, intento_id)
            await otra.commit()
        raise NoAutenticado(MENSAJE_LOGIN_FALLIDO, codigo="credenciales_invalidas")
    # Success: this attempt and this address's earlier failures for the user stop counting.
    await repo.limpiar_fallos(session, usuario, ip, ahora, intento_id)
    encontrado = await repo.usuario_por_id(session, encontrado.id)
    assert encontrado is not None
    token, csrf = nuevo_token(), nuevo_token()
    expira = ahora + timedelta(hours=horas_sesion)
    session.add(
        SesionUsuario(
            usuario_id=encontrado.id,
            token_hash=hash_token(token),
            csrf_token=csrf,
            expira_at=expira,
            ip=ip,
            user_agent=(user_agent or "")[:300] or None,
        )
    )
    encontrado.ultimo_acceso_at = ahora
    return SesionCreada(token=token, csrf=csrf, usuario=encontrado, expira_at=expira)


async def cerrar_sesion(session: AsyncSession, token: str | None, ahora: datetime) -> None:
    if token:
        await repo.revocar_sesion(session, hash_token(token), ahora)


async def autenticar_peticion(session: AsyncSession, request: Request) -> Actor | None:
    """Bearer token (integrations) or session cookie (panel, with CSRF on unsafe methods)."""
    ahora = request.app.state.nucleo.reloj_seguridad.ahora()
    autorizacion = request.headers.get("authorization", "")
    if autorizacion.lower().startswith("bearer "):
        return await autenticar_token(session, autorizacion[7:].strip(), ahora)
    cookie = request.cookies.get(COOKIE_SESION)
    if not cookie:
        return None
    fila = await repo.sesion_por_token(session, hash_token(cookie), ahora)
    if fila is None:
        return None
    if request.method not in METODOS_SEGUROS:
        enviado = request.headers.get(CABECERA_CSRF, "")
        if not enviado or not hmac.compare_digest(enviado, fila.csrf_token):
            raise Prohibido(
                "Falta el token CSRF o no coincide. Recarga la página e inténtalo de nuevo.", codigo="csrf_invalido"
            )
    usuario = await repo.usuario_por_id(session, fila.usuario_id)
    if usuario is None or not usuario.activo:
        return None
    return await construir_actor(session, usuario)


async def autenticar_token(session: AsyncSession, token: str, ahora: datetime) -> Actor | None:
    fila = await repo.token_por_hash(session, hash_token(token), ahora)
    if fila is None:
        return None
    usuario = await repo.usuario_por_id(session, fila.usuario_id)
    if usuario is None or not usuario.activo:
        return None
    fila.ultimo_uso_at = ahora
    return await construir_actor(session, usuario, alcances=tuple(fila.alcances or ()), via_token=True)


async def autenticar_cookie(session: AsyncSession, cookie: str | None, ahora: datetime) -> Actor | None:
    """For the realtime channel: the same session cookie the panel uses."""
    if not cookie:
        return None
    fila = await repo.sesion_por_token(session, hash_token(cookie), ahora)
    if fila is None:
        return None
    usuario = await repo.usuario_por_id(session, fila.usuario_id)
    if usuario is None or not usuario.activo:
        return None
    return await construir_actor(session, usuario)


# ---- users -----------------------------------------------------------------------------------


async def validar_equipo(session: AsyncSession, equipo_id: int | None) -> None:
    if equipo_id is not None and await session.get(Equipo, equipo_id) is None:
        raise EntradaInvalida(f"equipo_id: el equipo {equipo_id} no existe.")


def exigir_password_fuerte(password: str, campo: str, *personales: str) -> None:
    problema = problema_password(password, *personales)
    if problema is not None:
        raise EntradaInvalida(f"{campo}: la contraseña {problema}.", codigo="password_debil", campos=[campo])


async def crear_usuario(session: AsyncSession, datos: UsuarioCrear) -> Usuario:
    exigir_password_fuerte(datos.password, "password", datos.usuario, datos.nombre)
    if await repo.usuario_por_nombre(session, datos.usuario):
        raise Conflicto(f"Ya existe un usuario llamado «{datos.usuario}».", codigo="usuario_duplicado")
    await validar_equipo(session, datos.equipo_id)
    usuario = Usuario(
        usuario=datos.usuario,
        nombre=datos.nombre,
        email=datos.email,
        rol=datos.rol,
        password_hash=await hashear(datos.password),
    )
    session.add(usuario)
    await session.flush()
    if datos.rol == "agente":
        session.add(Agente(nombre=datos.nombre, usuario_id=usuario.id, equipo_id=datos.equipo_id))
    elif datos.rol == "supervisor" and datos.equipo_id is not None:
        equipo = await session.get(Equipo, datos.equipo_id)
        if equipo is not None:
            equipo.supervisor_id = usuario.id
    await session.flush()
    return usuario


async def actualizar_usuario(
    session: AsyncSession, actor: Actor, usuario_id: int, datos: UsuarioActualizar, ahora: datetime
) -> Usuario:
    usuario = await repo.usuario_por_id(session, usuario_id)
    if usuario is None:
        raise NoEncontrado("El usuario no existe.")
    if datos.password:
        exigir_password_fuerte(datos.password, "password", usuario.usuario, usuario.nombre)
    if usuario.id == actor.usuario_id and (datos.activo is False or (datos.rol and datos.rol != "admin")):
        raise Conflicto("No puedes desactivarte ni quitarte el rol de administrador a ti mismo.")
    await validar_equipo(session, datos.equipo_id)
    if datos.rol and datos.rol != usuario.rol:
        if usuario.rol == "agente" or datos.rol == "agente":
            raise Conflicto("Un agente no puede cambiar de rol (ni otro usuario volverse agente); crea otro usuario.")
        usuario.rol = datos.rol
    for campo in ("nombre", "email"):
        valor = getattr(datos, campo)
        if valor is not None:
            setattr(usuario, campo, valor)
    if datos.nombre is not None and usuario.rol == "agente":
        # The wall, reports and campaigns show the agent's name: a rename shows everywhere.
        agente_renombrado = await session.scalar(select(Agente).where(Agente.usuario_id == usuario.id))
        if agente_renombrado is not None:
            agente_renombrado.nombre = datos.nombre
    if datos.activo is not None:
        usuario.activo = datos.activo
        if not datos.activo:
            await repo.revocar_sesiones_de(session, usuario.id, ahora)
    if datos.password:
        usuario.password_hash = await hashear(datos.password)
        await repo.revocar_sesiones_de(session, usuario.id, ahora)
    if datos.equipo_id is not None:
        if usuario.rol == "agente":
            agente = await session.scalar(select(Agente).where(Agente.usuario_id == usuario.id))
            if agente is not None:
                agente.equipo_id = datos.equipo_id
        elif usuario.rol == "supervisor":
            equipo = await session.get(Equipo, datos.equipo_id)
            if equipo is not None:
                equipo.supervisor_id = usuario.id
    await session.flush()
    return usuario


async def cambiar_password(
    session: AsyncSession, actor: Actor, actual: str, nueva: str, sesion_actual: str | None, ahora: datetime
) -> None:
    """Change one's own password; every other browser session of the user is revoked (this one stays)."""
    usuario = await repo.usuario_por_id(session, actor.usuario_id)
    if usuario is None or not await verificar(usuario.password_hash, actual):
        raise EntradaInvalida("actual: la contraseña actual no es correcta.")
    if nueva == actual:
        raise EntradaInvalida("nueva: la contraseña nueva debe ser distinta de la actual.", campos=["nueva"])
    exigir_password_fuerte(nueva, "nueva", usuario.usuario, usuario.nombre)
    usuario.password_hash = await hashear(nueva)
    usuario.debe_cambiar_password = False
    await repo.revocar_sesiones_de(session, usuario.id, ahora, salvo=sesion_actual)


# ---- API tokens ------------------------------------------------------------------------------


async def crear_token(session: AsyncSession, actor: Actor, datos: TokenCrear) -> tuple[TokenApi, str]:
    alcances = validar_alcances(datos.alcances)
    tokens_que_puede_dar(actor, alcances)
    dueno = datos.usuario_id or actor.usuario_id
    if await repo.usuario_por_id(session, dueno) is None:
        raise EntradaInvalida(f"usuario_id: el usuario {dueno} no existe.")
    token = nuevo_token("enl_")
    fila = TokenApi(
        usuario_id=dueno,
        nombre=datos.nombre,
        prefijo=token[:8],
        token_hash=hash_token(token),
        alcances=alcances,
        expira_at=datos.expira_at,
    )
    session.add(fila)
    await session.flush()
    return fila, token


async def revocar_token(session: AsyncSession, token_id: int, ahora: datetime) -> TokenApi:
    fila = await session.get(TokenApi, token_id)
    if fila is None:
        raise NoEncontrado("El token no existe.")
    if fila.revocado_at is None:
        fila.revocado_at = ahora
    return fila
