"""Webhook subscriptions, deliveries (an outbox row per event and subscription) and the attempt log."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Identity,
    Index,
    Integer,
    String,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.orm import Mapped, mapped_column

from enlace.db.base import Base, ConCreado, check_en

ESTADOS_ENTREGA = ("pendiente", "entregada", "agotada")


class SuscripcionWebhook(ConCreado, Base):
    __tablename__ = "webhook_suscripciones"

    id: Mapped[int] = mapped_column(Integer, Identity(), primary_key=True)
    url: Mapped[str] = mapped_column(String(2000))
    # Event names (the realtime ones: mensaje.enviado, contacto.baja, ...); '*' means all.
    eventos: Mapped[list[str]] = mapped_column(ARRAY(String(60)))
    secreto: Mapped[str] = mapped_column(String(200))
    descripcion: Mapped[str | None] = mapped_column(String(200))
    activa: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))


class EntregaWebhook(ConCreado, Base):
    __tablename__ = "webhook_entregas"
    __table_args__ = (
        CheckConstraint(check_en("estado", ESTADOS_ENTREGA), name="estado"),
        # One delivery per (event, subscription): an event recorded twice is not delivered twice.
        Index(
            "uq_webhook_entregas_evento",
            "suscripcion_id",
            "evento_id",
            unique=True,
            postgresql_where=text("reenvio_de_id IS NULL"),
        ),
        Index("ix_webhook_entregas_pendientes", "proximo_intento_at", postgresql_where=text("estado = 'pendiente'")),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    suscripcion_id: Mapped[int] = mapped_column(ForeignKey("webhook_suscripciones.id", ondelete="CASCADE"), index=True)
    evento: Mapped[str] = mapped_column(String(60))
    # Stable id of the fact; replays keep it so the CRM can recognise a repeat.
    evento_id: Mapped[str] = mapped_column(UUID(as_uuid=False))
    # The exact bytes that are signed and sent (JSON text), kept for replay.
    cuerpo: Mapped[str] = mapped_column(Text)
    estado: Mapped[str] = mapped_column(String(20), server_default=text("'pendiente'"))
    intentos: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    proximo_intento_at: Mapped[datetime | None]
    entregada_at: Mapped[datetime | None]
    ultimo_status: Mapped[int | None] = mapped_column(Integer)
    ultimo_error: Mapped[str | None] = mapped_column(String(500))
    reenvio_de_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("webhook_entregas.id"))


class IntentoWebhook(Base):
    __tablename__ = "webhook_intentos"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    entrega_id: Mapped[int] = mapped_column(ForeignKey("webhook_entregas.id", ondelete="CASCADE"), index=True)
    numero: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime]
    status_http: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(String(500))
    duracion_ms: Mapped[int] = mapped_column(Integer)
