"""Shapes for the official channel."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class Transferencia(BaseModel):
    contactoId: int = Field(gt=0)  # camelCase as in the original document's API
    agenteId: int = Field(gt=0)
    nota: str | None = Field(default=None, max_length=500)


class TransferenciaSalida(BaseModel):
    contacto_id: int
    agente_anterior_id: int | None
    agente_id: int


class NumeroOficialSalida(BaseModel):
    agente_id: int
    phone_number_id: str
    numero: str


class WebhookSalida(BaseModel):
    recibidos: int
    ignorados: int = 0


class LineaCrear(BaseModel):
    """A new official line. Exactly one of `agente_id` (bind to an agent, e.g. coexistence) or `equipo_id`
    (a line of its own, whose replies the team's queue sees)."""

    phone_number_id: str = Field(min_length=5, max_length=40, pattern=r"^\d+$")
    waba_id: str = Field(min_length=5, max_length=40, pattern=r"^\d+$")
    token: str = Field(min_length=10, max_length=1000)
    app_secret: str = Field(default="", max_length=200)
    numero: str = Field(default="", max_length=20)
    nombre: str | None = Field(default=None, max_length=120)
    proveedor: Literal["meta", "360dialog"] = "meta"
    base_url: str | None = Field(default=None, max_length=200)
    version: str = Field(default="v21.0", pattern=r"^v\d+\.\d+$")
    agente_id: int | None = Field(default=None, gt=0)
    equipo_id: int | None = Field(default=None, gt=0)


class LineaActualizar(BaseModel):
    activa: bool | None = None
    token: str | None = Field(default=None, min_length=10, max_length=1000)  # rotation
    app_secret: str | None = Field(default=None, min_length=1, max_length=200)
    agente_id: int | None = Field(default=None, gt=0)
    equipo_id: int | None = Field(default=None, gt=0)
    base_url: str | None = Field(default=None, max_length=200)
    version: str | None = Field(default=None, pattern=r"^v\d+\.\d+$")
    numero: str | None = Field(default=None, max_length=20)


class LineaSalida(BaseModel):
    """Never carries the token or the app secret."""

    id: int
    agente_id: int
    agente_nombre: str | None = None
    equipo_id: int | None = None
    phone_number_id: str
    waba_id: str
    numero: str
    proveedor: str
    base_url: str
    version: str
    activa: bool
    verificada_at: datetime | None
    verificacion_error: str | None
    nombre_verificado: str | None
    calidad: str
    nivel: str
    limite_24h: int | None
    marcada: bool
    estado_cuenta: str | None
    calidad_at: datetime | None
    secretos_rotados_at: datetime | None
    # Where Meta (or the BSP) must post webhooks, and the verify token for the subscription handshake.
    webhook_url: str
    verify_token: str


class HistorialSalida(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    momento: datetime
    campo: str
    evento: str
    calidad: str | None
    nivel: str | None
    detalle: dict[str, Any] | None


class Tarifa(BaseModel):
    categoria: str = Field(min_length=1, max_length=40)
    precio_mxn: Decimal = Field(ge=0, le=1000, decimal_places=4)


class CostoFila(BaseModel):
    clave: str  # campaign id or month (YYYY-MM)
    nombre: str | None = None
    categoria: str
    mensajes: int
    facturables: int
    precio_mxn: Decimal
    total_mxn: Decimal


class CostosSalida(BaseModel):
    por: Literal["campana", "mes"]
    filas: list[CostoFila]
    total_mxn: Decimal


class SincronizacionSalida(BaseModel):
    plantillas: int
    actualizadas: int
    campanas_detenidas: list[int]
