"""All webhook SQL: subscriptions, the delivery claim (row lock), attempts and the due-delivery sweep."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from enlace.webhooks.models import EntregaWebhook, IntentoWebhook, SuscripcionWebhook


async def listar_suscripciones(session: AsyncSession) -> Sequence[SuscripcionWebhook]:
    return (await session.scalars(select(SuscripcionWebhook).order_by(SuscripcionWebhook.id))).all()


async def obtener_suscripcion(session: AsyncSession, suscripcion_id: int) -> SuscripcionWebhook | None:
    return await session.get(SuscripcionWebhook, suscripcion_id)


async def reclamar_entrega(session: AsyncSession, entrega_id: int) -> tuple[EntregaWebhook, SuscripcionWebhook] | None:
    """Lock the delivery row for this attempt; None when another worker holds it right now."""
    stmt = (
        select(EntregaWebhook, SuscripcionWebhook)
        .join(SuscripcionWebhook, SuscripcionWebhook.id == EntregaWebhook.suscripcion_id)
        .where(EntregaWebhook.id == entrega_id)
        .with_for_update(of=EntregaWebhook, skip_locked=True)
    )
    fila = (await session.execute(stmt)).first()
    return (fila[0], fila[1]) if fila else None


async def existe_entrega(session: AsyncSession, entrega_id: int) -> bool:
    return await session.scalar(select(EntregaWebhook.id).where(EntregaWebhook.id == entrega_id)) is not None


def agregar_intento(session: AsyncSession, **valores: Any) -> None:
    session.add(IntentoWebhook(**valores))


async def entregas_vencidas(session: AsyncSession, ahora: datetime, limite: int = 500) -> list[int]:
    stmt = (
        select(EntregaWebhook.id)
        .where(
            EntregaWebhook.estado == "pendiente",
            or_(EntregaWebhook.proximo_intento_at.is_(None), EntregaWebhook.proximo_intento_at <= ahora),
        )
        .order_by(EntregaWebhook.proximo_intento_at.nulls_first(), EntregaWebhook.id)
        .limit(limite)
    )
    return list((await session.scalars(stmt)).all())


async def listar_entregas(
    session: AsyncSession, suscripcion_id: int, estado: str | None, limite: int
) -> Sequence[EntregaWebhook]:
    stmt = select(EntregaWebhook).where(EntregaWebhook.suscripcion_id == suscripcion_id)
    if estado:
        stmt = stmt.where(EntregaWebhook.estado == estado)
    return (await session.scalars(stmt.order_by(EntregaWebhook.id.desc()).limit(limite))).all()


async def intentos_de(session: AsyncSession, entrega_ids: list[int]) -> dict[int, list[IntentoWebhook]]:
    if not entrega_ids:
        return {}
    filas = (
        await session.scalars(
            select(IntentoWebhook)
            .where(IntentoWebhook.entrega_id.in_(entrega_ids))
            .order_by(IntentoWebhook.entrega_id, IntentoWebhook.numero)
        )
    ).all()
    resultado: dict[int, list[IntentoWebhook]] = {}
    for intento in filas:
        resultado.setdefault(intento.entrega_id, []).append(intento)
    return resultado


async def obtener_entrega(session: AsyncSession, entrega_id: int) -> EntregaWebhook | None:
    return await session.get(EntregaWebhook, entrega_id)
