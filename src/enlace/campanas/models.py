"""Campaigns and their outbox rows (`mensajes_enviados`, the heart of the system)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from enlace.db.base import Base, ConCreado, check_en

ESTADOS_CAMPANA = ("borrador", "programada", "activa", "pausada", "completada", "cancelada")
CANALES = ("agente", "oficial")
ESTADOS_MENSAJE = (
    "pendiente",
    "enviando",
    "enviado",
    "entregado",
    "leido",
    "fallido",
    "cancelado",
    "suprimido",
    "incierto",
)
ORIGENES_MENSAJE = ("campana", "telefono", "respuesta", "sistema")


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


class MensajeEnviado(ConCreado, Base):
    """Every message the agent's number sent or will send; exists before it is sent."""

    __tablename__ = "mensajes_enviados"
    __table_args__ = (
        CheckConstraint(check_en("estado", ESTADOS_MENSAJE), name="estado"),
        CheckConstraint(check_en("origen", ORIGENES_MENSAJE), name="origen"),
        UniqueConstraint("agente_id", "wa_message_id", name="uq_mensajes_enviados_agente_wa_message_id"),
        Index("ix_mensajes_enviados_agente_creado", "agente_id", "created_at", "id"),
        Index("ix_mensajes_enviados_estado_creado", "estado", "created_at"),
        Index("ix_mensajes_enviados_destino_creado", "numero_destino", "created_at"),
        Index("ix_mensajes_enviados_campana_estado", "campana_id", "estado"),
        # The dispatcher's claim: the agent's next due pending row.
        Index(
            "ix_mensajes_enviados_pendientes",
            "agente_id",
            "programado_para",
            "id",
            postgresql_where=text("estado = 'pendiente'"),
        ),
        Index("ix_mensajes_enviados_enviando", "agente_id", postgresql_where=text("estado = 'enviando'")),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    campana_id: Mapped[int | None] = mapped_column(ForeignKey("campanas.id", ondelete="SET NULL"))
    agente_id: Mapped[int] = mapped_column(ForeignKey("agentes.id", ondelete="CASCADE"))
    contacto_id: Mapped[int | None] = mapped_column(ForeignKey("contactos.id", ondelete="SET NULL"), index=True)
    origen: Mapped[str] = mapped_column(String(12), default="campana", server_default="campana")
    numero_origen: Mapped[str | None] = mapped_column(String(20))
    numero_destino: Mapped[str | None] = mapped_column(String(20))  # canonical +52XXXXXXXXXX
    destino_jid: Mapped[str | None] = mapped_column(String(80))
    mensaje: Mapped[str | None] = mapped_column(Text)
    tipo: Mapped[str] = mapped_column(String(12), default="texto", server_default="texto")
    medio: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    variante: Mapped[int | None] = mapped_column(Integer)
    # The rendered text with only `{saludo}` left, so the greeting is refreshed for the moment it leaves.
    mensaje_base: Mapped[str | None] = mapped_column(Text)
    wa_message_id: Mapped[str] = mapped_column(String(100))
    estado: Mapped[str] = mapped_column(String(20), default="pendiente", server_default="pendiente")
    programado_para: Mapped[datetime | None]
    intentado_at: Mapped[datetime | None]
    enviado_at: Mapped[datetime | None]
    entregado_at: Mapped[datetime | None]
    leido_at: Mapped[datetime | None]
    fallido_at: Mapped[datetime | None]
    codigo_error: Mapped[int | None] = mapped_column(Integer)
    detalle_error: Mapped[str | None] = mapped_column(Text)


class ParadaSeguridad(ConCreado, Base):
    """A safety stop of an agent's sending (restriction, capping, session loss, failure rate)."""

    __tablename__ = "paradas_seguridad"
    __table_args__ = (Index("ix_paradas_seguridad_activas", "agente_id", postgresql_where=text("resuelta_at IS NULL")),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agente_id: Mapped[int] = mapped_column(ForeignKey("agentes.id", ondelete="CASCADE"))
    motivo: Mapped[str] = mapped_column(String(40))
    detalle: Mapped[str | None] = mapped_column(Text)
    resuelta_at: Mapped[datetime | None]
    resuelta_por: Mapped[int | None] = mapped_column(ForeignKey("usuarios.id", ondelete="SET NULL"))
