"""End-to-end fixtures: the real `enlace serve` (simulator engine, own database) and Debian's headless Chromium."""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

RAIZ = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("ENLACE_CHROMIUM", "/usr/bin/chromium")
CAPTURAS = Path(__file__).resolve().parent / "capturas"
SERVIDOR_PG = os.environ.get("ENLACE_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
# A Monday, 09:00 in Mexico City: the simulator's clock starts inside every sending window.
INICIO_SIMULADO = "2026-11-23T15:00:00+00:00"
# 60x: a campaign's pacing gaps (8–25 s) take a fraction of a second; a 12 h login lasts 12 real minutes.
VELOCIDAD = "60"
# axe-core (npm devDependency of web/) is injected into the page to check WCAG 2.1 AA on every screen.
AXE = RAIZ / "web" / "node_modules" / "axe-core" / "axe.min.js"
GRAVES = ("serious", "critical")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/e2e/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.e2e)


@dataclass
class Cuenta:
    usuario: str
    password: str
    nombre: str
    rol: str
    id: int = 0
    agente_id: int | None = None


@dataclass
class Servidor:
    url: str
    database_url: str
    cuentas: dict[str, Cuenta]
    proceso: subprocess.Popen[bytes]
    bitacora: Path
    datos: dict[str, Any] = field(default_factory=dict)

    def sql(self, consulta: str, *params: Any) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.database_url, autocommit=True) as c:
            cur = c.execute(consulta, params)
            return cur.fetchall() if cur.description else []


def _puerto_libre() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _url_base(nombre: str) -> str:
    base, _, consulta = SERVIDOR_PG.partition("?")
    return base.rsplit("/", 1)[0] + "/" + nombre + ("?" + consulta if consulta else "")


async def _sembrar(database_url: str, cuentas: dict[str, Cuenta]) -> None:
    """One team supervised by `supervisora`, with the agent `agente` in it, plus an admin."""
    from enlace.agentes.models import Equipo
    from enlace.auth.repository import agente_de_usuario
    from enlace.auth.schemas import UsuarioCrear
    from enlace.auth.service import crear_usuario
    from enlace.db.sesion import crear_fabrica, crear_motor_bd

    motor = crear_motor_bd(database_url, pool_size=1, max_overflow=0)
    try:
        async with crear_fabrica(motor)() as session:
            equipo = Equipo(nombre="Equipo Norte")
            session.add(equipo)
            await session.flush()
            for c in cuentas.values():
                creado = await crear_usuario(
                    session,
                    UsuarioCrear(
                        usuario=c.usuario,
                        nombre=c.nombre,
                        rol=c.rol,  # type: ignore[arg-type]
                        password=c.password,
                        equipo_id=equipo.id if c.rol != "admin" else None,
                    ),
                )
                c.id = creado.id
                if c.rol == "agente":
                    c.agente_id = await agente_de_usuario(session, creado.id)
            await session.commit()
    finally:
        await motor.dispose()


