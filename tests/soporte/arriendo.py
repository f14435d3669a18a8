"""Give a test node the lease of an agent's session, as the SessionManager would (the dispatcher claims under it)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text


async def arrendar(fabrica: Any, agente_id: int, nodo_id: str = "prueba", motor: str = "simulador") -> int:
    """This node holds the agent's session (live for a day, `conectada`); returns the new fencing token."""
    async with fabrica() as s:
        token = await s.scalar(
            text(
                """INSERT INTO sesiones_wa (agente_id, motor, estado, nodo_id, lease_expira_at, fencing_token)
                   VALUES (:a, :m, 'conectada', :n, now() + interval '1 day', 1)
                   ON CONFLICT (agente_id) DO UPDATE SET nodo_id = EXCLUDED.nodo_id, estado = 'conectada',
                          lease_expira_at = EXCLUDED.lease_expira_at, fencing_token = sesiones_wa.fencing_token + 1
                   RETURNING fencing_token"""
            ),
            {"a": agente_id, "m": motor, "n": nodo_id},
        )
        await s.commit()
    return int(token)
