"""Carteras, contactos and their WhatsApp identifiers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, Float, ForeignKey, Index, Integer, LargeBinary, String, Text, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from enlace.db.base import Base, ConCreado, check_en

FUENTES_CARTERA = ("csv_upload", "auto_asignacion", "manual", "pool")
ESTADOS_CONTACTO = ("pendiente", "contactado", "respondio", "interesado", "no_interesado", "baja", "anonimizado")
TIPOS_IDENTIFICADOR = ("wa_jid", "lid", "bsuid")
ESTADOS_IMPORTACION = ("pendiente", "procesando", "completada", "fallida")
RESULTADOS_FILA = ("aceptado", "rechazado", "duplicado", "existente", "otro_agente", "suprimido")


class Cartera(ConCreado, Base):
    __tablename__ = "carteras"
    __table_args__ = (CheckConstraint(check_en("fuente", FUENTES_CARTERA), name="fuente"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agente_id: Mapped[int | None] = mapped_column(ForeignKey("agentes.id", ondelete="SET NULL"), index=True)
    nombre: Mapped[str] = mapped_column(String(100))
    fuente: Mapped[str] = mapped_column(String(50))
    total_contactos: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    creada_por: Mapped[int | None] = mapped_column(ForeignKey("usuarios.id", ondelete="SET NULL"))


class Contacto(ConCreado, Base):
    """One person (one canonical phone). `agente_id` is the single agent who owns it now, if any."""

    __tablename__ = "contactos"
    __table_args__ = (
        CheckConstraint(check_en("estado", ESTADOS_CONTACTO), name="estado"),
        Index("ix_contactos_agente_estado", "agente_id", "estado"),
        Index("ix_contactos_pool", "id", postgresql_where=text("agente_id IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cartera_id: Mapped[int | None] = mapped_column(ForeignKey("carteras.id", ondelete="SET NULL"), index=True)
    agente_id: Mapped[int | None] = mapped_column(ForeignKey("agentes.id", ondelete="SET NULL"))
    nombre: Mapped[str | None] = mapped_column(String(100))
    telefono: Mapped[str] = mapped_column(String(20), unique=True)  # canonical +52XXXXXXXXXX
    telefono_wa: Mapped[str | None] = mapped_column(String(40))  # resolved WhatsApp jid when known
    # Number resolution (onWhatsApp): True = registered as `telefono_wa`, False = not on WhatsApp,
    # None = never checked. Valid for `resolucion_ttl_dias` after `wa_verificado_at`; NULL there = re-check.
    en_whatsapp: Mapped[bool | None]
    wa_lid: Mapped[str | None] = mapped_column(String(80))
    wa_verificado_at: Mapped[datetime | None]
    estado_mx: Mapped[str | None] = mapped_column(String(40))  # state, for the time zone
    zona_horaria: Mapped[str | None] = mapped_column(String(40))
    datos_credito: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default="{}")
    estado: Mapped[str] = mapped_column(String(30), default="pendiente", server_default="pendiente")
    asignado_at: Mapped[datetime | None]
    ultima_actividad_at: Mapped[datetime | None]
    # Consent evidence (LFPDPPP): where it came from, when, and the text or a document reference.
    consentimiento_fuente: Mapped[str | None] = mapped_column(String(100))
    consentimiento_at: Mapped[datetime | None]
    consentimiento_evidencia: Mapped[str | None] = mapped_column(Text)
    # Provenance: which import created the contact and from which row of the file (the import report).
    # No foreign key on purpose: a per-row RI check would cost a large import ~20% of its time, and a stale
    # id only means "created by an import whose record is gone".
    importacion_id: Mapped[int | None] = mapped_column(Integer, index=True)
    fila_origen: Mapped[int | None] = mapped_column(Integer)


class IdentificadorContacto(ConCreado, Base):
    """Every WhatsApp identity seen for a contact: jids (521…/52…), LIDs, Cloud API user ids."""

    __tablename__ = "identificadores_contacto"
    __table_args__ = (CheckConstraint(check_en("tipo", TIPOS_IDENTIFICADOR), name="tipo"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    contacto_id: Mapped[int] = mapped_column(ForeignKey("contactos.id", ondelete="CASCADE"), index=True)
    tipo: Mapped[str] = mapped_column(String(10))
    valor: Mapped[str] = mapped_column(String(120), unique=True)


class ImportacionCartera(ConCreado, Base):
    """One uploaded file: its progress while it runs and its counts when done (rows are in ImportacionFila)."""

    __tablename__ = "importaciones_cartera"
    __table_args__ = (CheckConstraint(check_en("estado", ESTADOS_IMPORTACION), name="estado"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cartera_id: Mapped[int | None] = mapped_column(ForeignKey("carteras.id", ondelete="SET NULL"))
    # The agent who receives the contacts; NULL = the company pool.
    agente_id: Mapped[int | None] = mapped_column(ForeignKey("agentes.id", ondelete="SET NULL"), index=True)
    usuario_id: Mapped[int | None] = mapped_column(ForeignKey("usuarios.id", ondelete="SET NULL"))
    nombre_cartera: Mapped[str] = mapped_column(String(100))
    fuente: Mapped[str] = mapped_column(String(50))
    archivo: Mapped[str] = mapped_column(String(255))
    tamano_bytes: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    sha256: Mapped[str | None] = mapped_column(String(64))
    formato: Mapped[str | None] = mapped_column(String(10))
    estado: Mapped[str] = mapped_column(String(20), default="pendiente", server_default="pendiente")
    en_segundo_plano: Mapped[bool] = mapped_column(default=False, server_default="false")
    progreso: Mapped[float] = mapped_column(Float, default=0.0, server_default="0")
    filas: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    aceptados: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    rechazados: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    duplicados: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    existentes: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    otro_agente: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    suprimidos: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    error: Mapped[str | None] = mapped_column(Text)
    iniciada_at: Mapped[datetime | None]
    terminada_at: Mapped[datetime | None]


class ImportacionFila(Base):
    """A row of an import that did not become a new contact (or was taken from the pool), and why."""

    __tablename__ = "importacion_filas"
    __table_args__ = (CheckConstraint(check_en("resultado", RESULTADOS_FILA), name="resultado"),)

    importacion_id: Mapped[int] = mapped_column(
        ForeignKey("importaciones_cartera.id", ondelete="CASCADE"), primary_key=True
    )
    fila: Mapped[int] = mapped_column(Integer, primary_key=True)
    resultado: Mapped[str] = mapped_column(String(20))
    campo: Mapped[str | None] = mapped_column(String(80))
    motivo: Mapped[str | None] = mapped_column(Text)
    telefono: Mapped[str | None] = mapped_column(String(80))


class ImportacionParte(Base):
    """The uploaded file in chunks while a background import waits, so any node's worker can read it."""

    __tablename__ = "importacion_partes"

    importacion_id: Mapped[int] = mapped_column(
        ForeignKey("importaciones_cartera.id", ondelete="CASCADE"), primary_key=True
    )
    parte: Mapped[int] = mapped_column(Integer, primary_key=True)
    datos: Mapped[bytes] = mapped_column(LargeBinary)
