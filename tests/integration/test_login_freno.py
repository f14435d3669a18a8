"""Login throttling: attempts counted before verifying, lockout per user and address, growing waits."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import httpx

from enlace.auth import seguridad


def _desde(app: Any, ip: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=(ip, 4000)), base_url="http://prueba")


async def _login(c: httpx.AsyncClient, usuario: str, password: str) -> httpx.Response:
    return await c.post("/api/auth/login", json={"usuario": usuario, "password": password})


async def test_intentos_en_paralelo_evaluan_como_mucho_el_limite(app: Any, crear_usuario: Any) -> None:
    u = await crear_usuario("admin")
    async with _desde(app, "203.0.113.7") as c:
        respuestas = await asyncio.gather(*(_login(c, u["usuario"], f"mala-{i}") for i in range(12)))
    estados = sorted(r.status_code for r in respuestas)
    assert estados == [401] * 5 + [429] * 7, estados
    assert all("Retry-After" in r.headers for r in respuestas if r.status_code == 429)


async def test_el_hash_no_corre_en_el_bucle_de_eventos(cliente: Any, crear_usuario: Any, monkeypatch: Any) -> None:
    u = await crear_usuario("agente")
    hilos: list[str] = []
    original = seguridad.verificar_password

    def espiar(*args: Any) -> bool:
        hilos.append(threading.current_thread().name)
        return original(*args)

    monkeypatch.setattr(seguridad, "verificar_password", espiar)
    assert (await _login(cliente, u["usuario"], u["password"])).status_code == 200
    assert hilos and all(h.startswith("argon2") for h in hilos), hilos


async def test_el_bloqueo_es_por_direccion_y_no_deja_fuera_al_admin(app: Any, crear_usuario: Any) -> None:
    admin = await crear_usuario("admin")
    async with _desde(app, "198.51.100.66") as atacante, _desde(app, "10.1.2.3") as oficina:
        for _ in range(5):
            assert (await _login(atacante, admin["usuario"], "adivinanza")).status_code == 401
        # The attacker's address is held even with the right password...
        assert (await _login(atacante, admin["usuario"], admin["password"])).status_code == 429
        # ...but the real admin, elsewhere, gets in.
        assert (await _login(oficina, admin["usuario"], admin["password"])).status_code == 200


async def test_las_esperas_crecen(app: Any, crear_usuario: Any, reloj: Any) -> None:
    u = await crear_usuario("agente")
    async with _desde(app, "192.0.2.9") as c:
        for _ in range(5):
            assert (await _login(c, u["usuario"], "mala")).status_code == 401
        r = await _login(c, u["usuario"], "mala")
        assert r.status_code == 429 and r.headers["Retry-After"] == "30"
        assert "30 segundos" in r.json()["error"]["mensaje"]
        await reloj.avanzar(31)
        assert (await _login(c, u["usuario"], "mala")).status_code == 401  # evaluated again, and failed
        r = await _login(c, u["usuario"], "mala")
        assert r.status_code == 429 and r.headers["Retry-After"] == "60"
        await reloj.avanzar(61)
        assert (await _login(c, u["usuario"], "mala")).status_code == 401
        assert (await _login(c, u["usuario"], "mala")).headers["Retry-After"] == "120"
        await reloj.avanzar(121)
        # A good login from this address clears its failures.
        assert (await _login(c, u["usuario"], u["password"])).status_code == 200
        assert (await _login(c, u["usuario"], "mala")).status_code == 401


async def test_una_oficina_tras_una_ip_entra_a_la_vez(nucleo: Any, crear_usuario: Any, monkeypatch: Any) -> None:
    """A whole office behind one NAT logging in at once: attempts being verified are not failures of
    the address (here the address limit is 3 and 20 people log in together)."""
    from enlace.api import create_app
    from tests.conftest import ajustes_prueba

    nucleo.settings = ajustes_prueba(nucleo.database_url, login_max_fallos_ip=3)
    app = create_app(nucleo, iniciar_nucleo=False)
    usuarios = [await crear_usuario("agente") for _ in range(20)]
    original = seguridad.verificar_password

    def lento(*args: Any) -> bool:
        time.sleep(0.05)  # a real Argon2id takes this long: the attempts overlap as they do in production
        return original(*args)

    monkeypatch.setattr(seguridad, "verificar_password", lento)
    async with _desde(app, "198.51.100.200") as c:

        async def entrar(i: int, u: dict[str, Any]) -> httpx.Response:
            await asyncio.sleep(i * 0.02)  # arriving one after another while earlier ones are being verified
            return await _login(c, u["usuario"], u["password"])

        respuestas = await asyncio.gather(*(entrar(i, u) for i, u in enumerate(usuarios)))
        assert sorted(r.status_code for r in respuestas) == [200] * 20
        # Confirmed failures still hold the address.
        for _ in range(3):
            assert (await _login(c, usuarios[0]["usuario"], "mala")).status_code == 401
        assert (await _login(c, usuarios[1]["usuario"], usuarios[1]["password"])).status_code == 429
