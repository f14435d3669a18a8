"""Shapes of webhook subscriptions, deliveries and their attempts."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlparse

from pydantic import BaseModel, ConfigDict, Field, field_validator

from enlace.comun.eventos import EVENTOS_WEBHOOK


def _validar_url(url: str) -> str:
    partes = urlparse(url)
    if partes.scheme not in ("http", "https") or not partes.hostname:
        raise ValueError("debe ser una URL http(s) completa, por ejemplo https://crm.ejemplo.mx/enlace")
    if partes.username or partes.password:
        raise ValueError("no incluyas usuario ni contraseña en la URL; la firma autentica cada entrega")
    return url


def _validar_eventos(eventos: list[str]) -> list[str]:
    unicos = list(dict.fromkeys(eventos))
    if not unicos:
        raise ValueError("elige al menos un evento")
    for evento in unicos:
        if evento != "*" and evento not in EVENTOS_WEBHOOK:
            raise ValueError(f"«{evento}» no es un evento; usa '*' o uno de: {', '.join(EVENTOS_WEBHOOK)}")
    return unicos


class SuscripcionCrear(BaseModel):
    url: str = Field(min_length=8, max_length=2000)
    eventos: list[str] = Field(min_length=1, max_length=20)
    descripcion: str | None = Field(default=None, max_length=200)

    _url = field_validator("url")(classmethod(lambda cls, v: _validar_url(v)))
    _eventos = field_validator("eventos")(classmethod(lambda cls, v: _validar_eventos(v)))


class SuscripcionActualizar(BaseModel):
    url: str | None = Field(default=None, min_length=8, max_length=2000)
    eventos: list[str] | None = Field(default=None, min_length=1, max_length=20)
    descripcion: str | None = Field(default=None, max_length=200)
    activa: bool | None = None

    _url = field_validator("url")(classmethod(lambda cls, v: v if v is None else _validar_url(v)))
    _eventos = field_validator("eventos")(classmethod(lambda cls, v: v if v is None else _validar_eventos(v)))


class SuscripcionSalida(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    url: str
    eventos: list[str]
    descripcion: str | None
    activa: bool
    created_at: datetime


class SuscripcionCreada(SuscripcionSalida):
    # Shown once: the CRM verifies X-Enlace-Firma with it.
    secreto: str


class IntentoSalida(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    numero: int
    at: datetime
    status_http: int | None
    error: str | None
    duracion_ms: int


class EntregaSalida(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    suscripcion_id: int
    evento: str
    evento_id: str
    estado: str
    intentos: int
    proximo_intento_at: datetime | None
    entregada_at: datetime | None
    ultimo_status: int | None
    ultimo_error: str | None
    reenvio_de_id: int | None
    created_at: datetime
    historial: list[IntentoSalida] = []
