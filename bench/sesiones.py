"""Memory per WhatsApp session: simulated sessions in Python, and the Baileys gateway's RSS per idle socket.

    .venv/bin/python bench/sesiones.py                 # 210 and 2000 simulated sessions, 210 gateway sockets
    .venv/bin/python bench/sesiones.py --rapido        # 210 simulated, 50 gateway sockets
    .venv/bin/python bench/sesiones.py --sesiones 500 --sockets 0

The simulated figure counts what one linked session costs in this process: the engine's socket state, the
virtual account, and the merged auth state the SessionManager keeps (tracemalloc, after a GC). The gateway
figure starts `node gateway/src/index.js` with its stand-in socket factory (no network), opens N sockets
that wait for a QR, and divides the RSS growth by N. A real Baileys socket also holds a websocket, the noise
session and signal caches; public sizing puts it at tens of MB, so read this figure as the gateway's own
overhead per socket, not as the whole cost of a live WhatsApp connection.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import shutil
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

import psutil

RAIZ = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(RAIZ / "src"))

from enlace.motores.base import EventoCredenciales, OpcionesInicio  # noqa: E402
from enlace.motores.simulador import MotorSimulador  # noqa: E402
from enlace.reloj import RelojManual  # noqa: E402
from enlace.sesiones.cifrado import fusionar_credenciales  # noqa: E402


async def medir_simulador(n: int) -> tuple[float, float, float]:
    """(KB per session by tracemalloc, KB per session by RSS, seconds to link all)."""
    gc.collect()
    proceso = psutil.Process()
    rss_antes = proceso.memory_info().rss
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    inicio = time.perf_counter()

    reloj = RelojManual()
    credenciales: dict[int, dict[str, Any]] = {}

    async def receptor(evento: Any) -> None:
        # What the SessionManager keeps per session: the merged auth state.
        if isinstance(evento, EventoCredenciales):
            credenciales[evento.agente_id] = fusionar_credenciales(credenciales.get(evento.agente_id), evento.datos)

    motor = MotorSimulador(reloj, semilla=7)
    await motor.iniciar(receptor)
    for agente_id in range(1, n + 1):
        await motor.iniciar_sesion(agente_id, OpcionesInicio())
    await reloj.avanzar(0)
    for agente_id in range(1, n + 1):
        await motor.escanear_qr(agente_id)
    await reloj.avanzar(2)
    conectadas = sum(1 for a in range(1, n + 1) if motor.estado_socket(a) == "conectado")
    assert conectadas == n, f"solo {conectadas} de {n} sesiones conectaron"
    segundos = time.perf_counter() - inicio
    gc.collect()
    usado = tracemalloc.get_traced_memory()[0] - base
    tracemalloc.stop()
    rss_despues = proceso.memory_info().rss
    await motor.detener()
    return usado / n / 1024, max(0, rss_despues - rss_antes) / n / 1024, segundos


class Pasarela:
    """The gateway process over its JSON-lines protocol."""

    def __init__(self) -> None:
        entorno = dict(os.environ)
        entorno["ENLACE_GATEWAY_FABRICA_SOCKET"] = str(RAIZ / "gateway" / "soporte" / "socket_simulado.js")
        entorno.setdefault("ENLACE_SIMULADO_QR_MS", "20000")
        self.proceso = subprocess.Popen(
            [shutil.which("node") or "node", str(RAIZ / "gateway" / "src" / "index.js")],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            cwd=RAIZ / "gateway",
            env=entorno,
            text=True,
            bufsize=1,
        )
        self._id = 0

    def pedir(self, cmd: dict[str, Any], *, esperar: bool = True) -> dict[str, Any] | None:
        assert self.proceso.stdin and self.proceso.stdout
        self._id += 1
        self.proceso.stdin.write(json.dumps({"id": self._id, **cmd}) + "\n")
        self.proceso.stdin.flush()
        if not esperar:
            return None
        while True:
            linea = self.proceso.stdout.readline()
            if not linea:
                raise RuntimeError("la pasarela terminó")
            datos = json.loads(linea)
            if datos.get("id") == self._id:
                if not datos.get("ok"):
                    raise RuntimeError(f"la pasarela respondió con error: {datos}")
                return datos.get("resultado") or {}

    def rss(self) -> int:
        respuesta = self.pedir({"cmd": "ping"}) or {}
        return int(respuesta.get("rss") or psutil.Process(self.proceso.pid).memory_info().rss)

    def cerrar(self) -> None:
        self.proceso.terminate()
        try:
            self.proceso.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proceso.kill()


def medir_pasarela(n: int) -> float | None:
    """MB of gateway RSS per idle socket, or None when node or the gateway's dependencies are missing."""
    if n <= 0 or shutil.which("node") is None or not (RAIZ / "gateway" / "node_modules" / "baileys").exists():
        return None
    pasarela = Pasarela()
    try:
        # Warm up: the first socket loads Baileys' modules, which is not per-socket memory.
        pasarela.pedir({"cmd": "iniciar", "agente_id": 1})
        time.sleep(1.0)
        rss_base = pasarela.rss()
        for agente_id in range(2, n + 2):
            pasarela.pedir({"cmd": "iniciar", "agente_id": agente_id})
        time.sleep(2.0)  # let every socket reach its idle "waiting for QR" state
        rss_final = pasarela.rss()
        estado = pasarela.pedir({"cmd": "estado"}) or {}
        abiertas = len(estado.get("sesiones") or [])
        print(f"pasarela: {abiertas} sockets abiertos, RSS {rss_base / 2**20:.1f} MB → {rss_final / 2**20:.1f} MB")
        return max(0, rss_final - rss_base) / n / 2**20
    except (RuntimeError, OSError, ValueError) as exc:
        print(f"pasarela: no se pudo medir ({exc})")
        return None
    finally:
        pasarela.cerrar()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sesiones", default=None, help="sesiones simuladas, separadas por coma (210,2000)")
    parser.add_argument("--sockets", type=int, default=None, help="sockets de la pasarela (0 = no medir)")
    parser.add_argument("--rapido", action="store_true", help="210 sesiones y 50 sockets")
    args = parser.parse_args()
    tamanos = [int(x) for x in (args.sesiones or ("210" if args.rapido else "210,2000")).split(",") if x.strip()]
    sockets = args.sockets if args.sockets is not None else (50 if args.rapido else 210)

    sim_kb = 0.0
    for n in tamanos:
        kb, kb_rss, segundos = asyncio.run(medir_simulador(n))
        sim_kb = kb
        print(
            f"simulador: {n} sesiones vinculadas en {segundos:.2f} s; {kb:.1f} KB/sesión (tracemalloc), "
            f"{kb_rss:.1f} KB/sesión (RSS)"
        )
    mb_socket = medir_pasarela(sockets)
    texto_gateway = f"{mb_socket:.2f}" if mb_socket is not None else "nd"
    if mb_socket is not None:
        print(f"pasarela: {sockets} sockets inactivos, {mb_socket:.2f} MB/socket (RSS, socket sustituto)")
    print(f"bench sesiones: sesiones={tamanos[-1]} sim_kb_sesion={sim_kb:.1f} gateway_mb_socket={texto_gateway}")


if __name__ == "__main__":
    main()
