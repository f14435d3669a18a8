"""Request and response shapes of the sessions API and the simulator controls."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field


class SesionSalida(BaseModel):
    agente_id: int
    agente_nombre: str | None = None
    estado: str
    motivo: str | None = None
    numero_wa: str | None = None
    wa_jid: str | None = None
    nodo_id: str | None = None
    conectada_at: datetime | None = None
    ultima_actividad_at: datetime | None = None
    tiene_credenciales: bool = False
    en_este_nodo: bool = False
    # Only on the node that holds the session: the QR to show (polling) or the pairing code.
    qr: str | None = None
    qr_expira_at: datetime | None = None
    codigo_emparejamiento: str | None = None
    codigo_expira_at: datetime | None = None  # when the link attempt, and so the pairing code, ends
    capping: str | None = None


class SesionesEstado(BaseModel):
    items: list[SesionSalida]
    resumen: dict[str, int]
    en_este_nodo: int
    capacidad_nodo: int


class CodigoEntrada(BaseModel):
    telefono: str = Field(min_length=8, max_length=25, description="Número del celular a vincular, con lada")


class CodigoSalida(BaseModel):
    agente_id: int
    codigo: str
    expira_at: datetime | None = None


# ---- simulator controls ----------------------------------------------------------------


class EscanearEntrada(BaseModel):
    qr: str | None = Field(default=None, max_length=1000, description="El QR mostrado; vacío = el vigente")
    numero: str | None = Field(default=None, max_length=25, description="Número del teléfono virtual que escanea")


class ConfirmarCodigoEntrada(BaseModel):
    codigo: str = Field(min_length=8, max_length=9)


class FalloEntrada(BaseModel):
    tipo: Literal["desconexion", "cierre", "reemplazo", "restriccion", "bloqueo", "capping", "cupo", "error_envio"]
    codigo: int | None = Field(default=None, ge=100, le=999)
    caida_s: float = Field(default=0, ge=0, le=7 * 86400)
    duracion_s: float = Field(default=86400, gt=0, le=30 * 86400)
    nivel: Literal["ninguno", "primer_aviso", "segundo_aviso", "limitado"] = "primer_aviso"
    veces: int = Field(default=1, ge=1, le=1000)
    excepcion: bool = False
    cupo: int | None = Field(default=None, ge=0, le=100000)  # tipo=cupo: new chats the account may still start


class MensajeSimuladoEntrada(BaseModel):
    telefono: str = Field(min_length=8, max_length=40)
    texto: str = Field(min_length=1, max_length=4096)


class MensajeSimuladoSalida(BaseModel):
    wa_message_id: str


class RecibidoSalida(BaseModel):
    telefono: str
    wa_message_id: str
    texto: str
    momento: datetime
    agente_id: int
    origen: str
