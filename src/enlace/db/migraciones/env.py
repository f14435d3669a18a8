"""Alembic environment: Enlace's models and database URL; procrastinate's own objects are ignored."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool

from enlace.db.modelos import cargar_modelos
from enlace.db.sesion import url_async
from enlace.settings import get_settings

config = context.config
metadata = cargar_modelos().metadata


def _url() -> str:
    url = config.attributes.get("url") or config.get_main_option("sqlalchemy.url")
    if not url:
        from enlace.db.embebida import resolver_url

        ajustes = get_settings()
        url = resolver_url(ajustes.database_url, ajustes.directorio_datos)
    return url_async(url)


def incluir_objeto(objeto, nombre, tipo, reflejado, comparado_con) -> bool:  # type: ignore[no-untyped-def]
    # procrastinate manages its own tables, types and functions.
    return not (nombre or "").startswith("procrastinate")


def run_migrations_offline() -> None:
    context.configure(url=_url(), target_metadata=metadata, literal_binds=True, include_object=incluir_objeto)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    conexion_dada = config.attributes.get("connection")
    if conexion_dada is not None:
        _correr(conexion_dada)
        return
    motor = create_engine(_url(), poolclass=pool.NullPool)
    with motor.connect() as conexion:
        _correr(conexion)
    motor.dispose()


def _correr(conexion) -> None:  # type: ignore[no-untyped-def]
    context.configure(connection=conexion, target_metadata=metadata, include_object=incluir_objeto, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
