"""An engine-event collector for tests: keeps every event and waits for one matching a predicate."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from enlace.motores.base import Evento, EventoCredenciales


class Receptor:
    """Pass it as an engine's `receptor`; `esperar` polls (bounded) instead of asserting wall-clock times."""

    def __init__(self, *, confirmar_credenciales: bool = True) -> None:
        self.eventos: list[Evento] = []
        self.al_recibir: Callable[[Evento], Any] | None = None
        # Keeping the event counts as "stored": batches of keys are confirmed, as the sessions domain does.
        self.confirmar_credenciales = confirmar_credenciales

    async def __call__(self, evento: Evento) -> None:
        self.eventos.append(evento)
        if self.al_recibir is not None:
            await self.al_recibir(evento)
        if isinstance(evento, EventoCredenciales) and evento.confirmar and self.confirmar_credenciales:
            await evento.confirmar()

    async def esperar(self, predicado: Callable[[Any], bool], limite_s: float = 20.0) -> Any:
        async def buscar() -> Any:
            while True:
                for evento in self.eventos:
                    if predicado(evento):
                        return evento
                await asyncio.sleep(0.01)

        try:
            return await asyncio.wait_for(buscar(), limite_s)
        except TimeoutError:
            raise AssertionError(f"no llegó el evento; llegaron: {[type(e).__name__ for e in self.eventos]}") from None

    def de_tipo(self, tipo: type) -> list[Any]:
        return [e for e in self.eventos if isinstance(e, tipo)]

    def de(self, tipo: type, agente_id: int) -> list[Any]:
        return [e for e in self.de_tipo(tipo) if e.agente_id == agente_id]
