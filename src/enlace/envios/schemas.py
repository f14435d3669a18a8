"""Shapes for sending profiles and safety stops."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class PerfilCrear(BaseModel):
    nombre: str = Field(min_length=1, max_length=100)
    config: dict[str, Any] = Field(default_factory=dict)
    por_defecto: bool = False


class PerfilActualizar(BaseModel):
    nombre: str | None = Field(default=None, min_length=1, max_length=100)
    config: dict[str, Any] | None = None
    por_defecto: bool | None = None


class PerfilSalida(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    nombre: str
    config: dict[str, Any]
    por_defecto: bool


class ParadaSalida(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    agente_id: int
    motivo: str
    detalle: str | None
    created_at: datetime
    resuelta_at: datetime | None
    resuelta_por: int | None
