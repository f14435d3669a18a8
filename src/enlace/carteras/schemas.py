"""Request and response shapes for carteras, contactos, imports and assignment (camelCase request bodies)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

T = TypeVar("T")

MAX_AUTO_ASIGNAR = 1000
MAX_REASIGNAR = 5000


class Pagina(BaseModel, Generic[T]):
    items: list[T]
    total: int
    pagina: int
    por_pagina: int


class ImportacionSalida(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    cartera_id: int | None
    agente_id: int | None
    nombre_cartera: str
    fuente: str
    archivo: str
    tamano_bytes: int
    formato: str | None
    estado: str
    en_segundo_plano: bool
    progreso: float
    filas: int
    aceptados: int
    rechazados: int
    duplicados: int
    existentes: int
    otro_agente: int
    suprimidos: int
    error: str | None
    created_at: datetime
    terminada_at: datetime | None
    reporte_url: str = ""
    # Of the accepted contacts: how many WhatsApp lookups answered so far, and how many said "not on
    # WhatsApp" (looked up before the first campaign message; see docs/envios.md).
    verificados_whatsapp: int = 0
    sin_whatsapp: int = 0


class PoolSalida(BaseModel):
    disponibles: int
    maximo_por_vez: int


class AutoAsignar(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    agente_id: int | None = Field(default=None, alias="agenteId")
    cantidad: int = Field(ge=1, le=MAX_AUTO_ASIGNAR)


class AsignacionSalida(BaseModel):
    cartera_id: int | None
    agente_id: int
    asignados: int
    solicitados: int
    mensaje: str


class Reasignar(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    contacto_ids: list[int] = Field(alias="contactoIds", min_length=1, max_length=MAX_REASIGNAR)
    # None returns the contacts to the company pool.
    agente_id: int | None = Field(default=None, alias="agenteId")


class ReasignacionSalida(BaseModel):
    cartera_id: int | None
    agente_id: int | None
    reasignados: int


class CarteraSalida(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    agente_id: int | None
    nombre: str
    fuente: str
    total_contactos: int
    contactos_actuales: int = 0
    creada_por: int | None
    created_at: datetime


class ContactoSalida(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    cartera_id: int | None
    agente_id: int | None
    nombre: str | None
    telefono: str
    telefono_wa: str | None
    estado_mx: str | None
    zona_horaria: str | None
    datos_credito: dict[str, Any]
    estado: str
    asignado_at: datetime | None
    ultima_actividad_at: datetime | None
    created_at: datetime


class ExpiracionSalida(BaseModel):
    devueltos: int
