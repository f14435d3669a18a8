"""Kill test: the core or the gateway dies at random moments during heavy key churn, 50 times.

Every time, the session comes back without a QR, and the keys stored in PostgreSQL (and the keys the
next socket starts from) are exactly what the socket last saw confirmed — plus, at most, the one
batch that was in flight when the process died (committed or not, never half of it).
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psutil
import psycopg
import pytest

from enlace.db.sesion import crear_fabrica, crear_motor_bd
from enlace.motores.baileys.motor import DIRECTORIO_GATEWAY
from enlace.sesiones import credenciales as almacen
from enlace.sesiones.cifrado import Llavero
from enlace.settings import Settings

pytestmark = [
    pytest.mark.gateway,
    pytest.mark.lento,
    pytest.mark.skipif(
        shutil.which("node") is None or not (DIRECTORIO_GATEWAY / "node_modules" / "baileys").exists(),
        reason="necesita node y `npm ci` en gateway/",
    ),
]

MUERTES = int(os.environ.get("ENLACE_MUERTES", "50"))
RAIZ = Path(__file__).resolve().parents[2]
SECRETO = "clave-de-pruebas-" + "x" * 32


def _aplicar(estado: dict[str, Any], delta: dict[str, Any]) -> dict[str, Any]:
    nuevo = dict(estado)
    for clave, valor in delta.items():
        if valor is None:
            nuevo.pop(clave, None)
        else:
            nuevo[clave] = valor
    return nuevo


class Bitacora:
    """Replays the stand-in's key log: what was confirmed, and the batch in flight."""

    def __init__(self, ruta: Path) -> None:
        self.ruta = ruta
        self.leidas = 0
        self.confirmado: dict[str, Any] = {}
        self.en_vuelo: dict[str, dict[str, Any]] = {}
        self.inicios = 0
        self.oks_desde_inicio = 0

    def posibles(self) -> list[dict[str, Any]]:
        """The states the store may hold: confirmed, or confirmed + the one batch in flight."""
        assert len(self.en_vuelo) <= 1, f"más de un lote en vuelo: {list(self.en_vuelo)}"
        return [self.confirmado] + [_aplicar(self.confirmado, d) for d in self.en_vuelo.values()]

    def leer(self) -> None:
        lineas = self.ruta.read_text().splitlines() if self.ruta.exists() else []
        for linea in lineas[self.leidas :]:
            if not linea.endswith("}"):
                break  # a line being written right now
            self.leidas += 1
            dato = json.loads(linea)
            if dato["fase"] == "inicio":
                # A new socket: it must start from a state the store was allowed to hold.
                assert dato["claves"] in self.posibles(), "el socket arrancó con claves distintas a las confirmadas"
                self.confirmado = dato["claves"]
                self.en_vuelo.clear()
                self.inicios += 1
                self.oks_desde_inicio = 0
            elif dato["fase"] == "pide":
                self.en_vuelo[dato["seq"]] = dato["delta"]
            elif dato["fase"] == "ok":
                self.confirmado = _aplicar(self.confirmado, self.en_vuelo.pop(dato["seq"]))
                self.oks_desde_inicio += 1

    def resincronizar(self, guardado: dict[str, Any]) -> None:
        assert guardado in self.posibles(), "lo guardado no es lo confirmado (ni lo confirmado + el lote en vuelo)"
        self.confirmado = guardado
        self.en_vuelo.clear()


def _settings(url: str) -> Settings:
    return Settings(_env_file=None, entorno="pruebas", database_url=url, motor="baileys", secret_key=SECRETO)  # type: ignore[call-arg]


async def _claves_guardadas(url: str, agente_id: int) -> tuple[dict[str, Any], dict[str, Any]]:
    motor = crear_motor_bd(url, pool_size=1, max_overflow=0)
    try:
        async with crear_fabrica(motor)() as s:
            estado = await almacen.cargar(s, Llavero.desde_settings(_settings(url)), agente_id, None, None)
    finally:
        await motor.dispose()
    assert estado is not None
    return estado["creds"], estado["keys"].get("session", {})


def _sembrar(url: str) -> int:
    """An agent whose session is linked (registered creds stored as rows), to be resumed."""
    llavero = Llavero.desde_settings(_settings(url))
    creds = {
        "registered": True,
        "me": {"id": "5215512345678:7@s.whatsapp.net", "lid": "190000000000001:7@lid", "name": "Agente"},
    }
    with psycopg.connect(url, autocommit=True) as c:
        agente_id = c.execute("INSERT INTO agentes (nombre) VALUES ('Agente') RETURNING id").fetchone()[0]  # type: ignore[index]
        c.execute(
            "INSERT INTO sesiones_wa (agente_id, motor, estado, reanudar) VALUES (%s, 'baileys', 'desconectada', true)",
            (agente_id,),
        )
        filas, _ = almacen.filas_de_delta(llavero, agente_id, {"creds": creds})
        for tipo, ident, clave_id, cifrado in filas:
            c.execute(
                "INSERT INTO credenciales_wa (agente_id, tipo, ident, clave_id, cifrado) VALUES (%s, %s, %s, %s, %s)",
                (agente_id, tipo, ident, clave_id, cifrado),
            )
    return agente_id


