"""A batching consumer: items queue up and are handed over in groups (by size or a short window), in order.

Capture uses it so a burst (history sync brings thousands of messages at once) becomes a few multi-row
statements and commits instead of one per event. Items sharing a partition key go to the same worker
and are processed strictly in arrival order, one batch at a time, which keeps per-message order.

Nothing is dropped because the database is away: a batch that fails with a connection-level error
(`es_transitorio`) is retried whole, with exponential backoff, until it commits. Meanwhile the bounded
queue fills and `poner` waits, which pushes back on whoever feeds it (the engines) instead of dropping.
Only an item that fails on its own with a non-transient error (a poison event) is logged and dropped.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from typing import Generic, TypeVar

import structlog
from sqlalchemy import exc as sa_exc

T = TypeVar("T")

log = structlog.get_logger(__name__)


@dataclass(slots=True)
class _Entrada(Generic[T]):
    item: T
    encolado: float  # time.monotonic() when queued (for latency figures, never for domain time)


@dataclass(slots=True)
class Estadisticas:
    lotes: int = 0
    items: int = 0
    fallos_lote: int = 0
    items_perdidos: int = 0
    mayor_lote: int = 0
    reintentos: int = 0  # batches retried because the database was unreachable


def describir(exc: BaseException) -> str:
    """The error for the log without the statement's parameters (they may hold message bodies and phones)."""
    origen = getattr(exc, "orig", None) or exc
    primera = (str(origen).strip().splitlines() or [""])[0]
    return f"{type(origen).__name__}: {primera[:200]}"


def es_transitorio(exc: BaseException) -> bool:
    """A failure of the connection, not of the data: the same batch will work once the database is back.

    Connection lost or refused, server shutting down or terminating backends, pool exhausted, deadlock or
    serialization failure (all `OperationalError` in psycopg), network timeouts.
    """
    if isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(
        exc, (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.TimeoutError, ConnectionError, TimeoutError)
    )


