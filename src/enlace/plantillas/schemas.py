"""Request and response shapes for templates and their preview."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class PlantillaCrear(BaseModel):
    nombre: str = Field(min_length=1, max_length=100)
    variantes: list[str] = Field(min_length=1, max_length=20)
    agente_id: int | None = None  # None: the caller's own (agents) or shared (supervisors/admins)
    plantilla_oficial: dict[str, Any] | None = None


class PlantillaActualizar(BaseModel):
    nombre: str | None = Field(default=None, min_length=1, max_length=100)
    variantes: list[str] | None = Field(default=None, min_length=1, max_length=20)
    activa: bool | None = None
    plantilla_oficial: dict[str, Any] | None = None


class PlantillaSalida(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    nombre: str
    agente_id: int | None
    variantes: list[str]
    plantilla_oficial: dict[str, Any] | None
    activa: bool
    created_at: datetime
    campos: list[str] = []


class PreviaPeticion(BaseModel):
    plantilla_id: int | None = None
    variantes: list[str] | None = Field(default=None, min_length=1, max_length=20)
    cartera_id: int | None = None
    contacto_ids: list[int] | None = Field(default=None, max_length=500)
    limite: int = Field(default=5, ge=1, le=50)
    zona_horaria: str = "America/Mexico_City"


class ErrorCampoSalida(BaseModel):
    campo: str
    motivo: str


class PreviaContacto(BaseModel):
    contacto_id: int | None
    nombre: str | None = None
    texto: str | None
    variante: int | None
    errores: list[ErrorCampoSalida] = []
    # Set when the person said «no me interesa» recently: a campaign started now leaves them out.
    no_interesado_hasta: datetime | None = None


class PreviaSalida(BaseModel):
    total: int
    correctos: int
    con_errores: int
    muestras: list[PreviaContacto]
    errores: list[PreviaContacto]  # every failing contact (first 200), each with its fields
    no_interesados: int = 0  # left out of a campaign started now («no me interesa» within the hold)
    retenidos: list[PreviaContacto] = []  # those contacts (first 200), with `no_interesado_hasta`
