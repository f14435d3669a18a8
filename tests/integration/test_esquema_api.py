"""Property-based run of the whole API from its OpenAPI schema (schemathesis) against a real node.

Every operation, authenticated as each role (an API token with every scope of an agent, a
supervisor and an admin), a bounded number of generated requests each (valid and invalid data):
no response may be a 5xx, and every response with a documented status must match its schema.
The admin runs last (its requests may change the other users). Totals are printed.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import secrets
import socket
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

pytestmark = pytest.mark.lento

RAIZ = Path(__file__).resolve().parents[2]
SERVIDOR_PG = os.environ.get("ENLACE_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
EJEMPLOS = int(os.environ.get("ENLACE_SCHEMATHESIS_EJEMPLOS", "4"))
# Operations a role skips because they would cut the run short (they work; the run would lose its token).
OMITIR = {"admin": {("DELETE", "/api/tokens/{token_id}")}}


def _puerto_libre() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _sembrar(url: str) -> dict[str, str]:
    """One team with a supervisor and an agent, an admin, a contact, and an all-scopes token for each."""
    tokens = {}
    with psycopg.connect(url, autocommit=True) as c:
        equipo = c.execute("INSERT INTO equipos (nombre) VALUES ('Norte') RETURNING id").fetchone()[0]
        for rol in ("agente", "supervisor", "admin"):
            uid = c.execute(
                "INSERT INTO usuarios (usuario, nombre, rol, password_hash) VALUES (%s, %s, %s, '!') RETURNING id",
                (f"{rol}_st", rol.title(), rol),
            ).fetchone()[0]
            if rol == "agente":
                agente = c.execute(
                    "INSERT INTO agentes (nombre, usuario_id, equipo_id) VALUES ('Ana', %s, %s) RETURNING id",
                    (uid, equipo),
                ).fetchone()[0]
                c.execute(
                    "INSERT INTO contactos (agente_id, nombre, telefono) VALUES (%s, 'Uno', '+525512345678')", (agente,)
                )
            if rol == "supervisor":
                c.execute("UPDATE equipos SET supervisor_id = %s WHERE id = %s", (uid, equipo))
            token = "enl_" + secrets.token_urlsafe(32)
            c.execute(
                "INSERT INTO tokens_api (usuario_id, nombre, prefijo, token_hash, alcances) "
                "VALUES (%s, 'schemathesis', %s, %s, '{*}')",
                (uid, token[:8], hashlib.sha256(token.encode()).hexdigest()),
            )
            tokens[rol] = token
    return tokens


@pytest.fixture(scope="module")
def nodo() -> Iterator[tuple[str, dict[str, str]]]:
    from enlace.db.migrar import migrar

    nombre = f"enlace_st_{os.getpid()}_{secrets.token_hex(3)}"
    with psycopg.connect(SERVIDOR_PG, autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{nombre}"')
    base, _, consulta = SERVIDOR_PG.partition("?")
    url = base.rsplit("/", 1)[0] + "/" + nombre + ("?" + consulta if consulta else "")
    migrar(url)
    tokens = _sembrar(url)
    puerto = _puerto_libre()
    entorno = {
        **os.environ,
        "ENLACE_ENTORNO": "pruebas",
        "ENLACE_DATABASE_URL": url,
        "ENLACE_MOTOR": "simulador",
        "ENLACE_SECRET_KEY": "clave-schemathesis-" + secrets.token_hex(24),
        "ENLACE_IMPORTACIONES_POR_HORA": "100000",
    }
    entorno.pop("ENLACE_REDIS_URL", None)
    bitacora = Path(os.environ.get("TMPDIR", "/tmp")) / f"{nombre}.log"
    with open(bitacora, "wb") as salida:
        proceso = subprocess.Popen(
            [str(RAIZ / ".venv" / "bin" / "enlace"), "serve", "--port", str(puerto)],
            cwd=RAIZ,
            env=entorno,
            stdout=salida,
            stderr=subprocess.STDOUT,
        )
    base_url = f"http://127.0.0.1:{puerto}"
    try:
        limite = time.monotonic() + 60
        while True:
            if proceso.poll() is not None:
                pytest.fail(f"`enlace serve` terminó al arrancar:\n{bitacora.read_text()[-3000:]}")
            try:
                if httpx.get(base_url + "/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > limite:
                pytest.fail("`enlace serve` no estuvo listo en 60 s")
            time.sleep(0.3)
        yield base_url, tokens
    finally:
        proceso.terminate()
        try:
            proceso.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proceso.kill()
        with psycopg.connect(SERVIDOR_PG, autocommit=True) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{nombre}" WITH (FORCE)')


def _correr(base_url: str, token: str, rol: str) -> tuple[Counter[str], list[str]]:
    import schemathesis

    esquema = schemathesis.openapi.from_url(base_url + "/openapi.json")
    cuenta: Counter[str] = Counter()
    fallos: list[str] = []
    cabeceras = {"Authorization": f"Bearer {token}"}
    for resultado in esquema.get_all_operations():
        operacion = resultado.ok()
        clave = (operacion.method.upper(), operacion.path)
        if clave in OMITIR.get(rol, set()):
            continue
        cuenta["operaciones"] += 1

        _probar_operacion(operacion, clave, base_url, cabeceras, rol, cuenta, fallos)
    return cuenta, fallos


def _probar_operacion(
    operacion: Any,
    clave: tuple[str, str],
    base_url: str,
    cabeceras: dict[str, str],
    rol: str,
    cuenta: Counter[str],
    fallos: list[str],
) -> None:
    from hypothesis import HealthCheck, Phase, given, settings
    from schemathesis.checks import not_a_server_error, response_schema_conformance

    @settings(
        max_examples=EJEMPLOS,
        derandomize=True,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(caso=operacion.as_strategy())
    def probar(caso: Any) -> None:
        cuenta["casos"] += 1
        respuesta = caso.call(base_url=base_url, headers=cabeceras, timeout=30)
        cuenta[f"{respuesta.status_code // 100}xx"] += 1
        try:
            caso.validate_response(respuesta, checks=[not_a_server_error, response_schema_conformance])
        except Exception as exc:  # a failed check: keep going, report them all at the end
            fallos.append(f"{rol} {clave[0]} {clave[1]} → {respuesta.status_code}: {str(exc)[:300]}")

    probar()


def test_ningun_500_ni_respuesta_fuera_del_esquema(nodo: tuple[str, dict[str, str]]) -> None:
    base_url, tokens = nodo
    total: Counter[str] = Counter()
    fallos: list[str] = []
    for rol in ("agente", "supervisor", "admin"):
        cuenta, del_rol = _correr(base_url, tokens[rol], rol)
        total.update(cuenta)
        fallos.extend(del_rol)
        print(f"schemathesis {rol}: " + " ".join(f"{k}={v}" for k, v in sorted(cuenta.items())))
    print("schemathesis total: " + " ".join(f"{k}={v}" for k, v in sorted(total.items())) + f" fallos={len(fallos)}")
    assert not fallos, "\n".join(fallos[:30])
    assert total["casos"] >= total["operaciones"]  # every operation got requests


def test_ids_fuera_de_rango_no_dan_500(nodo: tuple[str, dict[str, str]]) -> None:
    base_url, tokens = nodo
    cabeceras = {"Authorization": f"Bearer {tokens['admin']}"}

    async def pedir() -> list[tuple[str, int]]:
        async with httpx.AsyncClient(base_url=base_url, headers=cabeceras) as c:
            rutas = [
                "/api/contactos/9223372036854775808",
                "/api/contactos/2147483648",
                "/api/agentes/99999999999999999999999",
                "/api/campana/9223372036854775807/estado",
                "/api/conversaciones/2147483648/mensajes",
                "/api/contactos/abc",
            ]
            return [(r, (await c.get(r)).status_code) for r in rutas]

    for ruta, status in asyncio.run(pedir()):
        assert status in (404, 422), f"{ruta} → {status}"