class ConsumidorPorLotes(Generic[T]):
    """Runs `procesar(lote)` over queued items; on a failed batch retries item by item.

    - `max_lote`: largest batch handed over at once.
    - `ventana_s`: once the first item of a batch is there, how long to wait for more (technical
      coalescing window, not a domain delay: it is plain event-loop time).
    - `particiones` + `clave`: items with the same key always go to the same worker, so their order holds;
      different keys may run in parallel.
    - `al_fallar(item, exc)`: called for an item that failed even alone (logged and dropped after that:
      one poison event must not stop capture).
    - `al_confirmar(entradas_latencias)`: optional hook with the seconds each item waited until processed.
    - `con_clave`: hand `procesar` a `clave_lote` that stays the same across retries of one batch.
    - `espera_inicial_s` / `espera_max_s`: backoff between retries of a batch the database could not take
      (technical retry timing on the event loop, not a domain delay). Retries go on until it commits; only
      once `detener` has been waiting `gracia_detener_s` does a shutdown give up (and count the loss).
    """

    def __init__(
        self,
        procesar: Callable[[list[T]], Awaitable[None]],
        *,
        max_lote: int = 500,
        ventana_s: float = 0.005,
        max_cola: int = 100_000,
        particiones: int = 1,
        clave: Callable[[T], Hashable] | None = None,
        al_fallar: Callable[[T, BaseException], Awaitable[None] | None] | None = None,
        al_procesar: Callable[[list[float]], None] | None = None,
        nombre: str = "lotes",
        espera_inicial_s: float = 0.05,
        espera_max_s: float = 5.0,
        gracia_detener_s: float = 30.0,
        con_clave: bool = False,
    ) -> None:
        if max_lote < 1 or particiones < 1:
            raise ValueError("max_lote y particiones deben ser al menos 1")
        self._procesar = procesar
        self.max_lote = max_lote
        self.ventana_s = ventana_s
        self._particiones = particiones
        self._clave = clave
        self._al_fallar = al_fallar
        self._al_procesar = al_procesar
        self._nombre = nombre
        self.espera_inicial_s = espera_inicial_s
        self.espera_max_s = espera_max_s
        self.gracia_detener_s = gracia_detener_s
        self._detener_desde: float | None = None
        # Call `procesar(items, clave_lote=...)` with one key per batch, the same on every retry of it, so
        # the receiver can tell a retry of a batch that did commit (the answer was lost) from a new one.
        self._con_clave = con_clave
        self._colas: list[asyncio.Queue[_Entrada[T] | None]] = [
            asyncio.Queue(maxsize=max_cola) for _ in range(particiones)
        ]
        self._tareas: list[asyncio.Task[None]] = []
        self.estadisticas = Estadisticas()

    @property
    def en_marcha(self) -> bool:
        return any(not t.done() for t in self._tareas)

    @property
    def pendientes(self) -> int:
        return sum(c.qsize() for c in self._colas)

    def iniciar(self) -> None:
        if self.en_marcha:
            return
        self._tareas = [
            asyncio.create_task(self._trabajar(cola), name=f"{self._nombre}-{i}") for i, cola in enumerate(self._colas)
        ]

    def _cola_de(self, item: T) -> asyncio.Queue[_Entrada[T] | None]:
        if self._particiones == 1 or self._clave is None:
            return self._colas[0]
        return self._colas[hash(self._clave(item)) % self._particiones]

    async def poner(self, item: T) -> None:
        """Queue one item; waits only when the queue is full (backpressure instead of unbounded memory)."""
        await self._cola_de(item).put(_Entrada(item, time.monotonic()))

    async def vaciar(self) -> None:
        """Wait until every item queued so far has been processed."""
        for cola in self._colas:
            await cola.join()

    async def detener(self) -> None:
        """Process what is queued, then stop the workers."""
        if not self._tareas:
            return
        self._detener_desde = time.monotonic()
        for cola in self._colas:
            await cola.put(None)
        await asyncio.gather(*self._tareas, return_exceptions=True)
        self._tareas = []
        self._detener_desde = None

    async def _trabajar(self, cola: asyncio.Queue[_Entrada[T] | None]) -> None:
        loop = asyncio.get_running_loop()
        while True:
            primera = await cola.get()
            if primera is None:
                cola.task_done()
                return
            lote = [primera]
            fin = False
            limite = loop.time() + self.ventana_s
            while len(lote) < self.max_lote:
                try:
                    siguiente = cola.get_nowait()
                except asyncio.QueueEmpty:
                    restante = limite - loop.time()
                    if restante <= 0:
                        break
                    try:
                        siguiente = await asyncio.wait_for(cola.get(), restante)
                    except TimeoutError:
                        break
                if siguiente is None:
                    fin = True
                    cola.task_done()
                    break
                lote.append(siguiente)
            try:
                await self._procesar_lote(lote)
            finally:
                for _ in lote:
                    cola.task_done()
            if fin:
                return

    async def _procesar_lote(self, lote: list[_Entrada[T]]) -> None:
        items = [e.item for e in lote]
        est = self.estadisticas
        try:
            await self._con_reintentos(items)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            est.fallos_lote += 1
            if len(items) == 1:
                await self._fallo(items[0], exc)
            else:
                log.warning(
                    "lote_fallido_reintento_individual",
                    consumidor=self._nombre,
                    items=len(items),
                    error=describir(exc),
                )
                for item in items:
                    try:
                        await self._con_reintentos([item])
                    except asyncio.CancelledError:
                        raise
                    except Exception as exc_item:
                        await self._fallo(item, exc_item)
        est.lotes += 1
        est.items += len(items)
        est.mayor_lote = max(est.mayor_lote, len(items))
        if self._al_procesar is not None:
            ahora = time.monotonic()
            self._al_procesar([ahora - e.encolado for e in lote])

    async def _con_reintentos(self, items: list[T]) -> None:
        """`procesar(items)`, retried with backoff while the failure is the database's, not the data's."""
        espera = self.espera_inicial_s
        clave = uuid.uuid4().hex
        while True:
            try:
                if self._con_clave:
                    await self._procesar(items, clave_lote=clave)  # type: ignore[call-arg]
                else:
                    await self._procesar(items)
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if not es_transitorio(exc) or self._rendirse():
                    raise
                self.estadisticas.reintentos += 1
                log.warning(
                    "lote_reintento_bd",
                    consumidor=self._nombre,
                    items=len(items),
                    espera_s=espera,
                    error=describir(exc),
                )
                await asyncio.sleep(espera)
                espera = min(espera * 2, self.espera_max_s)

    def _rendirse(self) -> bool:
        """Only a shutdown that has waited long enough for the database stops retrying."""
        return self._detener_desde is not None and time.monotonic() - self._detener_desde > self.gracia_detener_s

    async def _fallo(self, item: T, exc: BaseException) -> None:
        self.estadisticas.items_perdidos += 1
        log.error("item_descartado", consumidor=self._nombre, error=describir(exc))
        if self._al_fallar is not None:
            try:
                resultado = self._al_fallar(item, exc)
                if resultado is not None:
                    await resultado
            except Exception:
                log.exception("al_fallar_fallo", consumidor=self._nombre)
