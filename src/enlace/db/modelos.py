"""Imports every domain's models so `Base.metadata` is complete (Alembic, tests)."""

from __future__ import annotations

import importlib
import pkgutil

import enlace
from enlace.db.base import Base


def cargar_modelos() -> type[Base]:
    """Import `enlace.<dominio>.models` for every domain package that has one."""
    for info in pkgutil.iter_modules(enlace.__path__):
        if info.ispkg:
            try:
                importlib.import_module(f"enlace.{info.name}.models")
            except ModuleNotFoundError as exc:
                if exc.name != f"enlace.{info.name}.models":
                    raise
    return Base
