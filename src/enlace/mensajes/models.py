"""Message tables: the outgoing row (`mensajes_enviados`, it exists before it is sent, with a pre-assigned id),
the replies (`mensajes_recibidos`) and every receipt as it arrived (`eventos_entrega`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
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
from enlace.mensajes.estados import ESTADOS

ESTADOS_MENSAJE = ESTADOS
# campana: a campaign row; telefono: typed on the agent's phone (seen by capture); respuesta: an agent's
# reply from the inbox; sistema: a message the system sends on its own (the opt-out confirmation).
ORIGENES_MENSAJE = ("campana", "telefono", "respuesta", "sistema")


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
        # Replies and confirmations waiting for the dispatcher (it looks at these first).
        Index(
            "ix_mensajes_enviados_directos",
            "agente_id",
            "programado_para",
            "id",
            postgresql_where=text("estado = 'pendiente' AND campana_id IS NULL"),
        ),
        # A retried inbox reply (same Idempotency-Key through the same number) finds its row.
        Index(
            "uq_mensajes_enviados_clave_idempotencia",
            "agente_id",
            "clave_idempotencia",
            unique=True,
            postgresql_where=text("clave_idempotencia IS NOT NULL"),
        ),
        # The delivery watchdog's scan: sent, not delivered, not flagged yet.
        Index(
            "ix_mensajes_enviados_sin_acuse",
            "enviado_at",
            postgresql_where=text("estado = 'enviado' AND sin_acuse_at IS NULL"),
        ),
        # Cloud API: receipts without our id, quoted replies and reactions name Meta's wamid.
        Index("ix_mensajes_enviados_wamid", "wamid", postgresql_where=text("wamid IS NOT NULL")),
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
    # The id the engine's service assigned when it differs from ours (Cloud API wamid), once sent.
    wamid: Mapped[str | None] = mapped_column(String(160))
    estado: Mapped[str] = mapped_column(String(20), default="pendiente", server_default="pendiente")
    programado_para: Mapped[datetime | None]
    intentado_at: Mapped[datetime | None]
    enviado_at: Mapped[datetime | None]
    entregado_at: Mapped[datetime | None]
    leido_at: Mapped[datetime | None]
    fallido_at: Mapped[datetime | None]
    codigo_error: Mapped[int | None] = mapped_column(Integer)
    # The `Idempotency-Key` of the API request that queued this reply.
    clave_idempotencia: Mapped[str | None] = mapped_column(String(100))
    detalle_error: Mapped[str | None] = mapped_column(Text)
    # Delivery watchdog (envios.vigia): still `enviado`, no delivery receipt this long after leaving. A late
    # receipt still moves the row on; the flag stays as history.
    sin_acuse_at: Mapped[datetime | None]


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
