"""Injected clocks: every delay, window and cap in Enlace reads one of these."""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Reloj(Protocol):
    def ahora(self) -> datetime:
        """Current time, timezone-aware UTC."""
        ...

    async def dormir(self, segundos: float) -> None:
        """Wait `segundos` of this clock's time."""
        ...


class RelojReal:
    def ahora(self) -> datetime:
        return datetime.now(UTC)

    async def dormir(self, segundos: float) -> None:
        await asyncio.sleep(max(0.0, segundos))


class RelojAcelerado:
    """Wall time scaled by `velocidad` (600 = ten minutes per real second) from an anchor.

    The anchor is (a virtual instant, the real epoch second it corresponds to). A restarted process
    that reuses the stored anchor (`anclar`) continues forward instead of jumping back in time.
    """

    def __init__(self, velocidad: float, inicio: datetime | None = None, origen_real: float | None = None) -> None:
        if velocidad <= 0:
            raise ValueError("velocidad debe ser positiva")
        self.velocidad = velocidad
        self.inicio = inicio or datetime.now(UTC)
        self.origen_real = origen_real if origen_real is not None else time.time()

    def anclar(self, inicio: datetime, origen_real: float) -> None:
        self.inicio = inicio
        self.origen_real = origen_real

    def ahora(self) -> datetime:
        return self.inicio + timedelta(seconds=(time.time() - self.origen_real) * self.velocidad)

    async def dormir(self, segundos: float) -> None:
        await asyncio.sleep(max(0.0, segundos) / self.velocidad)


class RelojManual:
    """Virtual clock for tests: time moves only through `avanzar`; sleepers wake in order."""

    def __init__(self, inicio: datetime | None = None) -> None:
        self._ahora = inicio or datetime(2026, 11, 23, 15, 0, tzinfo=UTC)  # a Monday, 09:00 in CDMX
        self._dormidos: list[tuple[datetime, int, asyncio.Future[None]]] = []
        self._contador = itertools.count()

    def ahora(self) -> datetime:
        return self._ahora

    async def dormir(self, segundos: float) -> None:
        if segundos <= 0:
            await asyncio.sleep(0)
            return
        futuro: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._dormidos, (self._ahora + timedelta(seconds=segundos), next(self._contador), futuro))
        await futuro

    @property
    def proximo_despertar(self) -> datetime | None:
        vivos = [d for d in self._dormidos if not d[2].done()]
        return min(vivos)[0] if vivos else None

    async def avanzar(self, segundos: float) -> None:
        """Move time forward, waking every sleeper due on the way, in time order."""
        destino = self._ahora + timedelta(seconds=segundos)
        while self._dormidos and self._dormidos[0][0] <= destino:
            cuando, _, futuro = heapq.heappop(self._dormidos)
            if futuro.done():
                continue
            self._ahora = max(self._ahora, cuando)
            futuro.set_result(None)
            # Let the woken task run (and maybe go back to sleep) before moving on.
            for _ in range(5):
                await asyncio.sleep(0)
        self._ahora = destino
        for _ in range(5):
            await asyncio.sleep(0)
