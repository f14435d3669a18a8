"""Shapes for agents and teams."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class AgenteSalida(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    nombre: str
    usuario_id: int | None
    equipo_id: int | None
    numero_wa: str | None
    activo: bool


class EquipoCrear(BaseModel):
    nombre: str = Field(min_length=1, max_length=100)
    supervisor_id: int | None = None


class EquipoActualizar(BaseModel):
    nombre: str | None = Field(default=None, min_length=1, max_length=100)
    supervisor_id: int | None = None


class EquipoSalida(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    nombre: str
    supervisor_id: int | None


class AgenteActualizar(BaseModel):
    equipo_id: int | None = None
    activo: bool | None = None
