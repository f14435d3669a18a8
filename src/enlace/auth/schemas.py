"""Request and response shapes for login, users and API tokens."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Rol = Literal["admin", "supervisor", "agente"]
MIN_PASSWORD = 12


class LoginEntrada(BaseModel):
    usuario: str = Field(min_length=1, max_length=80)
    password: str = Field(min_length=1, max_length=200)


class UsuarioSalida(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    usuario: str
    nombre: str
    email: str | None = None
    rol: Rol
    activo: bool
    agente_id: int | None = None
    equipo_ids: list[int] = []
    # The one-time password must be replaced before anything else (the panel shows that form).
    debe_cambiar_password: bool = False


class LoginSalida(BaseModel):
    usuario: UsuarioSalida
    csrf_token: str


class UsuarioCrear(BaseModel):
    usuario: str = Field(min_length=3, max_length=80, pattern=r"^[A-Za-z0-9_.@-]+$")
    nombre: str = Field(min_length=1, max_length=120)
    email: str | None = Field(default=None, max_length=200)
    rol: Rol
    password: str = Field(min_length=MIN_PASSWORD, max_length=200)
    equipo_id: int | None = None


class UsuarioActualizar(BaseModel):
    nombre: str | None = Field(default=None, min_length=1, max_length=120)
    email: str | None = Field(default=None, max_length=200)
    rol: Rol | None = None
    activo: bool | None = None
    password: str | None = Field(default=None, min_length=MIN_PASSWORD, max_length=200)
    equipo_id: int | None = None


class CambioPassword(BaseModel):
    actual: str = Field(min_length=1, max_length=200)
    nueva: str = Field(min_length=MIN_PASSWORD, max_length=200)


class TokenCrear(BaseModel):
    nombre: str = Field(min_length=1, max_length=120)
    usuario_id: int | None = None  # default: the caller
    # Chosen from GET /api/tokens/alcances; at least one (a token with no scope reaches nothing).
    alcances: list[str] = Field(min_length=1, max_length=30)
    expira_at: datetime | None = None


class AlcanceSalida(BaseModel):
    alcance: str
    descripcion: str


class TokenSalida(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    usuario_id: int
    nombre: str
    prefijo: str
    alcances: list[str]
    expira_at: datetime | None
    revocado_at: datetime | None
    ultimo_uso_at: datetime | None
    created_at: datetime


class TokenCreado(TokenSalida):
    token: str  # shown once
