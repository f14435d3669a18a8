"""Background jobs for carteras: large imports and the periodic return of idle assignments to the pool.

Each node runs a small procrastinate worker on the `carteras` queue. Without a running worker (tests,
one-off scripts) a large import still runs, as a task of the current process.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING, Any

import structlog
from procrastinate import App, PsycopgConnector

from enlace.carteras import service
from enlace.db.sesion import transaccion, url_libpq
from enlace.reloj import Reloj
from enlace.settings import Settings

if TYPE_CHECKING:
    from enlace.nucleo import Nucleo

log = structlog.get_logger(__name__)

COLA = "carteras"
_componente: ComponenteCarteras | None = None
_TAREAS: set[asyncio.Task[Any]] = set()


async def procesar(importacion_id: int, *, database_url: str, settings: Settings, reloj: Reloj) -> str:
    """Run a stored import off the event loop (parsing a million rows must not stall the server)."""
    return await asyncio.to_thread(
        service.procesar_importacion_guardada,
        url_libpq(database_url),
        importacion_id,
        ahora=reloj.ahora(),
        opciones=service.opciones_de(settings),
    )


async def encolar_importacion(importacion_id: int, *, database_url: str, settings: Settings, reloj: Reloj) -> None:
    """Called after the upload commits: a job when this node runs a worker, else a task in this process."""
    if _componente is not None and _componente.importar is not None:
        await _componente.importar.defer_async(importacion_id=importacion_id)
        return

    async def correr() -> None:
        try:
            await procesar(importacion_id, database_url=database_url, settings=settings, reloj=reloj)
        except Exception:
            log.exception("importacion_en_proceso_fallo", importacion_id=importacion_id)

    tarea = asyncio.create_task(correr(), name=f"importacion-{importacion_id}")
    _TAREAS.add(tarea)
    tarea.add_done_callback(_TAREAS.discard)


async def esperar_importaciones() -> None:
    """Wait for in-process imports (tests, graceful shutdown)."""
    while _TAREAS:
        await asyncio.gather(*list(_TAREAS), return_exceptions=True)


class ComponenteCarteras:
    """This node's carteras worker: imports and the expiry sweep."""

    def __init__(self, nucleo: Nucleo, *, concurrencia: int = 1) -> None:
        self.nucleo = nucleo
        self.concurrencia = concurrencia
        self.app: App | None = None
        self.importar: Any = None
        self._tarea: asyncio.Task[None] | None = None

    def _registrar(self, app: App) -> None:
        nucleo = self.nucleo

        @app.task(name="carteras.importar", queue=COLA, retry=2)
        async def importar(importacion_id: int) -> None:
            await procesar(
                importacion_id, database_url=nucleo.database_url, settings=nucleo.settings, reloj=nucleo.reloj
            )

        @app.periodic(cron="*/10 * * * *", periodic_id="carteras-expirar")
        @app.task(name="carteras.expirar", queue=COLA, queueing_lock="carteras-expirar")
        async def expirar(timestamp: int) -> None:
            async with transaccion(nucleo.fabrica) as session:
                await service.expirar_asignaciones(
                    session, ahora=nucleo.reloj.ahora(), dias=nucleo.settings.asignacion_expira_dias
                )

        self.importar = importar

    async def iniciar(self) -> None:
        global _componente
        self.app = App(connector=PsycopgConnector(conninfo=url_libpq(self.nucleo.database_url), min_size=1, max_size=3))
        self._registrar(self.app)
        await self.app.open_async()
        _componente = self
        self._tarea = asyncio.create_task(
            self.app.run_worker_async(
                queues=[COLA],
                name=f"carteras-{self.nucleo.nodo_id}",
                concurrency=self.concurrencia,
                install_signal_handlers=False,
                fetch_job_polling_interval=2.0,
            )
        )

    async def detener(self) -> None:
        global _componente
        if _componente is self:
            _componente = None
        if self._tarea is not None:
            self._tarea.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._tarea
        if self.app is not None:
            await self.app.close_async()
