"""Shared fixtures: one throwaway PostgreSQL database per pytest process, migrated once.

Integration tests get a clean database (every table truncated) before each test, a core on a
manual clock, an HTTP client on the real app, and helpers to create users and log in.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import httpx
import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from enlace.auth.seguridad import usar_coste_de_pruebas
from enlace.db.migrar import migrar
from enlace.db.modelos import cargar_modelos
from enlace.db.sesion import esperar_post_commit
from enlace.reloj import RelojManual
from enlace.settings import Settings

usar_coste_de_pruebas()

URL_SERVIDOR_PRUEBAS = os.environ.get("ENLACE_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def _url_con_base(url: str, nombre: str) -> str:
    base, _, consulta = url.partition("?")
    base = base.rsplit("/", 1)[0] + "/" + nombre
    return base + ("?" + consulta if consulta else "")


@pytest.fixture(scope="session")
def url_bd() -> Iterator[str]:
    """A fresh database migrated to head, dropped when the session ends."""
    nombre = f"enlace_t_{os.getpid()}_{secrets.token_hex(3)}"
    with psycopg.connect(URL_SERVIDOR_PRUEBAS, autocommit=True) as conexion:
        conexion.execute(f'CREATE DATABASE "{nombre}"')
    url = _url_con_base(URL_SERVIDOR_PRUEBAS, nombre)
    migrar(url)
    yield url
    with psycopg.connect(URL_SERVIDOR_PRUEBAS, autocommit=True) as conexion:
        conexion.execute(f'DROP DATABASE IF EXISTS "{nombre}" WITH (FORCE)')


@pytest.fixture(scope="session")
def tablas() -> list[str]:
    return [t.name for t in cargar_modelos().metadata.sorted_tables]


def ajustes_prueba(url: str, **extra: Any) -> Settings:
    valores: dict[str, Any] = {
        "entorno": "pruebas",
        "database_url": url,
        "motor": "simulador",
        "secret_key": "clave-de-pruebas-" + "x" * 32,
        "sim_velocidad": 1.0,
    }
    valores.update(extra)
    return Settings(_env_file=None, **valores)  # type: ignore[call-arg]


@pytest.fixture
def limpiar_bd(url_bd: str, tablas: list[str]) -> None:
    lista = ", ".join(f'"{t}"' for t in tablas)
    with psycopg.connect(url_bd, autocommit=True) as conexion:
        conexion.execute(
            f"TRUNCATE {lista}, procrastinate_jobs, procrastinate_events, procrastinate_periodic_defers, "
            "procrastinate_workers "
            "RESTART IDENTITY CASCADE"
        )


@pytest.fixture
def reloj() -> RelojManual:
    return RelojManual()


@pytest.fixture
def ajustes(url_bd: str) -> Settings:
    return ajustes_prueba(url_bd)


@pytest.fixture
async def nucleo(limpiar_bd: None, url_bd: str, ajustes: Settings, reloj: RelojManual) -> AsyncIterator[Any]:
    """A core on the manual clock without domain components (tests start what they need)."""
    from enlace.nucleo import Nucleo

    n = Nucleo(ajustes, url_bd, reloj=reloj, con_componentes=False)
    await n.iniciar()
    yield n
    await esperar_post_commit()
    await n.detener()


@pytest.fixture
async def db(nucleo: Any) -> AsyncIterator[AsyncSession]:
    async with nucleo.fabrica() as session:
        yield session


@pytest.fixture
def app(nucleo: Any) -> Any:
    from enlace.api import create_app

    return create_app(nucleo, iniciar_nucleo=False)


@pytest.fixture
async def cliente(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    """An anonymous client on the real app."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://prueba") as c:
        yield c


CrearUsuario = Callable[..., Awaitable[dict[str, Any]]]


@pytest.fixture
def crear_usuario(nucleo: Any) -> CrearUsuario:
    """Create a user (and its agent row for agents); returns ids and the password."""
    contador = {"n": 0}

    async def crear(
        rol: str = "agente",
        *,
        equipo_id: int | None = None,
        usuario: str | None = None,
        password: str = "contraseña-segura-1",
    ) -> dict[str, Any]:
        from enlace.auth.repository import agente_de_usuario
        from enlace.auth.schemas import UsuarioCrear
        from enlace.auth.service import crear_usuario as crear_servicio

        contador["n"] += 1
        nombre = usuario or f"{rol}{contador['n']}_{secrets.token_hex(2)}"
        async with nucleo.fabrica() as session:
            creado = await crear_servicio(
                session,
                UsuarioCrear(usuario=nombre, nombre=nombre.title(), rol=rol, password=password, equipo_id=equipo_id),
            )
            agente_id = await agente_de_usuario(session, creado.id)
            await session.commit()
        return {"id": creado.id, "usuario": nombre, "password": password, "rol": rol, "agente_id": agente_id}

    return crear


async def iniciar_sesion_cliente(app: Any, usuario: str, password: str) -> httpx.AsyncClient:
    cliente = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://prueba")
    respuesta = await cliente.post("/api/auth/login", json={"usuario": usuario, "password": password})
    assert respuesta.status_code == 200, respuesta.text
    cliente.headers["X-CSRF-Token"] = respuesta.json()["csrf_token"]
    return cliente


@pytest.fixture
async def cliente_como(app: Any, crear_usuario: CrearUsuario) -> AsyncIterator[Callable[..., Awaitable[Any]]]:
    """`await cliente_como('agente')` → a logged-in client with `.usuario` (dict) attached."""
    abiertos: list[httpx.AsyncClient] = []

    async def fabricar(rol: str = "agente", **kwargs: Any) -> httpx.AsyncClient:
        datos = await crear_usuario(rol, **kwargs)
        c = await iniciar_sesion_cliente(app, datos["usuario"], datos["password"])
        c.usuario = datos  # type: ignore[attr-defined]
        abiertos.append(c)
        return c

    yield fabricar
    for c in abiertos:
        await c.aclose()


@pytest.fixture
async def equipo(nucleo: Any) -> Callable[..., Awaitable[int]]:
    """`await equipo('Norte', supervisor_id=...)` → a team id."""

    async def crear(nombre: str | None = None, supervisor_id: int | None = None) -> int:
        from enlace.agentes.models import Equipo

        async with nucleo.fabrica() as session:
            fila = Equipo(nombre=nombre or f"Equipo {secrets.token_hex(3)}", supervisor_id=supervisor_id)
            session.add(fila)
            await session.commit()
            return fila.id

    return crear


async def ejecutar_sql(session: AsyncSession, sql: str, **params: Any) -> Any:
    return await session.execute(text(sql), params)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Browser tests last: Playwright's sync API keeps a loop running in the main thread until the
    session ends, which would break every asyncio test collected after it."""
    items.sort(key=lambda item: item.get_closest_marker("e2e") is not None)
