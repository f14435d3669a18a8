"""Suppression list, audit log and runtime settings editable by admins."""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, String, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from enlace.db.base import Base, ConCreado, check_en

FUENTES_SUPRESION = ("baja", "manual", "repep", "reus", "arco", "marketing")


class Supresion(ConCreado, Base):
    """A phone that must never be contacted (opt-out, REPEP/REUS, ARCO, manual)."""

    __tablename__ = "supresiones"
    __table_args__ = (CheckConstraint(check_en("fuente", FUENTES_SUPRESION), name="fuente"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    telefono: Mapped[str] = mapped_column(String(20), unique=True)
    motivo: Mapped[str] = mapped_column(Text)
    fuente: Mapped[str] = mapped_column(String(20))  # baja | manual | repep | reus | arco | marketing
    regla: Mapped[str | None] = mapped_column(String(80))
    mensaje_recibido_id: Mapped[int | None] = mapped_column(ForeignKey("mensajes_recibidos.id", ondelete="SET NULL"))
    creada_por: Mapped[int | None] = mapped_column(ForeignKey("usuarios.id", ondelete="SET NULL"))
    # The single opt-out confirmation the gate lets through to this (otherwise suppressed) number.
    confirmacion_mensaje_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("mensajes_enviados.id", ondelete="SET NULL")
    )


class Ajuste(Base):
    """A runtime setting admins change from the panel (capture scope, frequency cap...)."""

    __tablename__ = "ajustes"

    clave: Mapped[str] = mapped_column(String(60), primary_key=True)
    valor: Mapped[Any] = mapped_column(JSONB)
    actualizado_por: Mapped[int | None] = mapped_column(ForeignKey("usuarios.id", ondelete="SET NULL"))
