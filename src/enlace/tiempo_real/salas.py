"""Which realtime rooms a user joins on connect (the same scoping as the API's data), and closing them."""

from __future__ import annotations

from typing import Any

import structlog

from enlace.comun.actor import Actor

log = structlog.get_logger(__name__)


def salas_permitidas(actor: Actor) -> list[str]:
    """The rooms a client joins on connect."""
    if actor.es_admin:
        return ["supervision"]
    if actor.es_supervisor:
        return [f"equipo:{e}" for e in actor.equipo_ids]
    return [f"agente:{actor.agente_id}"] if actor.agente_id is not None else []


# Rooms by credential, never joinable by clients: how logout, revocation and role changes find the
# connections to close at once.
PREFIJOS_INTERNOS = ("usuario:", "credencial:")


def sala_credencial(hash_credencial: str) -> str:
    """The room of every connection opened with one browser session or one API token (by its hash)."""
    return f"credencial:{hash_credencial[:32]}"


async def cerrar_conexiones(
    sio: Any,  # socketio.AsyncServer (the node's, `nucleo.sio`) or None without realtime
    *,
    usuario_id: int | None = None,
    hash_credencial: str | None = None,
    salvo_credencial: str | None = None,
) -> int:
    """Disconnect a user's realtime connections (or one credential's), except `salvo_credencial`'s."""
    if sio is None:
        return 0
    sala = f"usuario:{usuario_id}" if usuario_id is not None else sala_credencial(hash_credencial or "")
    salvo = sala_credencial(salvo_credencial) if salvo_credencial else None
    cerradas = 0
    for sid, _eio_sid in list(sio.manager.get_participants("/", sala)):
        if salvo is not None and salvo in sio.rooms(sid):
            continue
        await sio.disconnect(sid)
        cerradas += 1
    if cerradas:
        log.info("conexiones_cerradas", sala=sala.split(":")[0], cerradas=cerradas)
    return cerradas
