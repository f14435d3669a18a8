"""Measures the gateway's resident memory per idle socket (for bench/sesiones.py), with the stand-in socket.

The stand-in replaces only the network part of Baileys: each session still carries what the gateway
itself holds per agent (its auth state in memory, 812 pre-keys as after a real first link, the
cacheable key store, the event wiring). A real WhatsApp socket adds its websocket, noise and Signal
state on top, so this is a floor, not the full figure (public sizing for real Baileys: ~80 MB).

    python -m enlace.motores.baileys.medicion --sockets 50
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from enlace.motores.baileys.motor import MotorBaileys, entorno_socket_simulado, fusionar_credenciales
from enlace.motores.base import Evento, EventoConectado, EventoCredenciales, OpcionesInicio

PREKEYS_INICIALES = 812  # Baileys' INITIAL_PREKEY_COUNT


@dataclass(frozen=True, slots=True)
class MedicionRSS:
    sockets: int
    rss_base_mb: float
    rss_final_mb: float

    @property
    def mb_por_socket(self) -> float:
        return (self.rss_final_mb - self.rss_base_mb) / self.sockets if self.sockets else 0.0


def rss_mb(pid: int) -> float:
    """Resident set size of a process, from /proc (Linux)."""
    for linea in Path(f"/proc/{pid}/status").read_text().splitlines():
        if linea.startswith("VmRSS:"):
            return int(linea.split()[1]) / 1024
    raise RuntimeError(f"sin VmRSS para el proceso {pid}")


def _buffer(n: int = 32) -> dict[str, str]:
    return {"type": "Buffer", "data": base64.b64encode(secrets.token_bytes(n)).decode()}


async def medir_rss_gateway(
    sockets: int = 50, *, prekeys: int = PREKEYS_INICIALES, reposo_s: float = 2.0
) -> MedicionRSS:
    """Start the gateway with the stand-in, open `sockets` idle linked sessions, return RSS before/after."""
    conectados: set[int] = set()
    credenciales: dict[str, Any] = {}
    hubo_conexion = asyncio.Event()

    async def receptor(evento: Evento) -> None:
        if isinstance(evento, EventoConectado):
            conectados.add(evento.agente_id)
            hubo_conexion.set()
        elif isinstance(evento, EventoCredenciales):
            if evento.agente_id == 1:
                fusionar_credenciales(credenciales, evento.datos)
            if evento.confirmar is not None:
                await evento.confirmar()

    async def esperar(condicion: Any, limite_s: float = 120.0) -> None:
        async def bucle() -> None:
            while not condicion():
                hubo_conexion.clear()
                await hubo_conexion.wait()

        await asyncio.wait_for(bucle(), limite_s)

    # QR refresh far away: idle sockets should not be doing anything.
    motor = MotorBaileys(entorno=entorno_socket_simulado(retraso_ms=5, qr_ms=3_600_000), tiempo_espera_s=60)
    await motor.iniciar(receptor)
    try:
        # One real link gives real creds (initAuthCreds in the gateway); every session reuses a copy.
        await motor.iniciar_sesion(1, OpcionesInicio())
        await asyncio.sleep(0.1)
        await motor.simular(1, "escanear", {})
        await esperar(lambda: 1 in conectados)
        await motor.detener_sesion(1)
        credenciales.setdefault("keys", {})["pre-key"] = {
            str(i): {"public": _buffer(), "private": _buffer()} for i in range(1, prekeys + 1)
        }
        await asyncio.sleep(reposo_s)
        # Supervisor + worker processes: the sockets live in the workers.
        base = int((await motor.ping())["rss"]) / 2**20
        ids = list(range(1000, 1000 + sockets))
        for inicio in range(0, sockets, 20):
            await asyncio.gather(
                *(motor.iniciar_sesion(a, OpcionesInicio(credenciales=credenciales)) for a in ids[inicio : inicio + 20])
            )
        await esperar(lambda: all(a in conectados for a in ids))
        await asyncio.sleep(reposo_s)
        final = int((await motor.ping())["rss"]) / 2**20
        return MedicionRSS(sockets=sockets, rss_base_mb=base, rss_final_mb=final)
    finally:
        await motor.detener()


def main() -> None:
    parser = argparse.ArgumentParser(description="RSS de la pasarela por socket inactivo (socket sustituto)")
    parser.add_argument("--sockets", type=int, default=int(os.environ.get("SOCKETS", "50")))
    parser.add_argument("--prekeys", type=int, default=PREKEYS_INICIALES)
    args = parser.parse_args()
    m = asyncio.run(medir_rss_gateway(args.sockets, prekeys=args.prekeys))
    print(f"rss base {m.rss_base_mb:.1f} MB, con {m.sockets} sockets {m.rss_final_mb:.1f} MB")
    print(f"gateway_mb_socket={m.mb_por_socket:.2f}")


if __name__ == "__main__":
    main()
