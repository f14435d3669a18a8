"""Data scoping: an agent sees its own rows, a supervisor its teams', an admin everything."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, column, false, select, table, true
from sqlalchemy.ext.asyncio import AsyncSession

from enlace.comun.actor import Actor
from enlace.errores import NoEncontrado, Prohibido

# The core reads the two columns it needs to scope by team, without importing the agentes domain's model.
Agente = table("agentes", column("id"), column("equipo_id")).c


def condicion_agente(actor: Actor, columna_agente: Any) -> ColumnElement[bool]:
    """SQL condition limiting `columna_agente` (an agente_id column) to what `actor` may see."""
    if actor.es_admin:
        return true()
    if actor.es_supervisor:
        if not actor.equipo_ids:
            return false()
        return columna_agente.in_(select(Agente.id).where(Agente.equipo_id.in_(actor.equipo_ids)))
    if actor.agente_id is None:
        return false()
    return columna_agente == actor.agente_id


def filtrar(stmt: Select[Any], actor: Actor, columna_agente: Any) -> Select[Any]:
    return stmt.where(condicion_agente(actor, columna_agente))


async def puede_ver_agente(session: AsyncSession, actor: Actor, agente_id: int | None) -> bool:
    if actor.es_admin:
        return True
    if agente_id is None:
        return False
    if actor.es_agente:
        return actor.agente_id == agente_id
    equipo = await session.scalar(select(Agente.equipo_id).where(Agente.id == agente_id))
    return equipo is not None and equipo in actor.equipo_ids


async def exigir_agente(session: AsyncSession, actor: Actor, agente_id: int) -> None:
    """Raise 404 when the agent does not exist or is outside the actor's scope (no existence leak)."""
    existe = await session.scalar(select(Agente.id).where(Agente.id == agente_id))
    if existe is None or not await puede_ver_agente(session, actor, agente_id):
        raise NoEncontrado("El agente no existe o no tienes acceso a él.")


def exigir_rol(actor: Actor, *roles: str) -> None:
    if actor.rol not in roles:
        raise Prohibido("Tu rol no permite esta acción.")
