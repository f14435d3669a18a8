"""The socket.io server: authenticates with the panel's cookie or an API token; rooms are joined only if allowed.

Rooms: `agente:{id}`, `equipo:{id}`, `campana:{id}`, `supervision` (admins: everything). On connect a
client joins its own rooms (an agent its agent room, a supervisor its teams, an admin `supervision`);
it may ask for more with the `unirse` event ({"sala": "campana:12"}) and gets {"ok": bool, ...} back.
With a Redis URL, emits fan out through Redis so every node's clients get them.
"""

from __future__ import annotations

import hashlib
from http.cookies import SimpleCookie
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

import socketio
import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.types import ASGIApp

from enlace.auth.seguridad import hash_token
from enlace.auth.service import COOKIE_SESION, autenticar_cookie, autenticar_token
from enlace.comun.actor import Actor
from enlace.comun.alcance import puede_ver_agente
from enlace.comun.alcances_token import token_permite
from enlace.tiempo_real.salas import PREFIJOS_INTERNOS, sala_credencial, salas_permitidas

if TYPE_CHECKING:
    from enlace.nucleo import Nucleo

log = structlog.get_logger(__name__)

PREFIJOS_SALA = ("agente", "equipo", "campana")


def analizar_sala(sala: str) -> tuple[str, int | None] | None:
    """'campana:12' → ('campana', 12); 'supervision' → ('supervision', None); anything else → None."""
    if sala == "supervision":
        return ("supervision", None)
    tipo, _, ident = sala.partition(":")
    if tipo not in PREFIJOS_SALA or not ident.isdigit() or len(ident) > 12:
        return None
    return (tipo, int(ident))


async def puede_unirse(session: AsyncSession, actor: Actor, sala: str) -> bool:
    """Whether `actor` may receive the events of `sala` (the same scoping as the API's data)."""
    analizada = analizar_sala(sala)
    if analizada is None:
        return False
    if actor.es_admin:
        return True
    tipo, ident = analizada
    if tipo == "supervision" or ident is None:
        return False
    if tipo == "equipo":
        return actor.es_supervisor and ident in actor.equipo_ids
    if tipo == "agente":
        return await puede_ver_agente(session, actor, ident)
    from enlace.campanas.models import Campana

    agente_id = await session.scalar(select(Campana.agente_id).where(Campana.id == ident))
    return agente_id is not None and await puede_ver_agente(session, actor, agente_id)


def origen_permitido(origen: str | None, environ: dict[str, Any], *, desarrollo: bool = False) -> bool:
    """Whether a browser on `origen` may open the realtime channel.

    Browsers send the session cookie with cross-site WebSocket handshakes, so a foreign page could
    otherwise listen in (QR codes included). Same host as the request: yes. Non-browser clients send
    no Origin: yes (they authenticate with a token anyway). In development, loopback origins (the
    Vite dev server on another port) too.
    """
    if not origen:
        return True
    partes = urlparse(origen)
    host = str(environ.get("HTTP_HOST", "")).lower()
    if partes.netloc.lower() == host:
        return True
    return desarrollo and partes.hostname in ("localhost", "127.0.0.1", "::1")


def canal_redis(database_url: str) -> str:
    """Nodes sharing a database share a channel; other deployments on the same Redis stay apart."""
    return "enlace-sio-" + hashlib.sha256(database_url.encode()).hexdigest()[:16]


def crear_servidor(nucleo: Nucleo) -> socketio.AsyncServer:
    gestor = None
    if nucleo.settings.redis_url:
        gestor = socketio.AsyncRedisManager(nucleo.settings.redis_url, channel=canal_redis(nucleo.database_url))
    desarrollo = not nucleo.settings.es_produccion
    sio = socketio.AsyncServer(
        async_mode="asgi",
        client_manager=gestor,
        cors_allowed_origins=lambda origen, environ: origen_permitido(origen, environ, desarrollo=desarrollo),
        logger=False,
    )

    @sio.event
    async def connect(sid: str, environ: dict[str, Any], auth: dict[str, Any] | None = None) -> bool:
        actor, credencial = await _autenticar(nucleo, environ, auth)
        if actor is None or credencial is None:
            raise socketio.exceptions.ConnectionRefusedError("no_autenticado")
        await sio.save_session(sid, {"actor": actor})
        for sala in [*salas_permitidas(actor), f"usuario:{actor.usuario_id}", sala_credencial(credencial)]:
            await sio.enter_room(sid, sala)
        return True

    @sio.event
    async def unirse(sid: str, datos: Any) -> dict[str, Any]:
        sala = str(datos.get("sala", "")) if isinstance(datos, dict) else str(datos or "")
        actor: Actor = (await sio.get_session(sid))["actor"]
        async with nucleo.fabrica() as session:
            permitido = await puede_unirse(session, actor, sala)
        if not permitido:
            log.info("sala_rechazada", usuario=actor.usuario_id, sala=sala[:40])
            return {"ok": False, "error": {"codigo": "prohibido", "mensaje": "No tienes acceso a esa sala."}}
        await sio.enter_room(sid, sala)
        return {"ok": True, "sala": sala}

    @sio.event
    async def salir(sid: str, datos: Any) -> dict[str, Any]:
        sala = str(datos.get("sala", "")) if isinstance(datos, dict) else str(datos or "")
        await sio.leave_room(sid, sala)
        return {"ok": True, "sala": sala}

    @sio.event
    async def salas(sid: str, _datos: Any = None) -> list[str]:
        """The rooms this client is in (the panel shows what it is listening to)."""
        return [s for s in sio.rooms(sid) if s != sid and not s.startswith(PREFIJOS_INTERNOS)]

    return sio


async def _autenticar(
    nucleo: Nucleo, environ: dict[str, Any], auth: dict[str, Any] | None
) -> tuple[Actor | None, str | None]:
    """The actor and the hash of the credential it connected with (session cookie or API token)."""
    ahora = nucleo.reloj_seguridad.ahora()
    credencial: str | None
    async with nucleo.fabrica() as session:
        if isinstance(auth, dict) and auth.get("token"):
            credencial = hash_token(str(auth["token"]))
            actor = await autenticar_token(session, str(auth["token"]), ahora)
            # Realtime events carry message texts: a token needs the inbox's read scope.
            if actor is not None and not token_permite(actor.alcances, "conversaciones", "GET"):
                actor = None
        else:
            cookie = SimpleCookie(environ.get("HTTP_COOKIE", ""))
            valor = cookie[COOKIE_SESION].value if COOKIE_SESION in cookie else None
            credencial = hash_token(valor) if valor else None
            actor = await autenticar_cookie(session, valor, ahora)
        await session.commit()
    return actor, credencial


def montar(nucleo: Nucleo, app: ASGIApp) -> tuple[ASGIApp, socketio.AsyncServer]:
    """socket.io at /socket.io in front of `app`, with the bus emitting through it."""
    from enlace.tiempo_real.bus import configurar_emisor

    sio = crear_servidor(nucleo)
    nucleo.sio = sio

    async def emitir(evento: str, datos: dict[str, Any], salas: Any) -> None:
        await sio.emit(evento, datos, room=salas)

    configurar_emisor(emitir)
    return socketio.ASGIApp(sio, other_asgi_app=app, socketio_path="socket.io"), sio
