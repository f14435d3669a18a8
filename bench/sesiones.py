"""Memory per WhatsApp session and the cost of one key change.

    .venv/bin/python bench/sesiones.py            # 210 and 2000 simulated sessions, 100 real sockets, keys
    .venv/bin/python bench/sesiones.py --rapido   # 210 simulated, 40 real sockets, smaller key states

Three measurements:

- `sim_kb_sesion`: one linked session of the simulator engine in this process (its socket state, the
  virtual account and the merged auth state the SessionManager keeps), by tracemalloc after a GC.
- `baileys_mb_socket`, `gateway_mb_socket`, `procesos`: REAL Baileys sockets (`makeWASocket`, not the
  stand-in) started by the real gateway (supervisor + worker processes, `--por-proceso` sockets each),
  each carrying a realistic linked auth state (`gateway/soporte/estado_realista.js`: real creds, 812
  pre-keys, 300 signal sessions, app-state keys and versions, sender keys, LID mappings, tctokens;
  ~0.7 MB as JSON), pointed with `waWebSocketUrl` at a WebSocket endpoint on 127.0.0.1 that accepts the
  connection and never answers. So every socket has its websocket open, its noise handshake started,
  its signal repository, caches and event buffers built — but it never logs in, so nothing WhatsApp
  would send after login (history, app-state sync, presence, message traffic) is in the figure.
  `baileys_mb_socket` is the marginal RSS of one more socket inside one worker (filling a worker from 1
  to K sockets); `gateway_mb_socket` is the whole gateway's RSS (supervisor + workers) divided by the
  sockets, process baselines included. No traffic leaves loopback (the WA Web version is not fetched).
- `clave_ms_cambio`: the core's cost of one key change as the sessions domain stores it (encrypt the
  changed key, fenced upsert of its row, commit) on the real PostgreSQL, with the stored state at
  ~0.7 MB and ~7 MB; the figure is the worst of the two medians. The old way (encrypt and rewrite the
  whole state) is measured alongside for comparison.
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


async def _servidor_mudo() -> tuple[Any, int, list[Any]]:
    """A WebSocket endpoint on loopback that accepts every connection and never answers."""
    import websockets

    conexiones: list[Any] = []

    async def atender(ws: Any) -> None:
        conexiones.append(ws)
        try:
            async for _ in ws:
                pass  # the ClientHello of the noise handshake: read, never answered
        except Exception:
            pass

    servidor = await websockets.serve(atender, "127.0.0.1", 0, max_size=None)
    puerto = servidor.sockets[0].getsockname()[1]
    return servidor, puerto, conexiones


def estado_realista(sesiones: int) -> dict[str, Any]:
    salida = subprocess.run(
        [shutil.which("node") or "node", "soporte/estado_realista.js", str(sesiones)],
        cwd=RAIZ / "gateway",
        capture_output=True,
        check=True,
    )
    return json.loads(salida.stdout)


async def medir_baileys(n: int, por_proceso: int) -> dict[str, float] | None:
    """Real Baileys sockets across gateway worker processes; None without node or the gateway's deps."""
    if n <= 1 or shutil.which("node") is None or not (RAIZ / "gateway" / "node_modules" / "baileys").exists():
        return None
    from enlace.motores.baileys.motor import MotorBaileys

    servidor, puerto, conexiones = await _servidor_mudo()
    estado = estado_realista(300)
    tamano_kb = len(json.dumps(estado)) / 1024

    async def receptor(evento: Any) -> None:
        if isinstance(evento, EventoCredenciales) and evento.confirmar is not None:
            await evento.confirmar()

    motor = MotorBaileys(
        entorno={
            "ENLACE_GATEWAY_WS_URL": f"ws://127.0.0.1:{puerto}/ws/chat",
            "ENLACE_GATEWAY_CONSULTAR_VERSION": "0",
            "ENLACE_GATEWAY_CONNECT_TIMEOUT_MS": "3600000",
            "ENLACE_GATEWAY_SOCKETS_POR_PROCESO": str(por_proceso),
            # Faster than production's 2/s so the bench takes seconds; memory does not depend on it.
            "ENLACE_GATEWAY_CONEXIONES_POR_S": "20",
        },
        tiempo_espera_s=120,
    )
    await motor.iniciar(receptor)

    async def abrir(desde: int, hasta: int) -> None:
        for agente_id in range(desde, hasta):
            await motor.iniciar_sesion(agente_id, OpcionesInicio(credenciales=estado))
        limite = time.monotonic() + 300
        while len(conexiones) < hasta - 1:
            if time.monotonic() > limite:
                raise RuntimeError(f"solo {len(conexiones)} de {hasta - 1} sockets llegaron al endpoint")
            await asyncio.sleep(0.2)
        await asyncio.sleep(3.0)  # let start-up garbage be collected

    async def rss_por_proceso() -> list[dict[str, Any]]:
        return list((await motor.ping()).get("procesos") or [])

    try:
        k = min(por_proceso, n)
        await abrir(1, 2)
        uno = (await rss_por_proceso())[0]["rss"]
        await abrir(2, k + 1)
        lleno = (await rss_por_proceso())[0]["rss"]
        await abrir(k + 1, n + 1)
        ping = await motor.ping()
        procesos = ping.get("procesos") or []
        total = int(ping["rss"])
        print(
            f"baileys: {n} sockets reales (estado de {tamano_kb:.0f} KB c/u) en {len(procesos)} procesos; "
            f"un proceso con 1 socket {uno / 2**20:.1f} MB, con {k} {lleno / 2**20:.1f} MB; "
            f"pasarela completa {total / 2**20:.1f} MB"
        )
        return {
            "baileys_mb_socket": (lleno - uno) / max(1, k - 1) / 2**20,
            "gateway_mb_socket": total / n / 2**20,
            "procesos": float(len(procesos)),
        }
    finally:
        await motor.detener()
        servidor.close()


