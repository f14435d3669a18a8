"""The webhook outbox: events buffered in a transaction become delivery rows in that same transaction.

`tiempo_real.emitir` calls `registrar`; just before the session commits, one INSERT…SELECT per event
creates a `webhook_entregas` row for every active subscription that wants it. A rollback discards
both the realtime event and the deliveries; a commit makes them durable together, and only then are
the delivery jobs enqueued.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import structlog
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from enlace.comun.eventos import EVENTOS_WEBHOOK
from enlace.db.sesion import al_confirmar
from enlace.reloj import Reloj, RelojReal

log = structlog.get_logger(__name__)

_CLAVE = "enlace_webhooks_pendientes"

# Set by the running node (webhooks component); tests may replace it.
reloj: Reloj = RelojReal()
# Called after commit with the new delivery ids (enqueues the jobs); None = the sweeper finds them.
al_crear_entregas: Callable[[list[int]], Awaitable[None]] | None = None

SQL_SUSCRIPCIONES = text("SELECT id, eventos FROM webhook_suscripciones WHERE activa ORDER BY id")
SQL_INSERTAR = text(
    """
    INSERT INTO webhook_entregas (suscripcion_id, evento, evento_id, cuerpo)
    SELECT s, e, CAST(i AS uuid), c
    FROM unnest(CAST(:s AS integer[]), CAST(:e AS varchar[]), CAST(:i AS text[]), CAST(:c AS text[]))
         AS x(s, e, i, c)
    ON CONFLICT (suscripcion_id, evento_id) WHERE reenvio_de_id IS NULL DO NOTHING
    RETURNING id
    """
)


def cuerpo_evento(evento: str, datos: dict[str, Any], evento_id: str, ahora: datetime) -> str:
    """The exact JSON text that is stored, signed and sent (kept byte-for-byte for replays)."""
    return json.dumps(
        {"id": evento_id, "evento": evento, "creado": ahora.astimezone(UTC).isoformat(), "datos": datos},
        ensure_ascii=False,
        separators=(",", ":"),
        default=str,
    )


def registrar(session: AsyncSession, evento: str, datos: dict[str, Any], evento_id: str) -> None:
    """Buffer an event for the outbox of `session` (called by `tiempo_real.emitir`)."""
    if evento not in EVENTOS_WEBHOOK:
        return
    session.sync_session.info.setdefault(_CLAVE, []).append((evento, datos, evento_id, reloj.ahora()))


@event.listens_for(Session, "before_commit")
def _antes_de_commit(sync_session: Session) -> None:
    pendientes = sync_session.info.pop(_CLAVE, None)
    if not pendientes:
        return
    # Two statements per commit whatever the number of events (a history sync emits thousands).
    suscripciones = sync_session.execute(SQL_SUSCRIPCIONES).all()
    if not suscripciones:
        return
    # proximo_intento_at stays NULL: due now, whatever clock the worker runs on.
    columnas: dict[str, list[Any]] = {"s": [], "e": [], "i": [], "c": []}
    for evento, datos, evento_id, ahora in pendientes:
        cuerpo: str | None = None
        for suscripcion_id, eventos in suscripciones:
            if evento in eventos or "*" in eventos:
                cuerpo = cuerpo or cuerpo_evento(evento, datos, evento_id, ahora)
                for clave, valor in zip("seic", (suscripcion_id, evento, evento_id, cuerpo), strict=True):
                    columnas[clave].append(valor)
    if not columnas["s"]:
        return
    ids = [f[0] for f in sync_session.execute(SQL_INSERTAR, columnas)]
    if ids and al_crear_entregas is not None:
        encolar = al_crear_entregas
        al_confirmar(SimpleNamespace(sync_session=sync_session), lambda: encolar(ids))  # type: ignore[arg-type]


@event.listens_for(Session, "after_soft_rollback")
def _despues_de_rollback(sync_session: Session, _transaccion: Any) -> None:
    sync_session.info.pop(_CLAVE, None)
