"""Shapes of the message report, dashboards, supervision snapshot and notices."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field


class MensajeReporte(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    agente_id: int
    agente_nombre: str | None = None
    campana_id: int | None
    contacto_id: int | None
    origen: str
    numero_origen: str | None
    numero_destino: str | None
    mensaje: str | None
    tipo: str
    estado: str
    wa_message_id: str
    created_at: datetime
    enviado_at: datetime | None
    entregado_at: datetime | None
    leido_at: datetime | None
    fallido_at: datetime | None
    codigo_error: int | None
    # The time the fecha/desde/hasta filters and the order use: enviado_at, else fallido_at (never
    # sent), else created_at (still queued) — the same day the dashboards count the message under.
    fecha_reporte: datetime


class PaginaMensajes(BaseModel):
    items: list[MensajeReporte]
    # Opaque keyset cursor for the next page; null on the last page.
    siguiente: str | None


class Contadores(BaseModel):
    enviados: int = 0
    entregados: int = 0
    leidos: int = 0
    respondidos: int = 0
    bajas: int = 0
    fallidos: int = 0
    tasa_respuesta: float | None = None  # respondidos / enviados
    mediana_respuesta_s: float | None = None


class FilaAgenteDia(Contadores):
    agente_id: int
    agente_nombre: str
    equipo_id: int | None
    dia: date


class FilaEquipo(Contadores):
    equipo_id: int
    equipo_nombre: str
    agentes: int


class EmbudoCampana(Contadores):
    campana_id: int
    nombre: str
    agente_id: int
    estado: str
    total_mensajes: int
    por_estado: dict[str, int]
    # Numbers WhatsApp says are not on it (never sent) and sends with no delivery receipt after the
    # watchdog's bound (still `enviado`: probably never reached a phone).
    sin_whatsapp: int = 0
    sin_acuse: int = 0


class ContadoresHoy(BaseModel):
    dia: date
    totales: Contadores
    por_agente: list[FilaAgenteDia]


class SesionResumen(BaseModel):
    estado: str
    numero_wa: str | None
    nodo_id: str | None
    conectada_at: datetime | None
    ultima_actividad_at: datetime | None
    motivo: str | None = None  # why it is in this state («Sesión cerrada por el usuario»)


class AgenteSnapshot(BaseModel):
    id: int
    nombre: str
    equipo_id: int | None
    activo: bool
    sesion: SesionResumen | None
    hoy: Contadores


class CampanaActiva(BaseModel):
    id: int
    nombre: str
    agente_id: int
    estado: str
    total_mensajes: int
    enviados: int
    fallidos: int
    iniciada_at: datetime | None


class ParadaActiva(BaseModel):
    id: int
    agente_id: int
    motivo: str
    detalle: str | None
    created_at: datetime


class Snapshot(BaseModel):
    generado_at: datetime
    dia: date
    agentes: list[AgenteSnapshot]
    totales_hoy: Contadores
    campanas_activas: list[CampanaActiva]
    paradas: list[ParadaActiva]
    # Rooms this client should join (the same ones the socket joins on connect).
    salas: list[str]


class AvisoCrear(BaseModel):
    texto: str = Field(min_length=1, max_length=500)
    agente_id: int | None = Field(default=None, alias="agenteId")
    equipo_id: int | None = Field(default=None, alias="equipoId")

    model_config = ConfigDict(populate_by_name=True)


class AvisoEnviado(BaseModel):
    salas: list[str]
