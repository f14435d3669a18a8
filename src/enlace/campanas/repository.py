"""SQL for campaigns: scoped reads, the contacts a start renders, bulk outbox insert, live counts."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from enlace.campanas.models import Campana
from enlace.carteras.models import Contacto
from enlace.comun.actor import Actor
from enlace.comun.alcance import condicion_agente
from enlace.mensajes.estados import CANCELABLES
from enlace.mensajes.models import MensajeEnviado
from enlace.mensajes.repository import transicionar


async def listar(session: AsyncSession, actor: Actor, agente_id: int | None = None) -> list[Campana]:
    stmt = select(Campana).where(condicion_agente(actor, Campana.agente_id)).order_by(Campana.id.desc()).limit(500)
    if agente_id is not None:
        stmt = stmt.where(Campana.agente_id == agente_id)
    return list((await session.scalars(stmt)).all())


async def obtener(session: AsyncSession, actor: Actor, campana_id: int, *, bloquear: bool = False) -> Campana | None:
    stmt = select(Campana).where(Campana.id == campana_id, condicion_agente(actor, Campana.agente_id))
    if bloquear:
        stmt = stmt.with_for_update()
    return await session.scalar(stmt)


async def contactos_de_campana(session: AsyncSession, campana: Campana) -> list[Contacto]:
    """The cartera's contacts the campaign's agent owns now, still contactable, once each."""
    stmt = (
        select(Contacto)
        .where(
            Contacto.cartera_id == campana.cartera_id,
            Contacto.agente_id == campana.agente_id,
            Contacto.estado.not_in(("baja", "anonimizado")),
        )
        .order_by(Contacto.id)
    )
    return list((await session.scalars(stmt)).all())


async def insertar_mensajes(session: AsyncSession, filas: list[dict[str, Any]]) -> None:
    for i in range(0, len(filas), 1000):
        await session.execute(insert(MensajeEnviado), filas[i : i + 1000])


async def cancelar_pendientes(session: AsyncSession, campana_id: int) -> int:
    movidos = await transicionar(
        session,
        "cancelado",
        desde=CANCELABLES,
        donde=MensajeEnviado.campana_id == campana_id,
        detalle_error="Campaña cancelada",
    )
    return len(movidos)


async def respondidos(session: AsyncSession, campana_id: int) -> int:
    return int(
        await session.scalar(
            text("SELECT count(DISTINCT contacto_id) FROM mensajes_recibidos WHERE campana_id = :c"), {"c": campana_id}
        )
        or 0
    )


async def enviados_desde(session: AsyncSession, campana_id: int, desde: datetime) -> int:
    return int(
        await session.scalar(
            text("SELECT count(*) FROM mensajes_enviados WHERE campana_id = :c AND enviado_at >= :d"),
            {"c": campana_id, "d": desde},
        )
        or 0
    )


def hace_una_hora(ahora: datetime) -> datetime:
    return ahora - timedelta(hours=1)
