"""Delivery watchdog: a message still `enviado` long after it left was probably never delivered.

A send to an id nobody is registered under is accepted by WhatsApp and never delivered, with no error;
neither are messages to a phone that is off for days. After `acuse_plazo_horas` without a delivery
receipt the row is flagged (`sin_acuse_at`), shown in reports and on the wall, and the contact's number
is marked for a fresh lookup (the jid it was resolved to may be wrong or gone). A late receipt still
moves the row on.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession


async def marcar_sin_acuse(
    s: AsyncSession, ahora: datetime, plazo: timedelta, *, limite: int = 5000
) -> dict[int, list[tuple[int, int | None]]]:
    """Flag overdue rows once; returns per agent the flagged (mensaje id, campana id)."""
    filas = (
        await s.execute(
            text(
                """UPDATE mensajes_enviados SET sin_acuse_at = :ahora
                    WHERE id IN (SELECT id FROM mensajes_enviados
                                  WHERE estado = 'enviado' AND sin_acuse_at IS NULL AND enviado_at < :limite_t
                                  ORDER BY enviado_at LIMIT :limite FOR UPDATE SKIP LOCKED)
                RETURNING id, agente_id, campana_id, contacto_id"""
            ),
            {"ahora": ahora, "limite_t": ahora - plazo, "limite": limite},
        )
    ).all()
    contactos = sorted({r[3] for r in filas if r[3] is not None})
    if contactos:
        # Re-check those numbers: the lookup's answer is no longer trusted (en_whatsapp stays as history).
        await s.execute(
            text(
                "UPDATE contactos SET wa_verificado_at = NULL"
                " WHERE id = ANY(CAST(:ids AS integer[])) AND en_whatsapp IS NOT NULL"
            ),
            {"ids": contactos},
        )
    por_agente: dict[int, list[tuple[int, int | None]]] = defaultdict(list)
    for mensaje_id, agente_id, campana_id, _ in filas:
        por_agente[agente_id].append((mensaje_id, campana_id))
    return dict(por_agente)
