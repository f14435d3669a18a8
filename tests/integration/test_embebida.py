"""Smoke test: `enlace serve` with no database URL boots the embedded PostgreSQL and stops it on Ctrl-C."""

from __future__ import annotations

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


def test_serve_embebido_responde_readyz_y_limpia_al_salir(tmp_path: Path) -> None:
    puerto = _puerto_libre()
    entorno = {k: v for k, v in os.environ.items() if not k.startswith("ENLACE_")}
    entorno.update({"ENLACE_PORT": str(puerto), "ENLACE_MOTOR": "simulador", "ENLACE_DIRECTORIO_DATOS": str(tmp_path)})
    proceso = subprocess.Popen(
        [sys.executable, "-m", "enlace.cli", "serve"],
        env=entorno,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        listo = None
        limite = time.monotonic() + 90
        while time.monotonic() < limite and proceso.poll() is None:
            try:
                listo = httpx.get(f"http://127.0.0.1:{puerto}/readyz", timeout=2)
                if listo.status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        assert listo is not None and listo.status_code == 200, proceso.stdout.read() if proceso.poll() else ""
        assert httpx.get(f"http://127.0.0.1:{puerto}/docs", timeout=5).status_code == 200
        assert _postgres_de(tmp_path), "el PostgreSQL embebido debería estar corriendo"
    finally:
        proceso.send_signal(signal.SIGINT)
        salida, _ = proceso.communicate(timeout=60)
    assert "admin" in salida  # the one-time admin password was printed
    time.sleep(0.5)
    assert _postgres_de(tmp_path) == [], "quedó un PostgreSQL vivo tras Ctrl-C"
