"""A minimal core for the kill test: SessionManager + the real Node gateway (stand-in sockets) + PostgreSQL.

Run as a process the test can `kill -9`: `python -m tests.soporte.nucleo_claves URL_BD AGENTE_ID`.
It resumes the agent's session from the database (no QR), asks the stand-in socket for heavy key
churn on every connect, and keeps going until killed. The bitacora paths come from the environment
(ENLACE_SIMULADO_BITACORA_CLAVES), read by the stand-in socket inside the gateway.
"""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from collections.abc import Awaitable, Callable
from typing import Any

from enlace.db.sesion import crear_fabrica, crear_motor_bd
from enlace.motores.baileys.motor import MotorBaileys, entorno_socket_simulado
from enlace.motores.base import EventoConectado
from enlace.reloj import RelojReal
from enlace.sesiones import manager as modulo_manager
from enlace.sesiones.manager import SessionManager
from enlace.settings import Settings


async def principal(url: str, agente_id: int) -> None:
    # Short reconnect backoff: the test kills processes fifty times and should not wait minutes.
    modulo_manager.BACKOFF_BASE_S = 0.1
    modulo_manager.BACKOFF_TOPE_S = 0.5
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        entorno="pruebas",
        database_url=url,
        motor="baileys",
        secret_key="clave-de-pruebas-" + "x" * 32,
    )
    motor_bd = crear_motor_bd(url, pool_size=4, max_overflow=4)
    fabrica = crear_fabrica(motor_bd)
    motor = MotorBaileys(
        entorno={**entorno_socket_simulado(retraso_ms=5), "ENLACE_GATEWAY_CONEXIONES_POR_S": "20"},
        tiempo_espera_s=10,
        espera_reinicio_max_s=0.5,
    )
    gestor = SessionManager(
        settings=settings,
        reloj=RelojReal(),
        fabrica=fabrica,
        motor=motor,
        nodo_id=f"{socket.gethostname()}-{os.getpid()}",
    )
    manejadores: dict[type, list[Callable[[Any], Awaitable[None]]]] = {}
    gestor.suscribir(lambda tipo, m: manejadores.setdefault(tipo, []).append(m))

    async def receptor(evento: Any) -> None:
        for manejador in manejadores.get(type(evento), []):
            await manejador(evento)
        if isinstance(evento, EventoConectado):
            await motor.simular(evento.agente_id, "churn", {})

    await motor.iniciar(receptor)
    print("listo", flush=True)
    while True:
        try:
            # Expires the lease of a killed predecessor (its pid is gone) and resumes the session.
            await gestor.revisar()
        except Exception as exc:  # the test reads stderr when something goes wrong
            print(f"revisar falló: {exc!r}", file=sys.stderr, flush=True)
        await asyncio.sleep(0.2)


if __name__ == "__main__":
    asyncio.run(principal(sys.argv[1], int(sys.argv[2])))
