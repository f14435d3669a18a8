"""Templates (`plantillas`): several text variants; Cloud API template name for official numbers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, String, Text
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
    # Meta's review of the official template (APPROVED, PENDING, REJECTED, PAUSED, DISABLED...), kept in sync
    # by `message_template_status_update` webhooks and `POST /api/oficial/plantillas/sincronizar`.
    estado_meta: Mapped[str | None] = mapped_column(String(30))
    motivo_meta: Mapped[str | None] = mapped_column(Text)
    estado_meta_at: Mapped[datetime | None]
    creada_por: Mapped[int | None] = mapped_column(ForeignKey("usuarios.id", ondelete="SET NULL"))
