"""All SQL for agents and teams (scoped by the actor)."""

from __future__ import annotations

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from enlace.agentes.models import Agente, Equipo
from enlace.comun.actor import Actor
from enlace.comun.alcance import filtrar


async def listar_agentes(session: AsyncSession, actor: Actor, equipo_id: int | None = None) -> list[Agente]:
    stmt = filtrar(select(Agente).order_by(Agente.id), actor, Agente.id)
    if equipo_id is not None:
        stmt = stmt.where(Agente.equipo_id == equipo_id)
    return list(await session.scalars(stmt))


async def obtener_agente(session: AsyncSession, actor: Actor, agente_id: int) -> Agente | None:
    return await session.scalar(filtrar(select(Agente).where(Agente.id == agente_id), actor, Agente.id))


async def listar_equipos(session: AsyncSession, actor: Actor) -> list[Equipo]:
    stmt = select(Equipo).order_by(Equipo.id)
    if actor.es_supervisor:
        stmt = stmt.where(Equipo.id.in_(actor.equipo_ids or (-1,)))
    elif actor.es_agente:
        stmt = stmt.where(Equipo.id.in_(select(Agente.equipo_id).where(Agente.id == actor.agente_id)))
    return list(await session.scalars(stmt))


async def rol_de_usuario(session: AsyncSession, usuario_id: int) -> str | None:
    """The role of a user, or None; read by table name (auth sits above agentes in the layers)."""
    rol: str | None = await session.scalar(text("SELECT rol FROM usuarios WHERE id = :u"), {"u": usuario_id})
    return rol
