"""Declarative base shared by every domain's models, with stable constraint names."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import DateTime, MetaData, func
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

CONVENCION_NOMBRES = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=CONVENCION_NOMBRES)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: DateTime(timezone=True)}


class ConCreado:
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


def check_en(columna: str, valores: tuple[str, ...] | list[str]) -> str:
    """SQL for a CHECK that `columna` takes one of `valores` (estado columns)."""
    lista = ", ".join(f"'{v}'" for v in valores)
    return f"{columna} IN ({lista})"
