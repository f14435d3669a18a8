"""Core tables every domain writes to: the append-only audit log."""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, Index, Integer, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from enlace.db.base import Base, ConCreado


class Auditoria(ConCreado, Base):
    """Append-only: who did what and when (exports, suppression, settings, users, sensitive views)."""

    __tablename__ = "auditoria"
    __table_args__ = (
        Index("ix_auditoria_accion_creado", "accion", "created_at"),
        Index("ix_auditoria_objeto", "objeto_tipo", "objeto_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    # No foreign key on purpose: an append-only log outlives its users (a cascade would be an UPDATE).
    usuario_id: Mapped[int | None] = mapped_column(Integer, index=True)
    accion: Mapped[str] = mapped_column(String(60))
    objeto_tipo: Mapped[str | None] = mapped_column(String(40))
    objeto_id: Mapped[str | None] = mapped_column(String(60))
    detalle: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default="{}")
    ip: Mapped[str | None] = mapped_column(String(64))
