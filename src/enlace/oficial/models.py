"""Official lines (Cloud API numbers), their quality history, per-message pricing and the MXN price table."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, Boolean, CheckConstraint, ForeignKey, Index, LargeBinary, Numeric, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from enlace.db.base import Base, ConCreado, check_en

PROVEEDORES = ("meta", "360dialog")
CALIDADES = ("GREEN", "YELLOW", "RED", "UNKNOWN")
# Business-initiated conversations (unique people) a number may open in a rolling 24 h, by tier.
NIVELES = {"TIER_50": 50, "TIER_250": 250, "TIER_1K": 1000, "TIER_2K": 2000, "TIER_10K": 10000, "TIER_100K": 100000}
NIVEL_ILIMITADO = "TIER_UNLIMITED"
CATEGORIAS_PRECIO = (
    "marketing",
    "utility",
    "authentication",
    "authentication_international",
    "service",
    "referral_conversion",
)


# Meta's rate card for Mexico per delivered billable message (USD converted at ~18.5 MXN); a row in
# `tarifas_oficiales` overrides a category (admins keep it in line with the current rate card).
TARIFAS_POR_OMISION = {
    "marketing": Decimal("0.5643"),
    "utility": Decimal("0.1573"),
    "authentication": Decimal("0.1573"),
    "authentication_international": Decimal("0.1573"),
    "service": Decimal("0.0000"),
    "referral_conversion": Decimal("0.0000"),
}


class LineaOficial(ConCreado, Base):
    """One official number. Token and app secret are stored encrypted (AES-256-GCM, the sessions' key ring)."""

    __tablename__ = "lineas_oficiales"
    __table_args__ = (
        CheckConstraint(check_en("proveedor", PROVEEDORES), name="proveedor"),
        CheckConstraint(check_en("calidad", CALIDADES), name="calidad"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # The `agentes` row that stands for this line: its replies, campaigns and stops hang from it.
    agente_id: Mapped[int] = mapped_column(ForeignKey("agentes.id", ondelete="CASCADE"), unique=True)
    phone_number_id: Mapped[str] = mapped_column(String(40), unique=True)
    waba_id: Mapped[str] = mapped_column(String(40), index=True)
    numero: Mapped[str] = mapped_column(String(20), default="", server_default="")
    proveedor: Mapped[str] = mapped_column(String(12), default="meta", server_default="meta")
    base_url: Mapped[str] = mapped_column(String(200))
    version: Mapped[str] = mapped_column(String(10), default="v21.0", server_default="v21.0")
    verify_token: Mapped[str] = mapped_column(String(100))
    # {"token": ..., "app_secret": ...} encrypted under `clave_id`; never returned by the API.
    secretos: Mapped[bytes] = mapped_column(LargeBinary)
    clave_id: Mapped[str] = mapped_column(String(40))
    secretos_rotados_at: Mapped[datetime | None]
    activa: Mapped[bool] = mapped_column(Boolean, default=True, server_default="true")
    verificada_at: Mapped[datetime | None]
    verificacion_error: Mapped[str | None] = mapped_column(String(500))
    nombre_verificado: Mapped[str | None] = mapped_column(String(200))
    calidad: Mapped[str] = mapped_column(String(10), default="UNKNOWN", server_default="UNKNOWN")
    nivel: Mapped[str] = mapped_column(String(20), default="TIER_250", server_default="TIER_250")
    # Meta flagged the number (quality dropping) or an account event restricted it: marketing pauses.
    marcada: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    estado_cuenta: Mapped[str | None] = mapped_column(String(60))
    calidad_at: Mapped[datetime | None]


class HistorialLinea(Base):
    """Every quality / tier / account change of a line, as Meta reported it (append-only)."""

    __tablename__ = "historial_lineas_oficiales"
    __table_args__ = (Index("ix_historial_lineas_linea_momento", "linea_id", "momento"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    linea_id: Mapped[int] = mapped_column(ForeignKey("lineas_oficiales.id", ondelete="CASCADE"))
    momento: Mapped[datetime]
    campo: Mapped[str] = mapped_column(String(40))  # phone_number_quality_update | account_update | verificacion
    evento: Mapped[str] = mapped_column(String(60))
    calidad: Mapped[str | None] = mapped_column(String(10))
    nivel: Mapped[str | None] = mapped_column(String(20))
    detalle: Mapped[dict[str, Any] | None] = mapped_column(JSONB)


class PrecioMensaje(Base):
    """The `pricing` object of a message's statuses: what Meta will charge for it."""

    __tablename__ = "precios_mensajes"
    __table_args__ = (Index("ix_precios_mensajes_agente_momento", "agente_id", "momento"),)

    mensaje_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("mensajes_enviados.id", ondelete="CASCADE"), primary_key=True
    )
    agente_id: Mapped[int] = mapped_column(ForeignKey("agentes.id", ondelete="CASCADE"))
    campana_id: Mapped[int | None] = mapped_column(ForeignKey("campanas.id", ondelete="SET NULL"), index=True)
    categoria: Mapped[str] = mapped_column(String(40))
    facturable: Mapped[bool] = mapped_column(Boolean)
    modelo: Mapped[str] = mapped_column(String(10))  # CBP (per conversation) | PMP (per message)
    tipo: Mapped[str | None] = mapped_column(String(40))  # regular | free_customer_service | free_entry_point
    momento: Mapped[datetime]


class TarifaOficial(Base):
    """Price per billable message by category, in MXN (admins keep it in line with Meta's rate card)."""

    __tablename__ = "tarifas_oficiales"

    categoria: Mapped[str] = mapped_column(String(40), primary_key=True)
    precio_mxn: Mapped[Decimal] = mapped_column(Numeric(10, 4))
    actualizada_at: Mapped[datetime | None]