async def medir_cambio_clave(url_servidor: str, tamanos: list[int], cambios: int) -> float:
    """Median ms of storing one changed key, worst over the state sizes (sessions in the auth state)."""
    import psycopg

    from enlace.db.migrar import migrar
    from enlace.db.sesion import crear_fabrica, crear_motor_bd, transaccion
    from enlace.sesiones import credenciales as almacen
    from enlace.sesiones.cifrado import Llavero, contexto_agente
    from enlace.settings import Settings

    nombre = f"enlace_bench_claves_{os.getpid()}"
    base, _, consulta = url_servidor.partition("?")
    url = base.rsplit("/", 1)[0] + "/" + nombre + ("?" + consulta if consulta else "")
    with psycopg.connect(url_servidor, autocommit=True) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{nombre}"')
        c.execute(f'CREATE DATABASE "{nombre}"')
    peor = 0.0
    try:
        migrar(url)
        settings = Settings(_env_file=None, entorno="pruebas", database_url=url, secret_key="bench-" + "x" * 40)  # type: ignore[call-arg]
        llavero = Llavero.desde_settings(settings)
        motor_bd = crear_motor_bd(url, pool_size=2, max_overflow=0)
        fabrica = crear_fabrica(motor_bd)
        for i, sesiones in enumerate(tamanos, start=1):
            estado = estado_realista(sesiones)
            megas = len(json.dumps(estado)) / 2**20
            with psycopg.connect(url, autocommit=True) as c:
                c.execute("INSERT INTO agentes (id, nombre) VALUES (%s, 'Bench')", (i,))
                c.execute(
                    "INSERT INTO sesiones_wa (agente_id, motor, nodo_id, fencing_token)"
                    " VALUES (%s, 'baileys', 'bench', 1)",
                    (i,),
                )
            async with transaccion(fabrica) as s:
                await almacen.guardar(s, llavero, i, "bench", 1, estado)
            ids = list(estado["keys"]["session"])
            tiempos = []
            cpu_inicio = time.process_time()
            for n in range(cambios):
                delta = {"keys": {"session": {ids[n % len(ids)]: estado["keys"]["session"][ids[(n + 1) % len(ids)]]}}}
                inicio = time.perf_counter()
                async with transaccion(fabrica) as s:
                    assert await almacen.guardar(s, llavero, i, "bench", 1, delta)
                tiempos.append((time.perf_counter() - inicio) * 1000)
            cpu = (time.process_time() - cpu_inicio) / cambios * 1000
            tiempos.sort()
            mediana = tiempos[len(tiempos) // 2]
            p95 = tiempos[int(len(tiempos) * 0.95)]
            # The old way, for comparison: encrypt the whole state and rewrite it on every change.
            inicio = time.perf_counter()
            for _ in range(5):
                llavero.cifrar(estado, contexto_agente(i))
            antes = (time.perf_counter() - inicio) / 5 * 1000
            print(
                f"claves: estado de {megas:.1f} MB ({sesiones} sesiones signal): un cambio {mediana:.2f} ms "
                f"(mediana), {p95:.2f} ms (p95), de ellos {cpu:.2f} ms de CPU del núcleo; "
                f"cifrar el estado entero costaba {antes:.1f} ms de CPU por cambio"
            )
            peor = max(peor, mediana)
        await motor_bd.dispose()
    finally:
        with psycopg.connect(url_servidor, autocommit=True) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{nombre}" WITH (FORCE)')
    return peor


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sesiones", default=None, help="sesiones simuladas, separadas por coma (210,2000)")
    parser.add_argument("--sockets", type=int, default=None, help="sockets reales de Baileys (0 = no medir)")
    parser.add_argument("--por-proceso", type=int, default=None, help="sockets por proceso de la pasarela")
    parser.add_argument("--rapido", action="store_true", help="210 sesiones, 40 sockets, estados más chicos")
    parser.add_argument(
        "--url", default=os.environ.get("ENLACE_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    )
    args = parser.parse_args()
    tamanos = [int(x) for x in (args.sesiones or ("210" if args.rapido else "210,2000")).split(",") if x.strip()]
    sockets = args.sockets if args.sockets is not None else (40 if args.rapido else 100)
    por_proceso = args.por_proceso or (20 if args.rapido else 25)

    sim_kb = 0.0
    for n in tamanos:
        kb, kb_rss, segundos = asyncio.run(medir_simulador(n))
        sim_kb = kb
        print(
            f"simulador: {n} sesiones vinculadas en {segundos:.2f} s; {kb:.1f} KB/sesión (tracemalloc), "
            f"{kb_rss:.1f} KB/sesión (RSS)"
        )
    real = asyncio.run(medir_baileys(sockets, por_proceso))
    clave = asyncio.run(medir_cambio_clave(args.url, [300, 3000] if not args.rapido else [300, 1500], 200))
    g = f"{real['gateway_mb_socket']:.2f}" if real else "nd"
    z = f"{real['baileys_mb_socket']:.2f}" if real else "nd"
    p = f"{int(real['procesos'])}" if real else "nd"
    print(
        f"bench sesiones: sesiones={tamanos[-1]} sim_kb_sesion={sim_kb:.1f} gateway_mb_socket={g} "
        f"baileys_mb_socket={z} procesos={p} clave_ms_cambio={clave:.2f}"
    )


if __name__ == "__main__":
    main()
