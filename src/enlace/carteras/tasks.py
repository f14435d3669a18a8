"""Background jobs for carteras: large imports, the periodic return of idle assignments, stalled imports.

The jobs live on the node's one procrastinate app (`enlace.tareas`), queue `carteras`. Without a job
queue (tests, one-off scripts) a large import still runs, as a task of the current process.

An import is one database transaction: a worker killed in the middle (at 82 %, say) leaves no contact
written, only the progress figure. The stalled-job rescue then starts the import over from the stored
file; after `MAX_CORRIDAS` runs that never finished it marks the import `fallida` with a Spanish reason.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import structlog
from procrastinate import App
from procrastinate.jobs import Job

from enlace.carteras import repository as repo
from enlace.carteras import service
from enlace.db.sesion import transaccion, url_libpq
from enlace.reloj import Reloj
from enlace.settings import Settings
from enlace.tareas import Tareas

if TYPE_CHECKING:
    from enlace.nucleo import Nucleo

log = structlog.get_logger(__name__)

COLA = "carteras"
TAREA_IMPORTAR = "carteras.importar"
# Runs of one import that may end with the worker dead before it gives up (a file that kills the
# worker every time, e.g. out of memory, must not be retried forever).
MAX_CORRIDAS = 3
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


async def encolar_importacion(
    importacion_id: int, *, tareas: Tareas | None, database_url: str, settings: Settings, reloj: Reloj
) -> None:
    """Called after the upload commits: a job when this node has the job queue, else a task in this process."""
    if tareas is not None and tareas.abierta:
        await tareas.app.configure_task(TAREA_IMPORTAR).defer_async(importacion_id=importacion_id)
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


def registrar(tareas: Tareas, nucleo: Nucleo) -> None:
    """Define the carteras jobs on the node's app and handle its stalled imports."""

    def definir(app: App) -> None:
        @app.task(name=TAREA_IMPORTAR, queue=COLA, retry=2)
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

    async def importacion_atascada(trabajo: Job, corridas: int) -> bool:
        importacion_id = int(str(trabajo.task_kwargs["importacion_id"]))
        async with transaccion(nucleo.fabrica) as session:
            return await repo.rescatar_importacion(
                session, importacion_id, corridas=corridas, maximo=MAX_CORRIDAS, ahora=nucleo.reloj.ahora()
            )

    tareas.registrar(COLA, definir)
    tareas.al_atascarse(TAREA_IMPORTAR, importacion_atascada)
