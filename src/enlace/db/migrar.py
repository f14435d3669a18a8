"""Apply and check migrations programmatically (CLI, server start, tests)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, pool

from enlace.db.sesion import url_async

INI = Path(__file__).with_name("alembic.ini")


def configuracion(url: str) -> Config:
    cfg = Config(str(INI))
    cfg.attributes["url"] = url
    return cfg


def migrar(url: str, revision: str = "head") -> None:
    command.upgrade(configuracion(url), revision)


def revision_cabeza() -> str:
    return ScriptDirectory.from_config(Config(str(INI))).get_current_head() or ""


def revision_actual(url: str) -> str | None:
    motor = create_engine(url_async(url), poolclass=pool.NullPool)
    try:
        with motor.connect() as conexion:
            return MigrationContext.configure(conexion).get_current_revision()
    finally:
        motor.dispose()