@pytest.fixture(scope="session")
def servidor() -> Iterator[Servidor]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"No está {CHROMIUM}: instala el paquete 'chromium' de Debian para las pruebas del panel.")
    if not (RAIZ / "web" / "dist" / "index.html").exists():
        pytest.fail("Falta web/dist: construye el panel con `cd web && npm ci && npm run build`.")

    from enlace.db.migrar import migrar

    nombre = f"enlace_e2e_{os.getpid()}_{secrets.token_hex(3)}"
    with psycopg.connect(SERVIDOR_PG, autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{nombre}"')
    database_url = _url_base(nombre)
    migrar(database_url)
    cuentas = {
        "admin": Cuenta("admin_e2e", "contraseña-admin-e2e", "Alma Administradora", "admin"),
        "supervisor": Cuenta("sofia_e2e", "contraseña-super-e2e", "Sofía Supervisora", "supervisor"),
        "agente": Cuenta("ana_e2e", "contraseña-agente-e2e", "Ana Agente", "agente"),
    }
    asyncio.run(_sembrar(database_url, cuentas))

    puerto = _puerto_libre()
    bitacora = Path(os.environ.get("TMPDIR", "/tmp")) / f"{nombre}.log"
    entorno = {
        **os.environ,
        "ENLACE_ENTORNO": "pruebas",
        "ENLACE_DATABASE_URL": database_url,
        "ENLACE_MOTOR": "simulador",
        "ENLACE_SIM_VELOCIDAD": VELOCIDAD,
        "ENLACE_SIM_INICIO": INICIO_SIMULADO,
        "ENLACE_SIM_AUTO_ESCANEAR": "false",
        "ENLACE_SECRET_KEY": "clave-e2e-" + secrets.token_hex(24),
        "ENLACE_HOST": "127.0.0.1",
        "ENLACE_PORT": str(puerto),
    }
    entorno.pop("ENLACE_REDIS_URL", None)  # one node: no Redis fan-out needed
    with open(bitacora, "wb") as salida:
        proceso = subprocess.Popen(
            [str(RAIZ / ".venv" / "bin" / "enlace"), "serve", "--port", str(puerto)],
            cwd=RAIZ,
            env=entorno,
            stdout=salida,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{puerto}"
    limite = time.monotonic() + 60
    while True:
        if proceso.poll() is not None:
            pytest.fail(f"`enlace serve` terminó al arrancar:\n{bitacora.read_text()[-3000:]}")
        try:
            if httpx.get(url + "/readyz", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if time.monotonic() > limite:
            proceso.kill()
            pytest.fail(f"`enlace serve` no estuvo listo en 60 s:\n{bitacora.read_text()[-3000:]}")
        time.sleep(0.3)

    srv = Servidor(url=url, database_url=database_url, cuentas=cuentas, proceso=proceso, bitacora=bitacora)
    try:
        yield srv
    finally:
        proceso.terminate()
        try:
            proceso.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proceso.kill()
            proceso.wait()
        with psycopg.connect(SERVIDOR_PG, autocommit=True) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{nombre}" WITH (FORCE)')


@pytest.fixture(scope="session")
def navegador(servidor: Servidor) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            yield b
        finally:
            b.close()


class Panel:
    """One browser context (one logged-in person) with helpers that read like the steps a user takes."""

    def __init__(self, navegador: Any, servidor: Servidor, ancho: int = 1440, alto: int = 900) -> None:
        self.servidor = servidor
        self.contexto = navegador.new_context(
            viewport={"width": ancho, "height": alto},
            locale="es-MX",
            timezone_id="America/Mexico_City",
            accept_downloads=True,
        )
        self.contexto.set_default_timeout(15_000)
        self.pagina = self.contexto.new_page()
        self.errores: list[str] = []
        self.dialogos: list[str] = []
        self.consola: list[str] = []
        self.accesibilidad: dict[str, list[str]] = {}
        self.pagina.on("pageerror", lambda e: self.errores.append(str(e)))
        self.pagina.on("console", lambda m: self.consola.append(f"{m.type}: {m.text}"))

        def _dialogo(d: Any) -> None:
            self.dialogos.append(d.message)
            d.dismiss()

        self.pagina.on("dialog", _dialogo)

    def ir(self, ruta: str) -> None:
        self.pagina.goto(self.servidor.url + ruta)

    def entrar(self, cuenta: Cuenta) -> None:
        self.ir("/login")
        self.pagina.get_by_label("Usuario").fill(cuenta.usuario)
        self.pagina.get_by_label("Contraseña").fill(cuenta.password)
        self.pagina.get_by_role("button", name="Entrar").click()
        self.pagina.get_by_test_id("usuario-actual").wait_for()

    def capturar(self, nombre: str, *, revisar: bool = True) -> None:
        """Screenshot of the screen as it is now, and the accessibility check of that same screen."""
        CAPTURAS.mkdir(parents=True, exist_ok=True)
        self.pagina.wait_for_timeout(300)  # let charts and transitions settle
        self.pagina.screenshot(path=str(CAPTURAS / f"{nombre}.png"), full_page=True)
        if revisar:
            graves = self.revisar_accesibilidad()
            if os.environ.get("ENLACE_AXE_INFORME"):  # while fixing: collect every screen's findings, fail none
                with open(os.environ["ENLACE_AXE_INFORME"], "a", encoding="utf-8") as informe:
                    informe.write("".join(f"{nombre}: {g}\n" for g in graves))
                return
            assert not graves, f"{nombre}: fallas de accesibilidad graves:\n" + "\n".join(graves)

    def revisar_accesibilidad(self) -> list[str]:
        """Run axe-core (WCAG 2.1 A/AA) on the page; the serious and critical violations, described."""
        if not AXE.exists():
            pytest.fail("Falta web/node_modules/axe-core: ejecuta `cd web && npm ci`.")
        if not self.pagina.evaluate("() => typeof window.axe !== 'undefined'"):
            # Evaluated through the DevTools protocol: the panel's Content-Security-Policy (script-src 'self')
            # rightly refuses an injected <script>, and the check must not weaken it.
            self.pagina.evaluate(AXE.read_text(encoding="utf-8") + "\n;undefined")
        resultado = self.pagina.evaluate(
            """async () => {
                const r = await window.axe.run(document, {
                    runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
                    resultTypes: ['violations'],
                });
                return r.violations.map(v => ({
                    id: v.id, impacto: v.impact, ayuda: v.help,
                    nodos: v.nodes.slice(0, 3).map(
                        n => n.target.join(' ') + ' — ' + (n.failureSummary || '').split('\\n')[1]),
                }));
            }"""
        )
        return [
            f"{v['id']} ({v['impacto']}): {v['ayuda']} → " + " | ".join(v["nodos"])
            for v in resultado
            if v["impacto"] in GRAVES
        ]

    def api(self, metodo: str, ruta: str, datos: Any = None) -> Any:
        """A call with this browser's cookies and CSRF token (what the panel itself would send)."""
        token = next((c["value"] for c in self.contexto.cookies() if c["name"] == "enlace_csrf"), "")
        r = self.contexto.request.fetch(
            self.servidor.url + ruta, method=metodo, data=datos, headers={"X-CSRF-Token": token}
        )
        assert r.ok, f"{metodo} {ruta} → {r.status}: {r.text()}"
        if r.status == 204 or not r.body():
            return None
        return r.json() if r.headers.get("content-type", "").startswith("application/json") else r.text()

    def cerrar(self) -> None:
        self.contexto.close()


@pytest.fixture
def abrir_panel(navegador: Any, servidor: Servidor) -> Iterator[Any]:
    abiertos: list[Panel] = []

    def abrir(**kwargs: Any) -> Panel:
        p = Panel(navegador, servidor, **kwargs)
        abiertos.append(p)
        return p

    yield abrir
    for p in abiertos:
        p.cerrar()


def esperar(condicion: Any, segundos: float = 20, mensaje: str = "") -> Any:
    """Poll a condition (server-side facts) without assuming any timing."""
    limite = time.monotonic() + segundos
    while True:
        valor = condicion()
        if valor:
            return valor
        if time.monotonic() > limite:
            raise AssertionError(mensaje or "la condición no se cumplió a tiempo")
        time.sleep(0.25)
