"""Request and response shapes for campaigns (camelCase bodies as in the original document)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class CampanaCrear(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    nombre: str = Field(min_length=1, max_length=100)
    cartera_id: int = Field(alias="carteraId")
    agente_id: int | None = Field(default=None, alias="agenteId")
    plantilla_id: int | None = Field(default=None, alias="plantillaId")
    perfil_id: int | None = Field(default=None, alias="perfilId")
    inicio_programado: datetime | None = Field(default=None, alias="inicioProgramado")
    zona_horaria: str = Field(default="America/Mexico_City", alias="zonaHoraria")
    # 'oficial': the agent is an official line (Cloud API) and the template names an approved one.
    canal: Literal["agente", "oficial"] = "agente"


class CampanaIniciar(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    campana_id: int = Field(alias="campanaId")
    plantilla_id: int | None = Field(default=None, alias="plantillaId")
    config_delay: dict[str, Any] | None = Field(default=None, alias="configDelay")
    # Skip contacts whose data can't fill the template (they are reported) instead of refusing to start.
    omitir_errores: bool = Field(default=False, alias="omitirErrores")


class CampanaCambioEstado(BaseModel):
    estado: Literal["pausada", "activa", "cancelada"]


class CampanaSalida(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    agente_id: int
    cartera_id: int | None
    nombre: str
    plantilla_id: int | None
    perfil_id: int | None
    estado: str
    zona_horaria: str
    config_delay: dict[str, Any]
    inicio_programado: datetime | None
    iniciada_at: datetime | None
    completada_at: datetime | None
    total_mensajes: int
    enviados: int
    fallidos: int
    created_at: datetime


class CampanaEstado(BaseModel):
    campana_id: int
    estado: str
    total: int
    pendientes: int
    enviando: int
    enviados: int
    entregados: int
    leidos: int
    respondidos: int
    fallidos: int
    suprimidos: int
    cancelados: int
    inciertos: int
    sin_whatsapp: int = 0  # the number is not on WhatsApp (looked up before sending): never sent
    sin_acuse: int = 0  # sent, no delivery receipt after the watchdog's bound
    por_hora: float  # messages sent in the last hour
    eta: datetime | None  # the pacing, windows and caps applied to what is pending
    motivo: str | None = None  # why nothing is leaving now, in words («Fuera de horario …; reanuda a las 09:00.»)
    reanuda_at: datetime | None = None
    # Contacts of the campaign's cartera held back now because they said «no me interesa» recently.
    no_interesados: int = 0


class ErrorContacto(BaseModel):
    contacto_id: int
    nombre: str | None = None
    telefono: str | None = None
    campos: list[dict[str, str]]


class NoInteresadoRetenido(BaseModel):
    """A contact left out because they answered «no me interesa» recently (any agent)."""

    contacto_id: int
    hasta: datetime


class LanzamientoPrevia(BaseModel):
    """What launching now would queue: the panel's launch dialog shows these very counts."""

    listos: int  # messages that would be queued (contacts with every field the template needs)
    incompletos: int  # contacts left out unless the cartera is fixed
    en_supresion: int  # of the ready ones, numbers on the suppression list: queued, then never sent
    no_interesados: int = 0  # left out: said «no me interesa» recently
    errores: list[ErrorContacto]


class InicioSalida(BaseModel):
    campana: CampanaSalida
    mensajes: int
    omitidos: list[ErrorContacto] = []
    # Left out of this campaign: said «no me interesa» within the configured days (first 200).
    no_interesados: list[NoInteresadoRetenido] = []
    total_no_interesados: int = 0
