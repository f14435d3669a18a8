"""Replies (`mensajes_recibidos`), receipts (`eventos_entrega`) and receipts waiting for their message."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from enlace.db.base import Base, ConCreado, check_en

TIPOS_EVENTO = ("enviado", "entregado", "leido", "reproducido", "fallido")
CLASIFICACIONES = ("baja", "no_interesado", "otro")


class MensajeRecibido(ConCreado, Base):
    __tablename__ = "mensajes_recibidos"
    __table_args__ = (
        UniqueConstraint("agente_id", "wa_message_id", name="uq_mensajes_recibidos_agente_wa_message_id"),
        CheckConstraint(f"clasificacion IS NULL OR {check_en('clasificacion', CLASIFICACIONES)}", name="clasificacion"),
        Index("ix_mensajes_recibidos_agente_recibido", "agente_id", "recibido_at"),
        Index("ix_mensajes_recibidos_origen_recibido", "numero_origen", "recibido_at"),
        # Scope `todo` stores LID-only messages; their phone is filled in when the map arrives.
        Index("ix_mensajes_recibidos_sin_telefono", "chat_jid", postgresql_where=text("numero_origen IS NULL")),
        # The compliance sweep: live replies with text and no opt-out decision stored yet.
        Index(
            "ix_mensajes_recibidos_sin_clasificar",
            "id",
            postgresql_where=text("clasificacion IS NULL AND mensaje IS NOT NULL AND NOT historial"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    agente_id: Mapped[int] = mapped_column(ForeignKey("agentes.id", ondelete="CASCADE"))
    mensaje_origen_id: Mapped[int | None] = mapped_column(
        ForeignKey("mensajes_enviados.id", ondelete="SET NULL"), index=True
    )
    campana_id: Mapped[int | None] = mapped_column(ForeignKey("campanas.id", ondelete="SET NULL"), index=True)
    contacto_id: Mapped[int | None] = mapped_column(ForeignKey("contactos.id", ondelete="SET NULL"), index=True)
    numero_origen: Mapped[str | None] = mapped_column(String(20))  # the person, canonical
    numero_destino: Mapped[str | None] = mapped_column(String(20))  # the agent's number
    chat_jid: Mapped[str | None] = mapped_column(String(80))
    mensaje: Mapped[str | None] = mapped_column(Text)
    tipo: Mapped[str] = mapped_column(String(12), default="texto", server_default="texto")
    medio: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    referencia_id: Mapped[str | None] = mapped_column(String(100))
    wa_message_id: Mapped[str] = mapped_column(String(100))
    recibido_at: Mapped[datetime]
    leido_por_agente_at: Mapped[datetime | None]
    # The person edited or deleted the message after it was captured (the text kept is the latest).
    editado_at: Mapped[datetime | None]
    borrado_at: Mapped[datetime | None]
    # Opt-out classifier decision and the rule that fired (explainable).
    clasificacion: Mapped[str | None] = mapped_column(String(20))
    regla: Mapped[str | None] = mapped_column(String(80))
    # Came from history sync: stored, never evaluated for opt-outs (nor re-evaluated by the sweep).
    historial: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")


class BajaLidPendiente(ConCreado, Base):
    """An opt-out written from a LID whose phone is unknown: applied by the sweep once the LID is mapped.

    Only the LID and the rule that fired are kept (no text), so even out-of-scope chats can hold it.
    """

    __tablename__ = "bajas_lid_pendientes"
    __table_args__ = (UniqueConstraint("agente_id", "lid", name="uq_bajas_lid_pendientes_agente_lid"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    agente_id: Mapped[int] = mapped_column(ForeignKey("agentes.id", ondelete="CASCADE"))
    lid: Mapped[str] = mapped_column(String(120), index=True)
    regla: Mapped[str] = mapped_column(String(80))
    recibido_at: Mapped[datetime]
    mensaje_recibido_id: Mapped[int | None] = mapped_column(ForeignKey("mensajes_recibidos.id", ondelete="SET NULL"))


class EventoEntrega(Base):
    """Every receipt as it arrived (append-only); the message row keeps the maximum."""

    __tablename__ = "eventos_entrega"
    __table_args__ = (CheckConstraint(check_en("tipo", TIPOS_EVENTO), name="tipo"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    mensaje_id: Mapped[int] = mapped_column(ForeignKey("mensajes_enviados.id", ondelete="CASCADE"), index=True)
    tipo: Mapped[str] = mapped_column(String(20))
    timestamp: Mapped[datetime]
    codigo_error: Mapped[int | None] = mapped_column(Integer)
    detalle: Mapped[str | None] = mapped_column(Text)
    registrado_at: Mapped[datetime] = mapped_column(server_default=func.now())


class LoteCapturado(ConCreado, Base):
    """A capture batch that committed, by its key: a retry after a commit whose answer was lost is skipped."""

    __tablename__ = "lotes_capturados"

    clave: Mapped[str] = mapped_column(String(40), primary_key=True)


class ReciboPendiente(ConCreado, Base):
    """A receipt for a message id not seen yet; applied when the message row appears."""

    __tablename__ = "recibos_pendientes"
    __table_args__ = (Index("ix_recibos_pendientes_agente_wa", "agente_id", "wa_message_id"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    agente_id: Mapped[int] = mapped_column(ForeignKey("agentes.id", ondelete="CASCADE"))
    wa_message_id: Mapped[str] = mapped_column(String(100))
    tipo: Mapped[str] = mapped_column(String(20))
    timestamp: Mapped[datetime]
    codigo_error: Mapped[int | None] = mapped_column(Integer)
    detalle_error: Mapped[str | None] = mapped_column(Text)


TIPOS_MAPEO = ("lid", "bsuid")
DIRECCIONES = ("entrante", "saliente")


class MapeoIdentificador(Base):
    """A LID (or Cloud API user id) and the phone behind it, as the engines reported it."""

    __tablename__ = "mapeos_identificador"
    __table_args__ = (CheckConstraint(check_en("tipo", TIPOS_MAPEO), name="tipo"),)

    valor: Mapped[str] = mapped_column(String(120), primary_key=True)
    tipo: Mapped[str] = mapped_column(String(10))
    telefono: Mapped[str | None] = mapped_column(String(20), index=True)
    actualizado_at: Mapped[datetime]


class ConteoFueraAlcance(Base):
    """Messages of chats outside the capture scope: only counted, per agent and local day (privacy)."""

    __tablename__ = "conteos_fuera_alcance"

    agente_id: Mapped[int] = mapped_column(ForeignKey("agentes.id", ondelete="CASCADE"), primary_key=True)
    dia: Mapped[date] = mapped_column(Date, primary_key=True)
    entrantes: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    salientes: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class Conversacion(Base):
    """The inbox summary of one agent's chat with one phone: last message and unread count."""

    __tablename__ = "conversaciones"
    __table_args__ = (
        UniqueConstraint("agente_id", "telefono", name="uq_conversaciones_agente_telefono"),
        CheckConstraint(check_en("ultimo_direccion", DIRECCIONES), name="ultimo_direccion"),
        Index("ix_conversaciones_agente_ultimo", "agente_id", "ultimo_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    agente_id: Mapped[int] = mapped_column(ForeignKey("agentes.id", ondelete="CASCADE"))
    telefono: Mapped[str] = mapped_column(String(20))
    contacto_id: Mapped[int | None] = mapped_column(ForeignKey("contactos.id", ondelete="SET NULL"), index=True)
    ultimo_at: Mapped[datetime]
    ultimo_texto: Mapped[str | None] = mapped_column(String(200))
    ultimo_direccion: Mapped[str] = mapped_column(String(10))
    no_leidos: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
