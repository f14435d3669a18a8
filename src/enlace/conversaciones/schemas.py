"""Shapes for the inbox."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field


class ConversacionSalida(BaseModel):
    contacto_id: int
    agente_id: int
    telefono: str
    nombre: str | None
    estado_contacto: str | None
    ultimo_at: datetime
    ultimo_texto: str | None
    ultimo_direccion: Literal["entrante", "saliente"]
    no_leidos: int


class MensajeConversacion(BaseModel):
    id: int
    direccion: Literal["entrante", "saliente"]
    agente_id: int
    wa_message_id: str
    tipo: str
    texto: str | None
    medio: dict[str, Any] | None = None
    momento: datetime
    estado: str | None = None  # sent messages only
    origen: str | None = None  # sent messages only: campana | telefono | respuesta | sistema
    campana_id: int | None = None
    editado_at: datetime | None = None
    borrado_at: datetime | None = None


class ResponderEntrada(BaseModel):
    texto: str = Field(min_length=1, max_length=4096)
    # Admins and supervisors reply through one agent's session; agents always through their own.
    agente_id: int | None = None


class LeidaSalida(BaseModel):
    marcados: int


class AlcanceEntrada(BaseModel):
    alcance: Literal["negocio", "todo"]


class AlcanceSalida(BaseModel):
    """What the panel needs to tell the agent what is captured from their personal number."""

    alcance: Literal["negocio", "todo"]
    aviso: str
    fuera_de_alcance_hoy: int  # messages of personal chats today, counted but not stored
