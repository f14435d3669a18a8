"""Campaigns, sending profiles and safety stops (the outgoing rows themselves live in `enlace.mensajes`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from enlace.db.base import Base, ConCreado, check_en

ESTADOS_CAMPANA = ("borrador", "programada", "activa", "pausada", "completada", "cancelada")
CANALES = ("agente", "oficial")


class PerfilEnvio(ConCreado, Base):
    """A sending profile (pacing policy) as data; admins edit it, campaigns pick one."""

    __tablename__ = "perfiles_envio"

    id: Mapped[int] = mapped_column(primary_key=True)
    nombre: Mapped[str] = mapped_column(String(100), unique=True)
    config: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    por_defecto: Mapped[bool] = mapped_column(default=False, server_default="false")


class Campana(ConCreado, Base):
    __tablename__ = "campanas"
    __table_args__ = (
        CheckConstraint(check_en("estado", ESTADOS_CAMPANA), name="estado"),
        CheckConstraint(check_en("canal", CANALES), name="canal"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    agente_id: Mapped[int] = mapped_column(ForeignKey("agentes.id", ondelete="CASCADE"), index=True)
    cartera_id: Mapped[int | None] = mapped_column(ForeignKey("carteras.id", ondelete="SET NULL"), index=True)
    nombre: Mapped[str] = mapped_column(String(100))
    plantilla_id: Mapped[int | None] = mapped_column(ForeignKey("plantillas.id", ondelete="SET NULL"))
    perfil_id: Mapped[int | None] = mapped_column(ForeignKey("perfiles_envio.id", ondelete="SET NULL"))
    canal: Mapped[str] = mapped_column(String(10), default="agente", server_default="agente")
    numero_oficial: Mapped[str | None] = mapped_column(String(40))  # Cloud API phone number id
    estado: Mapped[str] = mapped_column(String(20), default="borrador", server_default="borrador")
    zona_horaria: Mapped[str] = mapped_column(String(40), default="America/Mexico_City")
    config_delay: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default="{}")
    inicio_programado: Mapped[datetime | None]
    iniciada_at: Mapped[datetime | None]
    completada_at: Mapped[datetime | None]
    total_mensajes: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    enviados: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    fallidos: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    creada_por: Mapped[int | None] = mapped_column(ForeignKey("usuarios.id", ondelete="SET NULL"))
    # Why the system (not a person) paused it: a template Meta paused/rejected, a line's quality...
    motivo_pausa: Mapped[str | None] = mapped_column(Text)


class ParadaSeguridad(ConCreado, Base):
    """A safety stop of an agent's sending (restriction, capping, session loss, failure rate)."""

    __tablename__ = "paradas_seguridad"
    __table_args__ = (Index("ix_paradas_seguridad_activas", "agente_id", postgresql_where=text("resuelta_at IS NULL")),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agente_id: Mapped[int] = mapped_column(ForeignKey("agentes.id", ondelete="CASCADE"))
    motivo: Mapped[str] = mapped_column(String(40))
    detalle: Mapped[str | None] = mapped_column(Text)
    resuelta_at: Mapped[datetime | None]
    # Until when WhatsApp imposed it (reach-out timelock); the stop lifts itself then. None = until resolved.
    hasta: Mapped[datetime | None]
    resuelta_por: Mapped[int | None] = mapped_column(ForeignKey("usuarios.id", ondelete="SET NULL"))
