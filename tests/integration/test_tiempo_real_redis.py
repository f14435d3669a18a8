"""Two server processes and Redis: an event caused through node A reaches a client connected to node B."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
import socketio

REDIS_URL = os.environ.get("ENLACE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def _redis_disponible() -> bool:
    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except Exception:
        return False


pytestmark = pytest.mark.skipif(not _redis_disponible(), reason="Redis no está disponible")


def _puerto_libre() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _esperar_salud(url: str, proceso: subprocess.Popen[bytes]) -> None:
    async with httpx.AsyncClient() as c:
        for _ in range(600):
            if proceso.poll() is not None:
                raise RuntimeError(f"el nodo terminó con código {proceso.returncode}")
            try:
                if (await c.get(url + "/healthz", timeout=1)).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.1)
    raise TimeoutError(f"{url} no respondió")


@pytest.fixture
async def nodos(url_bd: str, nucleo: Any) -> AsyncIterator[list[str]]:
    """Two `enlace serve` processes on the test database, sharing Redis."""
    entorno = {
        **os.environ,
        "ENLACE_DATABASE_URL": url_bd,
        "ENLACE_REDIS_URL": REDIS_URL,
        "ENLACE_MOTOR": "simulador",
        "ENLACE_ENTORNO": "pruebas",
        "ENLACE_SECRET_KEY": "clave-de-pruebas-" + "x" * 32,
    }
    enlace = str(Path(sys.executable).with_name("enlace"))
    procesos: list[subprocess.Popen[bytes]] = []
    urls: list[str] = []
    try:
        # One after the other: both run `migrate` on start and the first one must finish it.
        for nombre in ("a", "b"):
            puerto = _puerto_libre()
            procesos.append(
                subprocess.Popen(  # noqa: ASYNC220 - starting a node is instant; it runs on its own
                    [enlace, "serve", "--port", str(puerto)],
                    env={**entorno, "ENLACE_NODO_ID": f"nodo-{nombre}"},
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
            urls.append(f"http://127.0.0.1:{puerto}")
            await _esperar_salud(urls[-1], procesos[-1])
        yield urls
    finally:
        for p in procesos:
            p.terminate()
        for p in procesos:
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


async def _login(url: str, usuario: dict[str, Any]) -> httpx.AsyncClient:
    c = httpx.AsyncClient(base_url=url)
    r = await c.post("/api/auth/login", json={"usuario": usuario["usuario"], "password": usuario["password"]})
    assert r.status_code == 200, r.text
    c.headers["X-CSRF-Token"] = r.json()["csrf_token"]
    return c


class Oyente:
    def __init__(self) -> None:
        self.cliente = socketio.AsyncClient(reconnection=False)
        self.eventos: list[tuple[str, Any]] = []
        self.llego = asyncio.Event()

        @self.cliente.on("*")
        async def cualquiera(evento: str, datos: Any) -> None:
            self.eventos.append((evento, datos))
            self.llego.set()

    async def conectar(self, url: str, http: httpx.AsyncClient) -> None:
        cookie = http.cookies.get("enlace_sesion")
        await self.cliente.connect(
            url, headers={"Cookie": f"enlace_sesion={cookie}"}, transports=["websocket"], wait_timeout=10
        )


async def test_evento_en_nodo_a_llega_a_cliente_en_nodo_b(nodos: list[str], crear_usuario: Any, equipo: Any) -> None:
    url_a, url_b = nodos
    norte, sur = await equipo("Norte"), await equipo("Sur")
    supervisor = await crear_usuario("supervisor", equipo_id=norte)
    agente = await crear_usuario("agente", equipo_id=norte)
    ajeno = await crear_usuario("agente", equipo_id=sur)
    admin = await crear_usuario("admin")

    http_sup = await _login(url_a, supervisor)
    http_agente, http_ajeno, http_admin = [await _login(url_b, u) for u in (agente, ajeno, admin)]
    oyentes = {"agente": Oyente(), "ajeno": Oyente(), "admin": Oyente()}
    try:
        await oyentes["agente"].conectar(url_b, http_agente)
        await oyentes["ajeno"].conectar(url_b, http_ajeno)
        await oyentes["admin"].conectar(url_b, http_admin)

        # The supervisor, through node A, sends a notice to the agent connected to node B.
        r = await http_sup.post("/api/supervision/avisos", json={"agenteId": agente["agente_id"], "texto": "¡Ánimo!"})
        assert r.status_code == 202, r.text
        await asyncio.wait_for(oyentes["agente"].llego.wait(), 15)
        await asyncio.wait_for(oyentes["admin"].llego.wait(), 15)
        assert [(e, d["texto"]) for e, d in oyentes["agente"].eventos] == [("supervision.aviso", "¡Ánimo!")]
        assert [e for e, _ in oyentes["admin"].eventos] == ["supervision.aviso"]

        # A second notice, to the other team, goes to that team's agent only: the first agent hears nothing
        # more (checked after the admin, who sees both, has received it).
        r = await http_admin.post("/api/supervision/avisos", json={"equipoId": sur, "texto": "Reunión"})
        assert r.status_code == 202, r.text
        await asyncio.wait_for(oyentes["ajeno"].llego.wait(), 15)
        for _ in range(100):
            if len(oyentes["admin"].eventos) == 2:
                break
            await asyncio.sleep(0.05)
        assert [d["texto"] for _, d in oyentes["admin"].eventos] == ["¡Ánimo!", "Reunión"]
        assert [d["texto"] for _, d in oyentes["ajeno"].eventos] == ["Reunión"]
        assert len(oyentes["agente"].eventos) == 1
    finally:
        for o in oyentes.values():
            await o.cliente.disconnect()
        for c in (http_sup, http_agente, http_ajeno, http_admin):
            await c.aclose()
