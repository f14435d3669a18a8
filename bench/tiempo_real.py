"""Realtime fan-out latency: 250 socket.io clients, 500 events/s on loopback, event-to-client p99.

    .venv/bin/python bench/tiempo_real.py                       # 250 clients, 500 events/s, 10 s
    .venv/bin/python bench/tiempo_real.py --clientes 500 --eventos 1000 --segundos 20

Starts a real node (`enlace serve`, a subprocess) on a throwaway database with Redis, connects the
clients (240 agents, 9 supervisors, 1 admin, each authenticated with its own API token and joined to
its rooms by the server), then publishes events the way another node would — through the node's
Redis channel — each to `agente:{id}`, `equipo:{id}` and `supervision`. So every event reaches three
clients: its agent, that team's supervisor and the admin. Latency is measured from just before the
publish to the moment the client's handler runs (same machine, same wall clock).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import random
import socket
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import aiohttp
import httpx
import psutil
import psycopg
import socketio

EVENTO = "mensaje.estado"


def percentil(valores: list[float], p: float) -> float:
    ordenados = sorted(valores)
    if not ordenados:
        return float("nan")
    k = (len(ordenados) - 1) * p
    i = int(k)
    j = min(i + 1, len(ordenados) - 1)
    return ordenados[i] + (ordenados[j] - ordenados[i]) * (k - i)


def preparar(url: str, clientes: int) -> list[tuple[str, str, int | None, int | None]]:
    """Users and API tokens straight in SQL (no password hashing): (token, rol, agente_id, equipo_id)."""
    supervisores = max(1, clientes // 27)
    agentes = clientes - supervisores - 1
    cuentas: list[tuple[str, str, int | None, int | None]] = []
    with psycopg.connect(url, autocommit=True) as c:
        c.execute(
            "INSERT INTO equipos (id, nombre) SELECT e, 'Equipo ' || e FROM generate_series(1, %s) e", (supervisores,)
        )
        usuario_id = 0

        def usuario(rol: str) -> tuple[int, str]:
            nonlocal usuario_id
            usuario_id += 1
            token = f"bench-{usuario_id}-{os.urandom(8).hex()}"
            c.execute(
                "INSERT INTO usuarios (id, usuario, nombre, rol, password_hash) VALUES (%s, %s, %s, %s, '!')",
                (usuario_id, f"u{usuario_id}", f"Usuario {usuario_id}", rol),
            )
            c.execute(
                "INSERT INTO tokens_api (usuario_id, nombre, prefijo, token_hash, alcances) "
                "VALUES (%s, 'bench', %s, %s, '{*}')",
                (usuario_id, token[:8], hashlib.sha256(token.encode()).hexdigest()),
            )
            return usuario_id, token

        _, token = usuario("admin")
        cuentas.append((token, "admin", None, None))
        for e in range(1, supervisores + 1):
            uid, token = usuario("supervisor")
            c.execute("UPDATE equipos SET supervisor_id = %s WHERE id = %s", (uid, e))
            cuentas.append((token, "supervisor", None, e))
        for a in range(1, agentes + 1):
            uid, token = usuario("agente")
            equipo = 1 + (a - 1) % supervisores
            c.execute(
                "INSERT INTO agentes (id, nombre, usuario_id, equipo_id) VALUES (%s, %s, %s, %s)",
                (a, f"Agente {a}", uid, equipo),
            )
            cuentas.append((token, "agente", a, equipo))
        c.execute("SELECT setval(pg_get_serial_sequence('usuarios', 'id'), %s)", (usuario_id,))
    return cuentas


def _tabla_tokens_existe(url: str) -> None:
    with psycopg.connect(url) as c:
        nombre = c.execute("SELECT to_regclass('tokens_api')").fetchone()
        if not nombre or nombre[0] is None:
            raise SystemExit("No encuentro la tabla tokens_api; ¿cambió el esquema de auth?")


def _puerto_libre() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def correr(url: str, redis_url: str, clientes: int, eventos_s: int, segundos: float) -> dict[str, float]:
    from enlace.api_tiempo_real import canal_redis

    cuentas = preparar(url, clientes)
    puerto = _puerto_libre()
    entorno = {
        **os.environ,
        "ENLACE_DATABASE_URL": url,
        "ENLACE_REDIS_URL": redis_url,
        "ENLACE_MOTOR": "simulador",
        "ENLACE_ENTORNO": "pruebas",
        "ENLACE_SECRET_KEY": "clave-de-bench-" + "x" * 32,
        "ENLACE_NODO_ID": "bench",
    }
    nodo = subprocess.Popen(  # noqa: ASYNC220 - started once, before anything is timed
        [str(Path(sys.executable).with_name("enlace")), "serve", "--port", str(puerto)],
        env=entorno,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{puerto}"
    conectados: list[aiohttp.ClientWebSocketResponse] = []
    sesion_http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))  # one connection per client
    tareas: list[asyncio.Task[None]] = []
    latencias: list[float] = []
    recibidos = 0
    try:
        async with httpx.AsyncClient() as http:
            for _ in range(600):
                try:
                    if (await http.get(base + "/healthz", timeout=1)).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if nodo.poll() is not None:
                    raise SystemExit(f"el nodo terminó con código {nodo.returncode}")
                await asyncio.sleep(0.1)

        async def escuchar(ws: aiohttp.ClientWebSocketResponse) -> None:
            nonlocal recibidos
            async for mensaje in ws:
                texto = mensaje.data
                if texto == "2":  # engine.io ping
                    await ws.send_str("3")
                elif texto.startswith("42"):
                    _, datos = json.loads(texto[2:])
                    recibidos += 1
                    latencias.append((time.time() - datos["t"]) * 1000)

        async def conectar(token: str) -> None:
            # A minimal socket.io v5 client over a raw websocket: the library client costs far more CPU per
            # message than the server, and 250 of them in one process would measure themselves, not the server.
            ws = await sesion_http.ws_connect(base.replace("http", "ws") + "/socket.io/?EIO=4&transport=websocket")
            abierto = await ws.receive_str()
            assert abierto.startswith("0"), abierto
            await ws.send_str("40" + json.dumps({"token": token}))
            respuesta = await ws.receive_str()
            if not respuesta.startswith("40"):
                raise SystemExit(f"conexión rechazada: {respuesta}")
            conectados.append(ws)
            tareas.append(asyncio.create_task(escuchar(ws)))

        t = time.perf_counter()
        for i in range(0, len(cuentas), 25):
            await asyncio.gather(*(conectar(c[0]) for c in cuentas[i : i + 25]))
        print(f"{len(conectados)} clientes conectados en {time.perf_counter() - t:.1f} s", flush=True)

        emisor = socketio.AsyncRedisManager(redis_url, channel=canal_redis(url), write_only=True)
        agentes = [(c[2], c[3]) for c in cuentas if c[1] == "agente"]
        rng = random.Random(7)
        total = int(eventos_s * segundos)
        intervalo = 1.0 / eventos_s
        proceso_nodo = psutil.Process(nodo.pid)
        cpu_nodo = sum(proceso_nodo.cpu_times()[:2])
        cpu_propio = sum(psutil.Process().cpu_times()[:2])
        inicio = time.perf_counter()
        for n in range(total):
            # Paced against the schedule, not sleep-after-send, so the rate holds even if a publish is slow.
            espera = inicio + n * intervalo - time.perf_counter()
            if espera > 0:
                await asyncio.sleep(espera)
            agente, equipo = rng.choice(agentes)
            await emisor.emit(
                EVENTO,
                {"t": time.time(), "agente_id": agente, "estado": "entregado"},
                room=[f"agente:{agente}", f"equipo:{equipo}", "supervision"],
                namespace="/",
            )
        duracion = time.perf_counter() - inicio
        esperados = total * 3
        limite = time.perf_counter() + 10
        while recibidos < esperados and time.perf_counter() < limite:  # noqa: ASYNC110 - a counter, polled
            await asyncio.sleep(0.05)
        logrado = total / duracion
        # CPU seconds per event, independent of how busy the machine is: what one core can sustain.
        cpu_evento_nodo = (sum(proceso_nodo.cpu_times()[:2]) - cpu_nodo) / total * 1000
        cpu_evento_bench = (sum(psutil.Process().cpu_times()[:2]) - cpu_propio) / total * 1000
        print(
            f"CPU por evento: nodo {cpu_evento_nodo:.2f} ms (≈{1000 / cpu_evento_nodo:.0f} eventos/s por núcleo, "
            f"3 entregas cada uno); clientes+emisor {cpu_evento_bench:.2f} ms; carga de la máquina "
            f"{os.getloadavg()[0]:.1f} en {os.cpu_count()} núcleos"
        )
        print(f"{total} eventos en {duracion:.1f} s ({logrado:.0f}/s); entregas {recibidos}/{esperados}")
        print(
            f"latencia evento→cliente: p50 {percentil(latencias, 0.5):.1f} ms  p90 {percentil(latencias, 0.9):.1f} ms"
            f"  p99 {percentil(latencias, 0.99):.1f} ms  máx {max(latencias, default=float('nan')):.1f} ms"
        )
        return {
            "clientes": len(conectados),
            "eventos_s": logrado,
            "p99": percentil(latencias, 0.99),
            "perdidos": esperados - recibidos,
        }
    finally:
        await asyncio.gather(*(c.close() for c in conectados), return_exceptions=True)
        for tarea in tareas:
            tarea.cancel()
        await sesion_http.close()
        nodo.terminate()
        try:
            nodo.wait(timeout=15)
        except subprocess.TimeoutExpired:
            nodo.kill()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clientes", type=int, default=250)
    parser.add_argument("--eventos", type=int, default=500, help="eventos por segundo")
    parser.add_argument("--segundos", type=float, default=10.0)
    parser.add_argument("--redis", default=os.environ.get("ENLACE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0"))
    parser.add_argument(
        "--servidor",
        default=os.environ.get("ENLACE_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
    )
    args = parser.parse_args()

    from enlace.db.migrar import migrar

    nombre = f"enlace_bench_rt_{os.getpid()}"
    url = f"{args.servidor.rsplit('/', 1)[0]}/{nombre}"
    with psycopg.connect(args.servidor, autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{nombre}"')
    try:
        migrar(url)
        _tabla_tokens_existe(url)
        cifras = asyncio.run(correr(url, args.redis, args.clientes, args.eventos, args.segundos))
    finally:
        with psycopg.connect(args.servidor, autocommit=True) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{nombre}" WITH (FORCE)')
    print(f"objetivo: p99 < 100 ms ({'ok' if cifras['p99'] < 100 else 'NO'}); entregas perdidas: {cifras['perdidos']}")
    clientes, eventos_s, p99 = cifras["clientes"], cifras["eventos_s"], cifras["p99"]
    print(f"bench tiempo_real: clientes={clientes} eventos_s={eventos_s:.0f} p99_ms={p99:.1f}")


if __name__ == "__main__":
    main()
