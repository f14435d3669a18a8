"""Background compliance work: the daily retention run (one node at a time, on the injected clock)."""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING

import structlog
from sqlalchemy import text

from enlace.db.sesion import transaccion

if TYPE_CHECKING:
    from enlace.nucleo import Nucleo

log = structlog.get_logger(__name__)

# Any constant works; it only has to differ from the phone locks (those hash the phone).
CLAVE_RETENCION = 0x656E6C6163657265  # "enlacere"
INTERVALO_S = 24 * 3600


class ComponenteRetencion:
    """Clears message bodies older than `retencion_dias` once at start and then every day.

    Several nodes may run it: a transaction-level try-lock lets one of them do the work and the others
    skip that round. The work is idempotent, so a crash only delays it to the next round.
    """

    def __init__(self, nucleo: Nucleo) -> None:
        self.nucleo = nucleo
        self._tarea: asyncio.Task[None] | None = None

    async def iniciar(self) -> None:
        self._tarea = asyncio.create_task(self._bucle(), name="retencion")

    async def detener(self) -> None:
        if self._tarea is not None:
            self._tarea.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._tarea

    async def ejecutar_una_vez(self) -> dict[str, object] | None:
        """One round; None when another node holds the retention lock."""
        from enlace.cumplimiento.service import aplicar_retencion

        async with transaccion(self.nucleo.fabrica) as session:
            libre = await session.scalar(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": CLAVE_RETENCION})
            if not libre:
                return None
            return await aplicar_retencion(
                session, ahora=self.nucleo.reloj.ahora(), actor=None, settings=self.nucleo.settings
            )

    async def _bucle(self) -> None:
        while True:
            try:
                resultado = await self.ejecutar_una_vez()
                if resultado and (resultado["mensajes_enviados"] or resultado["mensajes_recibidos"]):
                    log.info("retencion_aplicada", **{k: v for k, v in resultado.items() if k != "antes_de"})
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("retencion_fallo")
            await self.nucleo.reloj.dormir(INTERVALO_S)
