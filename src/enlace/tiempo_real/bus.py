"""Realtime events leave only after the database commits; rooms say who may see them."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from enlace.comun.eventos import MODELOS, Evento, validar
from enlace.db.sesion import al_confirmar

log = structlog.get_logger(__name__)

# (evento, datos, salas): salas is a list, so a socket in several of them receives the event once.
Emisor = Callable[[str, dict[str, Any], Any], Awaitable[None]]
Observador = Callable[[str, dict[str, Any], list[str]], Awaitable[None]]

# The contract (enlace.comun.eventos): one model per event, snake_case keys; webhook.prueba is CRM-only.
EVENTOS = tuple(nombre for nombre in MODELOS if nombre != "webhook.prueba")

# Campaign progress is coalesced: at most one emission per campaign per window, carrying the latest
# figures (a 500-message burst would otherwise push 500 near-identical events to every panel).
EVENTOS_COALESCIDOS = {"campana.progreso"}
VENTANA_COALESCER_S = 0.5

# Set by the running core to the socket.io server's emit; None = nobody listens (CLI, some tests).
_emisor: Emisor | None = None
# In-process observers (tests, the webhooks outbox): called with (evento, datos, salas).
observadores: list[Observador] = []

_coalescidos: dict[tuple[str, str], tuple[dict[str, Any], list[str]]] = {}
_vaciado: asyncio.Task[None] | None = None


def configurar_emisor(emisor: Emisor | None) -> None:
    global _emisor
    _emisor = emisor


async def _entregar(evento: str, datos: dict[str, Any], salas: list[str]) -> None:
    unicas = list(dict.fromkeys(salas))
    if _emisor is not None and unicas:
        try:
            await _emisor(evento, datos, unicas)
        except Exception:
            log.exception("emision_tiempo_real_fallo", evento=evento)
    for observador in list(observadores):
        try:
            await observador(evento, datos, unicas)
        except Exception:
            log.exception("observador_tiempo_real_fallo", evento=evento)


async def publicar(evento: str | Evento, datos: dict[str, Any] | None, salas: list[str]) -> None:
    """Emit now (callers outside a transaction); prefer `emitir` inside one. Validated against the contract."""
    evento, datos = validar(evento, datos)
    if evento in EVENTOS_COALESCIDOS:
        _coalescer(evento, datos, salas)
        return
    await _entregar(evento, datos, salas)


def _coalescer(evento: str, datos: dict[str, Any], salas: list[str]) -> None:
    global _vaciado
    clave = (evento, str(datos["campana_id"]))
    _coalescidos[clave] = (datos, salas)
    if _vaciado is None or _vaciado.done():
        _vaciado = asyncio.get_running_loop().create_task(_vaciar_coalescidos())


async def _vaciar_coalescidos() -> None:
    # Plain event-loop time: a technical batching window, not a domain delay.
    await asyncio.sleep(VENTANA_COALESCER_S)
    lote = list(_coalescidos.items())
    _coalescidos.clear()
    for (evento, _), (datos, salas) in lote:
        await _entregar(evento, datos, salas)


async def vaciar() -> None:
    """Emit the coalesced events now (tests, shutdown)."""
    lote = list(_coalescidos.items())
    _coalescidos.clear()
    for (evento, _), (datos, salas) in lote:
        await _entregar(evento, datos, salas)


def emitir(session: AsyncSession, evento: str | Evento, datos: dict[str, Any] | None, salas: list[str]) -> None:
    """Buffer `evento` for `salas`; it is emitted after `session` commits, dropped on rollback.

    `evento` is a model of `enlace.comun.eventos` (then `datos` is None) or an event name with its
    payload, validated here: a payload that breaks the contract raises at once, inside the transaction.
    """
    from enlace.tiempo_real.outbox import registrar

    nombre, carga = validar(evento, datos)
    # The CRM outbox rows are written in this same transaction (see enlace.tiempo_real.outbox).
    registrar(session, nombre, carga, str(uuid.uuid4()))
    al_confirmar(session, lambda: publicar(nombre, carga, salas))


# Realtime is core infrastructure: it reads the agent's team without importing the agentes domain.
_EQUIPO_DE_AGENTE = text("SELECT equipo_id FROM agentes WHERE id = :a")


def salas_agente(agente_id: int, equipo_id: int | None) -> list[str]:
    salas = [f"agente:{agente_id}", "supervision"]
    if equipo_id is not None:
        salas.append(f"equipo:{equipo_id}")
    return salas


async def salas_de_agente(session: AsyncSession, agente_id: int) -> list[str]:
    """The rooms that may see what happens to `agente_id`: the agent, its team, supervision."""
    equipo_id = await session.scalar(_EQUIPO_DE_AGENTE, {"a": agente_id})
    return salas_agente(agente_id, equipo_id)


def salas_campana(agente_id: int, equipo_id: int | None, campana_id: int) -> list[str]:
    """Campaign events: the campaign room plus everyone who may see its agent."""
    return [f"campana:{campana_id}", *salas_agente(agente_id, equipo_id)]
