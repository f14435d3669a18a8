"""Number lookups each session made (`onWhatsApp`): the hourly cap counts them across restarts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer
from sqlalchemy.orm import Mapped, mapped_column

from enlace.db.base import Base


class ConsultaNumero(Base):
    """One `onWhatsApp` batch: which session asked, when, and how many numbers."""

    __tablename__ = "consultas_numero"
    __table_args__ = (Index("ix_consultas_numero_agente_momento", "agente_id", "momento"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agente_id: Mapped[int] = mapped_column(ForeignKey("agentes.id", ondelete="CASCADE"))
    momento: Mapped[datetime]
    numeros: Mapped[int] = mapped_column(Integer)
    encontrados: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
