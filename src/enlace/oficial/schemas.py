"""Shapes for the official channel."""

from __future__ import annotations

from pydantic import BaseModel, Field


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
