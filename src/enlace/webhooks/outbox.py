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

from enlace.db.sesion import al_confirmar
from enlace.reloj import Reloj, RelojReal
from enlace.webhooks.schemas import EVENTOS_WEBHOOK

log = structlog.get_logger(__name__)

_CLAVE = "enlace_webhooks_pendientes"

# Set by the running node (webhooks component); tests may replace it.
reloj: Reloj = RelojReal()
# Called after commit with the new delivery ids (enqueues the jobs); None = the sweeper finds them.
al_crear_entregas: Callable[[list[int]], Awaitable[None]] | None = None

SQL_INSERTAR = text(
    """
    INSERT INTO webhook_entregas (suscripcion_id, evento, evento_id, cuerpo, proximo_intento_at)
    SELECT s.id, CAST(:evento AS varchar), CAST(:evento_id AS uuid), CAST(:cuerpo AS text), CAST(:ahora AS timestamptz)
    FROM webhook_suscripciones s
    WHERE s.activa AND (CAST(:evento AS varchar) = ANY(s.eventos) OR '*' = ANY(s.eventos))
    ORDER BY s.id
    ON CONFLICT (suscripcion_id, evento_id) WHERE reenvio_de_id IS NULL DO NOTHING
    RETURNING id
    """
)


SQL_INSERTAR_LOTE = text(
    """
    INSERT INTO webhook_entregas (suscripcion_id, evento, evento_id, cuerpo, proximo_intento_at)
    SELECT s.id, v.evento, v.evento_id, v.cuerpo, v.ahora
    FROM unnest(CAST(:eventos AS varchar[]), CAST(:ids AS uuid[]), CAST(:cuerpos AS text[]),
                CAST(:ahoras AS timestamptz[])) WITH ORDINALITY AS v(evento, evento_id, cuerpo, ahora, n)
    JOIN webhook_suscripciones s ON s.activa AND (v.evento = ANY(s.eventos) OR '*' = ANY(s.eventos))
    ORDER BY v.n, s.id
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
    # One statement for the whole transaction (capture commits hundreds of events per batch).
    filas = sync_session.execute(
        SQL_INSERTAR_LOTE,
        {
            "eventos": [p[0] for p in pendientes],
            "ids": [p[2] for p in pendientes],
            "cuerpos": [cuerpo_evento(ev, datos, ev_id, ahora) for ev, datos, ev_id, ahora in pendientes],
            "ahoras": [p[3] for p in pendientes],
        },
    )
    ids: list[int] = [f[0] for f in filas]
    if ids and al_crear_entregas is not None:
        encolar = al_crear_entregas
        al_confirmar(SimpleNamespace(sync_session=sync_session), lambda: encolar(ids))  # type: ignore[arg-type]


@event.listens_for(Session, "after_soft_rollback")
def _despues_de_rollback(sync_session: Session, _transaccion: Any) -> None:
    sync_session.info.pop(_CLAVE, None)
