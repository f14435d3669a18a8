"""Request and response shapes for suppression, audit, consent, ARCO and compliance settings."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class SupresionSalida(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    telefono: str
    motivo: str
    fuente: str
    regla: str | None = None
    mensaje_recibido_id: int | None = None
    creada_por: int | None = None
    created_at: datetime


class PaginaSupresiones(BaseModel):
    total: int
    filas: list[SupresionSalida]


class SupresionCrear(BaseModel):
    telefono: str = Field(min_length=7, max_length=40)
    motivo: str = Field(min_length=3, max_length=1000)


class SupresionQuitar(BaseModel):
    telefono: str = Field(min_length=7, max_length=40)
    motivo: str = Field(min_length=3, max_length=1000)


class SupresionAgregada(BaseModel):
    supresion: SupresionSalida
    nueva: bool
    cancelados: int


class RechazoFila(BaseModel):
    fila: int
    valor: str
    motivo: str


class ImportacionSalida(BaseModel):
    filas: int
    agregados: int
    ya_existian: int
    duplicados_en_archivo: int
    cancelados: int
    total_rechazados: int
    rechazados: list[RechazoFila]


class AuditoriaSalida(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    usuario_id: int | None = None
    accion: str
    objeto_tipo: str | None = None
    objeto_id: str | None = None
    detalle: dict[str, Any]
    ip: str | None = None
    created_at: datetime


class ConsentimientoEntrada(BaseModel):
    fuente: str = Field(min_length=2, max_length=100, description="formulario web, llamada grabada, contrato...")
    fecha: datetime
    evidencia: str = Field(min_length=3, max_length=20000, description="texto aceptado o referencia del documento")


class ConsentimientoSalida(BaseModel):
    contacto_id: int
    consentimiento_fuente: str | None
    consentimiento_at: datetime | None
    consentimiento_evidencia: str | None


class ArcoEntrada(BaseModel):
    telefono: str = Field(min_length=7, max_length=40)
    motivo: str | None = Field(default=None, max_length=1000)


class ArcoCancelado(BaseModel):
    telefono: str
    contactos: int
    identificadores: int
    mensajes_enviados: int
    mensajes_recibidos: int
    cancelados: int


class ClasificarEntrada(BaseModel):
    texto: str = Field(max_length=5000)


class ClasificarSalida(BaseModel):
    clase: Literal["baja", "no_interesado", "otro"]
    regla: str
    fragmento: str | None
    descripcion: str


class RetencionSalida(BaseModel):
    retencion_dias: int
    antes_de: str
    mensajes_enviados: int
    mensajes_recibidos: int


class VentanaSalida(BaseModel):
    inicio: str  # "HH:MM" local time of the recipient
    fin: str  # exclusive: a message at exactly `fin` waits for the next opening


class ZonaEstado(BaseModel):
    estado: str
    zona: str


class HorarioSalida(BaseModel):
    """Contact hours as the gate applies them (enlace.comun.horario), for the panel to show, never to decide."""

    limite: VentanaSalida  # the legal outer limit no setting or profile can widen
    ventana: VentanaSalida  # the limit narrowed by the admin settings (each campaign profile narrows further)
    precedencia_zona: list[Literal["contacto", "estado", "campana"]]
    zona_predeterminada: str
    zonas_por_estado: list[ZonaEstado]
