"""Templates (`plantillas`): several text variants; Cloud API template name for official numbers."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Boolean, ForeignKey, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from enlace.db.base import Base, ConCreado


class Plantilla(ConCreado, Base):
    __tablename__ = "plantillas"

    id: Mapped[int] = mapped_column(primary_key=True)
    nombre: Mapped[str] = mapped_column(String(100))
    # Owner agent; NULL = shared by the company (created by admins/supervisors).
    agente_id: Mapped[int | None] = mapped_column(ForeignKey("agentes.id", ondelete="CASCADE"), index=True)
    variantes: Mapped[list[str]] = mapped_column(JSONB, default=list)
    # Official (Cloud API) template: {"nombre": ..., "idioma": "es_MX", "parametros": ["nombre", "monto"]}
    plantilla_oficial: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    activa: Mapped[bool] = mapped_column(Boolean, default=True, server_default="true")
    creada_por: Mapped[int | None] = mapped_column(ForeignKey("usuarios.id", ondelete="SET NULL"))
