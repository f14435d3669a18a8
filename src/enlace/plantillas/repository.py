"""SQL for templates, scoped by the actor: own and shared templates, a team's for supervisors."""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from enlace.carteras.models import Contacto
from enlace.comun.actor import Actor
from enlace.comun.alcance import condicion_agente
from enlace.plantillas.models import Plantilla


def _visible(actor: Actor):  # type: ignore[no-untyped-def]
    return or_(Plantilla.agente_id.is_(None), condicion_agente(actor, Plantilla.agente_id))


async def listar(session: AsyncSession, actor: Actor, *, solo_activas: bool = False) -> list[Plantilla]:
    stmt = select(Plantilla).where(_visible(actor)).order_by(Plantilla.id)
    if solo_activas:
        stmt = stmt.where(Plantilla.activa.is_(True))
    return list((await session.scalars(stmt)).all())


async def obtener(session: AsyncSession, actor: Actor, plantilla_id: int) -> Plantilla | None:
    return await session.scalar(select(Plantilla).where(Plantilla.id == plantilla_id, _visible(actor)))


async def contactos_para_previa(
    session: AsyncSession, actor: Actor, *, cartera_id: int | None, contacto_ids: list[int] | None, limite: int
) -> list[Contacto]:
    stmt = select(Contacto).where(condicion_agente(actor, Contacto.agente_id), Contacto.estado != "anonimizado")
    if cartera_id is not None:
        stmt = stmt.where(Contacto.cartera_id == cartera_id)
    if contacto_ids:
        stmt = stmt.where(Contacto.id.in_(contacto_ids))
    return list((await session.scalars(stmt.order_by(Contacto.id).limit(limite))).all())
