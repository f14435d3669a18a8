"""The event contract: one pydantic model per realtime/CRM event, snake_case keys on the wire.

Every event the panel receives over socket.io and every CRM webhook's `datos` is one of these models,
serialized with `model_dump(mode="json")`. `tiempo_real.emitir/publicar` validate what they are given
(a model, or a dict checked against the model of that event name) and refuse anything else: an unknown
event name, a missing field or an extra key is a bug, caught by the tests that emit it.

The panel's TypeScript types (`web/src/api/eventos.ts`) are generated from `esquema_openapi()` by
`make esquema`; `tests/unit/test_contrato_panel.py` fails when the committed file differs.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic.json_schema import models_json_schema


class EventoInvalido(ValueError):
    """An event that is not in the contract (unknown name, or a payload that does not match its model)."""


class Evento(BaseModel):
    """Base of every event; `nombre` is the event name on the wire (`mensaje.recibido`...)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    nombre: ClassVar[str]

    def datos(self) -> dict[str, Any]:
        """The JSON payload as sent (every field present, nulls included)."""
        return self.model_dump(mode="json")


class SesionEstado(Evento):
    """A WhatsApp session changed state (conectada, esperando_qr, desconectada...)."""

    nombre: ClassVar[str] = "sesion.estado"
    agente_id: int
    estado: str
    motivo: str | None = None


class SesionQr(Evento):
    """A QR to scan or a pairing code to type, for the agent linking a number."""

    nombre: ClassVar[str] = "sesion.qr"
    agente_id: int
    qr: str | None = None
    codigo: str | None = None
    expira_en_s: int | None = None


class MensajeEnviado(Evento):
    """An outgoing message row was created or seen sent (campaign, reply, or written on the phone)."""

    nombre: ClassVar[str] = "mensaje.enviado"
    id: int
    agente_id: int
    wa_message_id: str
    origen: str
    estado: str
    contacto_id: int | None = None
    campana_id: int | None = None
    numero_destino: str | None = None
    tipo: str
    momento: datetime


class MensajeEstado(Evento):
    """An outgoing message moved to another status (enviado, entregado, leido, fallido...)."""

    nombre: ClassVar[str] = "mensaje.estado"
    id: int
    agente_id: int
    wa_message_id: str
    estado: str
    estado_anterior: str | None = None
    campana_id: int | None = None
    contacto_id: int | None = None


class MensajeRecibido(Evento):
    """A person wrote to an agent's number."""

    nombre: ClassVar[str] = "mensaje.recibido"
    id: int
    agente_id: int
    wa_message_id: str
    contacto_id: int | None = None
    campana_id: int | None = None
    mensaje_origen_id: int | None = None
    numero_origen: str | None = None
    tipo: str
    texto: str | None = None
    momento: datetime


class CampanaProgreso(Evento):
    """A campaign's counts by status (coalesced: at most one per campaign every half second)."""

    nombre: ClassVar[str] = "campana.progreso"
    campana_id: int
    agente_id: int
    estado: str | None = None
    cuentas: dict[str, int]
    momento: datetime


class EnvioParada(Evento):
    """A safety stop of an agent's sending started (`activa`) or was resolved."""

    nombre: ClassVar[str] = "envio.parada"
    parada_id: int
    agente_id: int
    activa: bool
    motivo: str | None = None
    detalle: str | None = None
    mensaje: str | None = None
    hasta: datetime | None = None  # WhatsApp's end for it (a reach-out timelock); it lifts itself then


class EnvioSinAcuse(Evento):
    """Sent messages with no delivery receipt after the watchdog's bound; their numbers get looked up again."""

    nombre: ClassVar[str] = "envio.sin_acuse"
    agente_id: int
    mensaje_ids: list[int]
    campana_ids: list[int]
    cantidad: int
    momento: datetime


class ContactoBaja(Evento):
    """A person opted out; the phone is masked (the panel does not need it in full)."""

    nombre: ClassVar[str] = "contacto.baja"
    contacto_id: int
    agente_id: int | None = None
    telefono: str | None = None


