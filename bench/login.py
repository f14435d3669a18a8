"""Login under attack and under load, through a real node (`enlace serve`, a subprocess) on loopback.

Starts a node on a throwaway database of the local PostgreSQL, with users whose passwords are hashed
with the server's real Argon2id parameters, then measures:

1. 40 parallel wrong logins for one user: how many were evaluated (401), refused by the throttle
   (429), failed (5xx or connection errors), and the wall time;
2. the worst `/healthz` latency while 8 valid logins run at once;
3. a mixed load of 50 clients (each: login, list contacts, today's dashboard, repeated), p50/p99 and
   errors; and the same load without logins (sessions opened beforehand) for comparison.

    .venv/bin/python bench/login.py [--clientes 50] [--rondas 4]

Works against older code too (run it with another checkout's interpreter to get "before" figures).
Last line: bench login: evaluados=.. rechazados=.. errores=.. segundos=.. healthz_max_ms=.. p50_ms=.. p99_ms=..
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psycopg
from argon2 import PasswordHasher

PASSWORD = "contraseña-de-bench-larga-7"


def percentil(valores: list[float], p: float) -> float:
    ordenados = sorted(valores)
    if not ordenados:
        return float("nan")
    k = (len(ordenados) - 1) * p
    i = int(k)
    j = min(i + 1, len(ordenados) - 1)
    return ordenados[i] + (ordenados[j] - ordenados[i]) * (k - i)


def preparar(url: str, agentes: int) -> None:
    """One admin (the victim of phase 1) and `agentes` agents, all with the same real Argon2id hash."""
    hash_real = PasswordHasher().hash(PASSWORD)  # the library defaults, as the server uses
    with psycopg.connect(url, autocommit=True) as c:
        c.execute(
            "INSERT INTO usuarios (usuario, nombre, rol, password_hash) VALUES ('victima', 'Víctima', 'admin', %s)",
            (hash_real,),
        )
        for a in range(1, agentes + 1):
            uid = c.execute(
                "INSERT INTO usuarios (usuario, nombre, rol, password_hash) VALUES (%s, %s, 'agente', %s) RETURNING id",
                (f"agente{a}", f"Agente {a}", hash_real),
            ).fetchone()[0]
            c.execute("INSERT INTO agentes (nombre, usuario_id) VALUES (%s, %s)", (f"Agente {a}", uid))


def _puerto_libre() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _pedir(http: httpx.AsyncClient, metodo: str, ruta: str, **kw: object) -> tuple[int, float]:
    t = time.perf_counter()
    try:
        r = await http.request(metodo, ruta, timeout=60, **kw)  # type: ignore[arg-type]
        codigo = r.status_code
    except httpx.HTTPError:
        codigo = 0
    return codigo, (time.perf_counter() - t) * 1000


async def fase_ataque(base: str) -> dict[str, float]:
    async with httpx.AsyncClient(base_url=base, limits=httpx.Limits(max_connections=None)) as http:
        t = time.perf_counter()
        codigos = await asyncio.gather(
            *(
                _pedir(http, "POST", "/api/auth/login", json={"usuario": "victima", "password": f"mala-{i}"})
                for i in range(40)
            )
        )
        segundos = time.perf_counter() - t
    estados = [c for c, _ in codigos]
    return {
        "evaluados": estados.count(401),
        "rechazados": estados.count(429),
        "errores": sum(1 for c in estados if c == 0 or c >= 500),
        "segundos": segundos,
    }


async def fase_healthz(base: str) -> float:
    """Worst /healthz latency while 8 valid logins run at once (the event loop's responsiveness)."""
    peor = 0.0
    async with httpx.AsyncClient(base_url=base, limits=httpx.Limits(max_connections=None)) as http:
        logins = [
            asyncio.create_task(
                _pedir(http, "POST", "/api/auth/login", json={"usuario": f"agente{i}", "password": PASSWORD})
            )
            for i in range(1, 9)
        ]
        while not all(t.done() for t in logins):
            _, ms = await _pedir(http, "GET", "/healthz")
            peor = max(peor, ms)
            await asyncio.sleep(0.02)
        await asyncio.gather(*logins)
    return peor


async def cliente_mixto(base: str, usuario: str, rondas: int, con_login: bool, lat: list[float]) -> int:
    errores = 0
    async with httpx.AsyncClient(base_url=base) as http:
        for _ in range(rondas):
            if con_login or "x-csrf-token" not in http.headers:
                codigo, ms = await _pedir(
                    http, "POST", "/api/auth/login", json={"usuario": usuario, "password": PASSWORD}
                )
                if con_login:
                    lat.append(ms)
                if codigo != 200:
                    errores += 1
                    continue
                http.headers["x-csrf-token"] = http.cookies.get("enlace_csrf") or ""
            for ruta in ("/api/contactos", "/api/reportes/tablero/hoy"):
                codigo, ms = await _pedir(http, "GET", ruta)
                lat.append(ms)
                errores += codigo != 200
    return errores


async def fase_mixta(base: str, clientes: int, rondas: int, con_login: bool) -> dict[str, float]:
    lat: list[float] = []
    errores = await asyncio.gather(
        *(cliente_mixto(base, f"agente{i}", rondas, con_login, lat) for i in range(1, clientes + 1))
    )
    return {"p50": percentil(lat, 0.5), "p99": percentil(lat, 0.99), "errores_mixta": sum(errores), "n": len(lat)}


async def correr(url: str, clientes: int, rondas: int) -> dict[str, float]:
    preparar(url, clientes)
    puerto = _puerto_libre()
    datos = Path(f"/tmp/enlace_bench_login_{os.getpid()}")
    entorno = {
        **os.environ,
        "ENLACE_DATABASE_URL": url,
        "ENLACE_MOTOR": "simulador",
        "ENLACE_ENTORNO": "pruebas",
        "ENLACE_SECRET_KEY": "clave-de-bench-" + os.urandom(16).hex(),
        "ENLACE_NODO_ID": "bench",
        "ENLACE_DIRECTORIO_DATOS": str(datos),
        # The default throttle: 5 failures per user (and address) in 15 minutes.
        "ENLACE_LOGIN_MAX_FALLOS": "5",
    }
    nodo = subprocess.Popen(  # noqa: ASYNC220 - started once, before anything is timed
        [str(Path(sys.executable).with_name("enlace")), "serve", "--port", str(puerto)],
        env=entorno,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{puerto}"
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
        ataque = await fase_ataque(base)
        print(
            f"40 logins erróneos en paralelo: evaluados {ataque['evaluados']}, rechazados {ataque['rechazados']}, "
            f"errores {ataque['errores']}, {ataque['segundos']:.1f} s",
            flush=True,
        )
        healthz = await fase_healthz(base)
        print(f"/healthz con 8 logins válidos a la vez: peor {healthz:.0f} ms", flush=True)
        sin = await fase_mixta(base, clientes, rondas, con_login=False)
        print(
            f"{clientes} clientes sin login: p50 {sin['p50']:.0f} ms  p99 {sin['p99']:.0f} ms  "
            f"errores {sin['errores_mixta']}",
            flush=True,
        )
        mixta = await fase_mixta(base, clientes, rondas, con_login=True)
        print(
            f"{clientes} clientes con login+lista+reporte: p50 {mixta['p50']:.0f} ms  p99 {mixta['p99']:.0f} ms  "
            f"errores {mixta['errores_mixta']} ({mixta['n']} peticiones)",
            flush=True,
        )
        return {**ataque, "healthz": healthz, **mixta, "p99_sin_login": sin["p99"]}
    finally:
        nodo.terminate()
        try:
            nodo.wait(timeout=15)
        except subprocess.TimeoutExpired:
            nodo.kill()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clientes", type=int, default=50)
    parser.add_argument("--rondas", type=int, default=4)
    parser.add_argument(
        "--servidor",
        default=os.environ.get("ENLACE_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
    )
    args = parser.parse_args()
    from enlace.db.migrar import migrar

    nombre = f"enlace_bench_login_{os.getpid()}"
    url = f"{args.servidor.rsplit('/', 1)[0]}/{nombre}"
    with psycopg.connect(args.servidor, autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{nombre}"')
    try:
        migrar(url)
        f = asyncio.run(correr(url, args.clientes, args.rondas))
    finally:
        with psycopg.connect(args.servidor, autocommit=True) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{nombre}" WITH (FORCE)')
    print(
        f"bench login: evaluados={f['evaluados']} rechazados={f['rechazados']} errores={f['errores']} "
        f"segundos={f['segundos']:.1f} healthz_max_ms={f['healthz']:.0f} p50_ms={f['p50']:.0f} "
        f"p99_ms={f['p99']:.0f} errores_mixta={f['errores_mixta']:.0f} p99_sin_login_ms={f['p99_sin_login']:.0f}"
    )


if __name__ == "__main__":
    main()
