"""procrastinate jobs: deliver one webhook (re-enqueued with backoff on failure) and sweep due deliveries.

The jobs live on the node's one procrastinate app (`enlace.tareas`), queue `webhooks`. The row lock in
`service.intentar_entrega` makes any number of workers safe: a delivery is posted by one of them at a
time and never again once it succeeded. A delivery job stalled by a dead worker is simply retried (the
same row lock and the delivery's state make a second run safe).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx
import structlog
from procrastinate import App
from procrastinate.exceptions import AlreadyEnqueued
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from enlace.reloj import Reloj
from enlace.tareas import Tareas
from enlace.tiempo_real import outbox
from enlace.webhooks import repository as repo
from enlace.webhooks.destinos import cliente_http
from enlace.webhooks.service import intentar_entrega

if TYPE_CHECKING:
    from enlace.nucleo import Nucleo

log = structlog.get_logger(__name__)

COLA = "webhooks"


@dataclass(slots=True)
class ContextoTareas:
    fabrica: async_sessionmaker[AsyncSession]
    reloj: Reloj
    http: httpx.AsyncClient


def _segundos_reales(reloj: Reloj, segundos_reloj: float) -> float:
    """The job queue runs on real time; an accelerated clock (simulator) shrinks the wait accordingly."""
    velocidad = float(getattr(reloj, "velocidad", 1.0) or 1.0)
    return max(0.0, segundos_reloj / velocidad)


def registrar_tareas(app: App, ctx: ContextoTareas) -> Any:
    """Define the webhook jobs on `app`; returns the async `encolar(ids)` used after commits."""

    @app.task(name="webhooks.entregar", queue=COLA)
    async def entregar(entrega_id: int) -> None:
        resultado = await intentar_entrega(ctx.fabrica, entrega_id, ctx.reloj, ctx.http)
        if resultado.proximo_intento_at is not None and resultado.estado in ("reintentar", "no_vence"):
            espera = (resultado.proximo_intento_at - ctx.reloj.ahora()).total_seconds()
            await encolar_una(entrega_id, _segundos_reales(ctx.reloj, espera))

    @app.periodic(cron="* * * * *", periodic_id="webhooks-barrido")
    @app.task(name="webhooks.barrer", queue=COLA, queueing_lock="webhooks-barrido")
    async def barrer(timestamp: int) -> None:
        """Safety net: enqueue due deliveries whose job was lost (crash between commit and enqueue)."""
        async with ctx.fabrica() as session:
            ids = await repo.entregas_vencidas(session, ctx.reloj.ahora())
        await encolar(ids)

    async def encolar_una(entrega_id: int, en_segundos: float = 0.0) -> None:
        opciones: dict[str, Any] = {"queueing_lock": f"webhook-{entrega_id}"}
        if en_segundos > 0:
            opciones["schedule_in"] = {"seconds": int(en_segundos) + 1}
        try:
            await entregar.configure(**opciones).defer_async(entrega_id=entrega_id)
        except AlreadyEnqueued:
            pass  # a job for this delivery is already waiting: one is enough

    async def encolar(ids: Iterable[int]) -> None:
        for entrega_id in ids:
            await encolar_una(entrega_id)

    return encolar


class ComponenteWebhooks:
    """Defines the webhook jobs on the node's app and connects the outbox to them (owns the HTTP client)."""

    def __init__(self, nucleo: Nucleo, tareas: Tareas) -> None:
        self.nucleo = nucleo
        self.http = cliente_http(nucleo.settings.webhooks_destinos_permitidos)
        ctx = ContextoTareas(fabrica=nucleo.fabrica, reloj=nucleo.reloj, http=self.http)
        self._encolar = tareas.registrar(COLA, lambda app: registrar_tareas(app, ctx))

    async def iniciar(self) -> None:
        outbox.reloj = self.nucleo.reloj
        outbox.al_crear_entregas = self._encolar

    async def detener(self) -> None:
        outbox.al_crear_entregas = None
        await self.http.aclose()
