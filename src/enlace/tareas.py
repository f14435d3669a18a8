"""Background jobs: the one procrastinate app, this node's one worker, per-domain registration, stalled-job rescue.

Each domain with jobs has a `tasks.py` that defines them on `Tareas.app` and names its queue
(`tareas.registrar(cola, ...)`); the composition root (`enlace.nucleo`) builds one `Tareas`, lets every
domain register, and starts it last, so the worker only begins once every job is defined.

A job in `doing` whose worker stopped sending heartbeats (the process was killed, the machine died) is
*stalled*: procrastinate alone would leave it `doing` forever. Every minute, and when a worker starts,
`rescatar_atascadas()` looks for such jobs. A domain may register a handler for its task
(`al_atascarse`) that repairs its own rows and decides: retry (the job goes back to `todo` and runs again)
or give up (the job becomes `failed`, and the handler has stored a Spanish reason for the user). Without
a handler a stalled job is retried up to `MAX_RESCATES` times.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import structlog
from procrastinate import App, PsycopgConnector
from procrastinate.jobs import Job, Status

from enlace.db.sesion import url_libpq

log = structlog.get_logger(__name__)

COLA_TAREAS = "tareas"
# A worker heartbeats every 10 s and is considered dead after 30 s without one (procrastinate's defaults).
SEGUNDOS_SIN_LATIDO = 30.0
MAX_RESCATES = 3

# (the stalled job, how many times it already ran) -> True to retry it, False to give up.
AlAtascarse = Callable[[Job, int], Awaitable[bool]]


def crear_app(database_url: str, *, max_conexiones: int = 4) -> App:
    """The procrastinate app on Enlace's database (its tables come with migration 0001)."""
    return App(connector=PsycopgConnector(conninfo=url_libpq(database_url), min_size=1, max_size=max_conexiones))


@dataclass(slots=True)
class Rescate:
    """What `rescatar_atascadas` did with each stalled job (for logs and tests)."""

    reintentados: list[int] = field(default_factory=list)
    abandonados: list[int] = field(default_factory=list)


class Tareas:
    """The node's job queue: one app, one worker over every registered queue, and the stalled-job rescue."""

    def __init__(
        self,
        database_url: str,
        *,
        nodo_id: str = "local",
        concurrencia: int = 4,
        segundos_sin_latido: float = SEGUNDOS_SIN_LATIDO,
    ) -> None:
        self.app = crear_app(database_url, max_conexiones=concurrencia + 2)
        self.nodo_id = nodo_id
        self.concurrencia = concurrencia
        self.segundos_sin_latido = segundos_sin_latido
        self.colas: list[str] = [COLA_TAREAS]
        self._al_atascarse: dict[str, AlAtascarse] = {}
        self._tarea: asyncio.Task[None] | None = None
        self.abierta = False
        self._definir_rescate()

    # ---- registration (before iniciar) ------------------------------------------------------------

    def registrar(self, cola: str, definir: Callable[[App], Any] | None = None) -> Any:
        """A domain's queue joins the worker; `definir(app)` defines its jobs. Returns what `definir` returns."""
        if self._tarea is not None:
            raise RuntimeError("las tareas se registran antes de iniciar el trabajador")
        if cola not in self.colas:
            self.colas.append(cola)
        return definir(self.app) if definir is not None else None

    def al_atascarse(self, tarea: str, manejador: AlAtascarse) -> None:
        """Who repairs a stalled job of `tarea` (a task name such as 'carteras.importar')."""
        self._al_atascarse[tarea] = manejador

    def _definir_rescate(self) -> None:
        @self.app.periodic(cron="* * * * *", periodic_id="tareas-rescatar")
        @self.app.task(name="tareas.rescatar", queue=COLA_TAREAS, queueing_lock="tareas-rescatar")
        async def rescatar(timestamp: int) -> None:
            await self.rescatar_atascadas()

    # ---- the rescue -------------------------------------------------------------------------------

    async def rescatar_atascadas(self) -> Rescate:
        """Retry or give up every job left `doing` by a worker that stopped sending heartbeats."""
        gestor = self.app.job_manager
        # Dead workers are deleted first, which detaches their jobs (worker_id becomes NULL).
        await gestor.prune_stalled_workers(self.segundos_sin_latido)
        resultado = Rescate()
        for trabajo in await gestor.get_stalled_jobs(seconds_since_heartbeat=self.segundos_sin_latido):
            assert trabajo.id is not None
            corridas = trabajo.attempts + 1  # `attempts` counts earlier retries; this run counts too
            manejador = self._al_atascarse.get(trabajo.task_name)
            try:
                reintentar = await manejador(trabajo, corridas) if manejador else corridas < MAX_RESCATES
            except Exception:
                log.exception("rescate_fallo", trabajo_id=trabajo.id, tarea=trabajo.task_name)
                continue  # the next round tries again; the job stays stalled meanwhile, never half-repaired
            try:
                if reintentar:
                    await gestor.retry_job(trabajo)
                    resultado.reintentados.append(trabajo.id)
                else:
                    await gestor.finish_job(trabajo, status=Status.FAILED, delete_job=False)
                    resultado.abandonados.append(trabajo.id)
            except Exception:
                # Another node's rescue got there first (the job is no longer `doing`): nothing to do.
                log.info("rescate_ya_hecho", trabajo_id=trabajo.id)
                continue
            log.warning(
                "trabajo_atascado_rescatado",
                trabajo_id=trabajo.id,
                tarea=trabajo.task_name,
                corridas=corridas,
                reintentado=reintentar,
            )
        return resultado

    # ---- lifecycle (a Nucleo component) -----------------------------------------------------------

    async def abrir(self) -> None:
        if not self.abierta:
            await self.app.open_async()
            self.abierta = True

    async def iniciar(self) -> None:
        await self.abrir()
        try:
            await self.rescatar_atascadas()  # a restarted node repairs what its previous life left behind
        except Exception:
            log.exception("rescate_inicial_fallo")
        self._tarea = asyncio.create_task(
            self.app.run_worker_async(
                queues=list(self.colas),
                name=f"enlace-{self.nodo_id}",
                concurrency=self.concurrencia,
                install_signal_handlers=False,
                fetch_job_polling_interval=2.0,
            ),
            name="trabajador-tareas",
        )

    async def correr_pendientes(self) -> None:
        """Run every due job once and return (tests, one-off commands); the app must be open."""
        await self.app.run_worker_async(queues=list(self.colas), wait=False, install_signal_handlers=False)

    async def detener(self) -> None:
        if self._tarea is not None:
            self._tarea.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._tarea
            self._tarea = None
        if self.abierta:
            await self.app.close_async()
            self.abierta = False
