"""Capture's own tables: receipts waiting for their message, LID opt-outs, identifier maps, conversations, batches.

The reply rows (`mensajes_recibidos`) and the receipt log (`eventos_entrega`) are message tables: they live in
`enlace.mensajes.models`, below both capture (which writes them) and cumplimiento (which reads them).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from enlace.db.base import Base, ConCreado, check_en


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