def _arrancar_nucleo(url: str, agente_id: int, bitacora: Path) -> subprocess.Popen[bytes]:
    entorno = {**os.environ, "ENLACE_SIMULADO_BITACORA_CLAVES": str(bitacora), "ENLACE_SIMULADO_CHURN_CLAVES": "60"}
    return subprocess.Popen(
        [sys.executable, "-m", "tests.soporte.nucleo_claves", url, str(agente_id)],
        cwd=RAIZ,
        env=entorno,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def _esperar(condicion: Any, limite_s: float, que: str) -> None:
    fin = time.monotonic() + limite_s
    while not condicion():
        if time.monotonic() > fin:
            raise AssertionError(f"no pasó a tiempo: {que}")
        time.sleep(0.02)


def _procesos(nucleo: subprocess.Popen[bytes]) -> tuple[list[psutil.Process], list[psutil.Process]]:
    """(supervisor, workers) of the gateway this core started."""
    try:
        hijos = psutil.Process(nucleo.pid).children()
    except psutil.NoSuchProcess:
        return [], []
    supervisores = [h for h in hijos if "index.js" in " ".join(h.cmdline())]
    trabajadores = [n for s in supervisores for n in s.children() if "trabajador.js" in " ".join(n.cmdline())]
    return supervisores, trabajadores


def _muertos(procesos: list[psutil.Process]) -> bool:
    return all(not p.is_running() or p.status() == psutil.STATUS_ZOMBIE for p in procesos)


def test_matar_nucleo_o_pasarela_50_veces_no_pierde_claves(url_bd: str, limpiar_bd: None, tmp_path: Path) -> None:
    azar = random.Random(int(os.environ.get("ENLACE_SEMILLA_MUERTES", "13")))
    agente_id = _sembrar(url_bd)
    bitacora = Bitacora(tmp_path / "claves.jsonl")
    nucleo = _arrancar_nucleo(url_bd, agente_id, bitacora.ruta)
    muertes = {"nucleo": 0, "supervisor": 0, "trabajador": 0}
    try:
        for _ in range(MUERTES):
            # Wait until the (re)started socket is churning keys, then kill something at a random moment.
            def girando() -> bool:
                bitacora.leer()
                return bitacora.inicios > 0 and bitacora.oks_desde_inicio >= 1

            t0 = time.monotonic()
            _esperar(girando, 60, "la sesión vuelve y sigue cambiando claves")
            if os.environ.get("ENLACE_MUERTES_DEPURAR"):
                print(f"espera {time.monotonic() - t0:.2f}s", file=sys.stderr)
            time.sleep(azar.uniform(0, 0.25))
            # Restarting the Python core costs seconds of imports; the gateway's processes restart in
            # well under one. Every kind dies several times; the core about a tenth of them.
            victima = azar.choices(["nucleo", "supervisor", "trabajador"], weights=[1, 3, 6])[0]
            supervisores, trabajadores = _procesos(nucleo)
            if victima == "trabajador" and not trabajadores:
                victima = "supervisor"
            if victima == "supervisor" and not supervisores:
                victima = "nucleo"
            muertes[victima] += 1
            if os.environ.get("ENLACE_MUERTES_DEPURAR"):
                print(f"mata {victima}", file=sys.stderr)
            if victima == "nucleo":
                os.kill(nucleo.pid, signal.SIGKILL)
                nucleo.wait()
                # Without its core the gateway has nobody to confirm keys to: it must leave on its own.
                vivos = supervisores + trabajadores
                _esperar(lambda vivos=vivos: _muertos(vivos), 15, "la pasarela termina sin núcleo")
                bitacora.leer()
                creds, guardadas = asyncio.run(_claves_guardadas(url_bd, agente_id))
                assert creds["registered"] is True
                bitacora.resincronizar(guardadas)
                bitacora.inicios = 0
                nucleo = _arrancar_nucleo(url_bd, agente_id, bitacora.ruta)
            else:
                proceso = supervisores[0] if victima == "supervisor" else azar.choice(trabajadores)
                inicios = bitacora.inicios
                proceso.kill()

                def reinicio(inicios: int = inicios) -> bool:
                    bitacora.leer()
                    return bitacora.inicios > inicios

                _esperar(reinicio, 60, f"la sesión reanuda tras matar el {victima}")
        # Let it settle, stop the core hard one last time and compare the store with the log.
        _esperar(girando, 60, "la sesión sigue viva al final")
        with psycopg.connect(url_bd) as c:
            estado = c.execute("SELECT estado FROM sesiones_wa WHERE agente_id = %s", (agente_id,)).fetchone()
        assert estado == ("conectada",)
        supervisores, trabajadores = _procesos(nucleo)
        os.kill(nucleo.pid, signal.SIGKILL)
        nucleo.wait()
        _esperar(lambda: _muertos(supervisores + trabajadores), 15, "la pasarela termina sin núcleo")
        bitacora.leer()
        _, guardadas = asyncio.run(_claves_guardadas(url_bd, agente_id))
        bitacora.resincronizar(guardadas)
        assert guardadas, "la prueba no llegó a guardar claves"
        assert sum(muertes.values()) == MUERTES and all(muertes.values()), muertes
    finally:
        if nucleo.poll() is None:
            os.killpg(nucleo.pid, signal.SIGKILL)
            nucleo.wait()