class ContactoTransferido(Evento):
    """A contact moved from one agent to another (official line handover)."""

    nombre: ClassVar[str] = "contacto.transferido"
    contacto_id: int
    de: int | None = None
    a: int


class SupervisionAviso(Evento):
    """A supervisor's notice to an agent or a team."""

    nombre: ClassVar[str] = "supervision.aviso"
    texto: str
    de: str
    de_usuario_id: int
    at: datetime
    agente_id: int | None = None
    equipo_id: int | None = None


class CampanaPausada(Evento):
    """The system paused a campaign and says why (Meta paused/rejected its template...)."""

    nombre: ClassVar[str] = "campana.pausada"
    campana_id: int
    agente_id: int
    motivo: str
    momento: datetime


class LineaOficialCalidad(Evento):
    """An official line's quality rating, messaging tier or account state changed (Meta webhooks, verification)."""

    nombre: ClassVar[str] = "linea_oficial.calidad"
    linea_id: int
    agente_id: int
    calidad: str
    nivel: str
    marcada: bool
    estado_cuenta: str | None = None
    momento: datetime


class WebhookPrueba(Evento):
    """A test delivery asked for from the webhooks screen (CRM only)."""

    nombre: ClassVar[str] = "webhook.prueba"
    suscripcion_id: int


MODELOS: dict[str, type[Evento]] = {
    m.nombre: m
    for m in (
        SesionEstado,
        SesionQr,
        MensajeEnviado,
        MensajeEstado,
        MensajeRecibido,
        CampanaProgreso,
        EnvioParada,
        EnvioSinAcuse,
        ContactoBaja,
        ContactoTransferido,
        SupervisionAviso,
        CampanaPausada,
        LineaOficialCalidad,
        WebhookPrueba,
    )
}


# Events a CRM may subscribe to. `sesion.qr` is left out on purpose (a QR links the agent's WhatsApp:
# it must never leave the panel) and so is `campana.progreso` (a burst of near-duplicates; the CRM
# reads the campaign funnel instead).
EVENTOS_WEBHOOK = (
    "sesion.estado",
    "mensaje.enviado",
    "mensaje.estado",
    "mensaje.recibido",
    "envio.parada",
    "contacto.baja",
    "webhook.prueba",
)


def validar(evento: str | Evento, datos: dict[str, Any] | None = None) -> tuple[str, dict[str, Any]]:
    """(name, JSON payload) of a model, or of a name and dict checked against that name's model."""
    if isinstance(evento, Evento):
        return evento.nombre, evento.datos()
    modelo = MODELOS.get(evento)
    if modelo is None:
        raise EventoInvalido(f"evento desconocido: {evento!r}; agrégalo a enlace.comun.eventos")
    try:
        return evento, modelo.model_validate(datos or {}).datos()
    except ValidationError as exc:
        raise EventoInvalido(f"{evento}: los datos no cumplen el contrato: {exc}") from exc


def esquema_openapi() -> dict[str, Any]:
    """An OpenAPI document whose components are the event models plus `Eventos` (name → payload)."""
    modelos = list(MODELOS.values())
    _, definiciones = models_json_schema(
        [(m, "serialization") for m in modelos], ref_template="#/components/schemas/{model}"
    )
    esquemas: dict[str, Any] = definiciones.get("$defs", {})
    for esquema in esquemas.values():
        # Every field is always present in what the server sends (defaults included).
        if "properties" in esquema:
            esquema["required"] = list(esquema["properties"])
    esquemas["Eventos"] = {
        "type": "object",
        "description": "Cada evento de tiempo real y de webhook, por nombre, con sus datos.",
        "properties": {m.nombre: {"$ref": f"#/components/schemas/{m.__name__}"} for m in modelos},
        "required": [m.nombre for m in modelos],
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "Eventos de Enlace", "version": "1"},
        "paths": {},
        "components": {"schemas": esquemas},
    }
