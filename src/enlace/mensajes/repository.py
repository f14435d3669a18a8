"""The one way to change an outgoing message's status: `transicionar` (the database checks it again)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from enlace.mensajes.estados import ESTADOS, origenes
from enlace.mensajes.models import MensajeEnviado


class TransicionInvalida(ValueError):
    """A caller asked for a move the table does not have (a programming error, never user input)."""


@dataclass(frozen=True, slots=True)
class Movido:
    id: int
    campana_id: int | None
    agente_id: int


async def transicionar(
    session: AsyncSession,
    hacia: str,
    *,
    ids: Sequence[int] | None = None,
    donde: ColumnElement[bool] | None = None,
    desde: Iterable[str] | None = None,
    **valores: Any,
) -> list[Movido]:
    """Move the rows chosen by `ids` and/or `donde` to `hacia`, only from statuses that may reach it.

    `desde` narrows the starting statuses further (e.g. only `enviando`); asking for a move that is not
    in the table raises `TransicionInvalida`. Rows in any other status are left alone (a receipt may
    already have moved them on), so the caller reads the returned rows to know what changed.
    """
    if hacia not in ESTADOS:
        raise TransicionInvalida(f"estado desconocido: {hacia!r}")
    posibles = origenes(hacia)
    if desde is not None:
        pedidos = frozenset(desde)
        if not pedidos <= posibles:
            raise TransicionInvalida(f"{sorted(pedidos - posibles)} → {hacia} no está en la tabla de transiciones")
        posibles = pedidos
    if ids is None and donde is None:
        raise TransicionInvalida("transicionar necesita ids o una condición")
    condiciones: list[ColumnElement[bool]] = [MensajeEnviado.estado.in_(sorted(posibles))]
    if ids is not None:
        if not ids:
            return []
        condiciones.append(MensajeEnviado.id.in_(list(ids)))
    if donde is not None:
        condiciones.append(donde)
    stmt = (
        update(MensajeEnviado)
        .where(and_(*condiciones))
        .values(estado=hacia, **valores)
        .returning(MensajeEnviado.id, MensajeEnviado.campana_id, MensajeEnviado.agente_id)
        .execution_options(synchronize_session=False)
    )
    return [Movido(f[0], f[1], f[2]) for f in (await session.execute(stmt)).all()]


async def transicionar_uno(
    session: AsyncSession, mensaje_id: int, hacia: str, *, desde: Iterable[str] | None = None, **valores: Any
) -> bool:
    """`transicionar` for one row: True when it moved."""
    return bool(await transicionar(session, hacia, ids=[mensaje_id], desde=desde, **valores))


# The dispatcher LISTENs here; NOTIFY is delivered at commit, to every node (the session may live elsewhere).
CANAL_DESPACHO = "enlace_despacho"


async def avisar_despacho(session: AsyncSession, agente_id: int) -> None:
    """Wake the agent's dispatcher loop, wherever it runs, once this transaction commits."""
    await session.execute(
        text("SELECT pg_notify(:canal, :agente)"), {"canal": CANAL_DESPACHO, "agente": str(agente_id)}
    )


async def encolar_directo(session: AsyncSession, **valores: Any) -> int | None:
    """Queue a message outside any campaign (a reply, a confirmation): `pendiente`, due now, id pre-assigned.

    With a `clave_idempotencia`, a second row with the same key through the same number is not written
    (None is returned; the caller reads the first one). The dispatcher sends it through the same gate and
    the same claim as campaign rows.
    """
    valores = {"estado": "pendiente", "campana_id": None, **valores}
    stmt = (
        pg_insert(MensajeEnviado)
        .values(**valores)
        .on_conflict_do_nothing(
            index_elements=["agente_id", "clave_idempotencia"],
            index_where=text("clave_idempotencia IS NOT NULL"),
        )
        .returning(MensajeEnviado.id)
    )
    fila_id = await session.scalar(stmt)
    if fila_id is not None:
        await avisar_despacho(session, int(valores["agente_id"]))
    return fila_id
