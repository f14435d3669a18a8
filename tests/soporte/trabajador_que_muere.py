"""A carteras worker process that kills itself (SIGKILL) once an import's published progress reaches a threshold.

Run by tests/integration/test_tareas.py: `python trabajador_que_muere.py DATABASE_URL UMBRAL`. It is a real
procrastinate worker on the real app; only the progress callback is wrapped, to die at a known point.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from types import SimpleNamespace
from typing import Any

from enlace.carteras import importador, tasks
from enlace.reloj import RelojReal
from enlace.settings import Settings
from enlace.tareas import Tareas


async def main(url: str, umbral: float) -> None:
    importador.CADA_FILAS_PROGRESO = 50  # publish progress often enough to stop right at the threshold
    original = importador.ProgresoEnBD.__call__

    def publicar_y_morir(self: Any, filas: int, fraccion: float) -> None:
        original(self, filas, fraccion)
        if fraccion >= umbral:
            os.kill(os.getpid(), signal.SIGKILL)

    importador.ProgresoEnBD.__call__ = publicar_y_morir  # type: ignore[method-assign]
    settings = Settings(_env_file=None, entorno="pruebas", database_url=url, secret_key="x" * 40)  # type: ignore[call-arg]
    nucleo = SimpleNamespace(database_url=url, settings=settings, reloj=RelojReal(), fabrica=None)
    tareas = Tareas(url, nodo_id="moribundo", concurrencia=1)
    tasks.registrar(tareas, nucleo)  # type: ignore[arg-type]
    await tareas.abrir()
    await tareas.app.run_worker_async(queues=[tasks.COLA], wait=False, install_signal_handlers=False)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], float(sys.argv[2])))
