"""Smoke test: `enlace serve` with no database URL boots the embedded PostgreSQL and stops it on Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil


def _puerto_libre() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _postgres_de(directorio: Path) -> list[psutil.Process]:
    encontrados = []
    for proceso in psutil.process_iter(["name", "cmdline"]):
        try:
            linea = " ".join(proceso.info["cmdline"] or [])
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        if "postgres" in (proceso.info["name"] or "") and str(directorio) in linea:
            encontrados.append(proceso)
    return encontrados


def _arrancar(directorio: Path) -> tuple[subprocess.Popen[str], int]:
    puerto = _puerto_libre()
    entorno = {k: v for k, v in os.environ.items() if not k.startswith("ENLACE_")}
    entorno.update(
        {"ENLACE_PORT": str(puerto), "ENLACE_MOTOR": "simulador", "ENLACE_DIRECTORIO_DATOS": str(directorio)}
    )
    proceso = subprocess.Popen(
        [sys.executable, "-m", "enlace.cli", "serve"],
        env=entorno,
        cwd=directorio,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    return proceso, puerto


def _esperar_listo(proceso: subprocess.Popen[str], puerto: int) -> None:
    listo = None
    limite = time.monotonic() + 120
    while time.monotonic() < limite and proceso.poll() is None:
        try:
            listo = httpx.get(f"http://127.0.0.1:{puerto}/readyz", timeout=2)
            if listo.status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    salida = proceso.stdout.read() if proceso.poll() is not None and proceso.stdout else ""
    raise AssertionError(f"enlace serve no quedó listo: {salida}")


def _sin_postgres(directorio: Path) -> bool:
    # pg_ctl stop waits for the postmaster; its children may take a moment more to vanish.
    limite = time.monotonic() + 15
    while time.monotonic() < limite:
        if not _postgres_de(directorio):
            return True
        time.sleep(0.2)
    return False


def test_serve_embebido_responde_readyz_y_limpia_al_salir(tmp_path: Path) -> None:
    proceso, puerto = _arrancar(tmp_path)
    try:
        _esperar_listo(proceso, puerto)
        assert httpx.get(f"http://127.0.0.1:{puerto}/docs", timeout=5).status_code == 200
        assert _postgres_de(tmp_path), "el PostgreSQL embebido debería estar corriendo"
    finally:
        proceso.send_signal(signal.SIGINT)
        salida, _ = proceso.communicate(timeout=60)
    assert "admin" in salida  # the one-time admin password was printed
    # ...and written to a file only the owner can read.
    archivo = tmp_path / "admin-password-inicial.txt"
    assert archivo.stat().st_mode & 0o777 == 0o600
    password = archivo.read_text(encoding="utf-8").split(": ")[-1].strip()
    assert password and password in salida
    assert _sin_postgres(tmp_path), "quedó un PostgreSQL vivo tras Ctrl-C"


def test_sigterm_detiene_el_postgresql_embebido(tmp_path: Path) -> None:
    """SIGTERM is what a service manager, Docker or Railway sends: it must stop PostgreSQL like Ctrl-C."""
    proceso, puerto = _arrancar(tmp_path)
    try:
        _esperar_listo(proceso, puerto)
        assert _postgres_de(tmp_path)
    finally:
        proceso.send_signal(signal.SIGTERM)
        proceso.communicate(timeout=60)
    assert _sin_postgres(tmp_path), "quedó un PostgreSQL vivo tras SIGTERM"
    assert json.loads((tmp_path / "postgres" / ".handle_pids.json").read_text()) == []


def test_kill_9_luego_arranque_y_parada_limpia_no_deja_postgresql(tmp_path: Path) -> None:
    """A crash leaves PostgreSQL and a dead handle behind; the next start adopts it and stops it."""
    proceso, puerto = _arrancar(tmp_path)
    _esperar_listo(proceso, puerto)
    proceso.kill()
    proceso.communicate(timeout=30)
    assert _postgres_de(tmp_path), "tras kill -9 el PostgreSQL sigue vivo (por eso hay que adoptarlo)"
    muertos = json.loads((tmp_path / "postgres" / ".handle_pids.json").read_text())
    assert proceso.pid in muertos

    segundo, puerto = _arrancar(tmp_path)
    try:
        _esperar_listo(segundo, puerto)
        vivos = json.loads((tmp_path / "postgres" / ".handle_pids.json").read_text())
        assert proceso.pid not in vivos
    finally:
        segundo.send_signal(signal.SIGTERM)
        salida, _ = segundo.communicate(timeout=60)
    assert "postgresql_embebido_manejadores_muertos" in salida
    assert _sin_postgres(tmp_path), "quedó un PostgreSQL vivo tras kill -9 + arranque + parada"
