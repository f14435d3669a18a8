"""Cloud API webhooks: signature check over the raw body and payloads → normalized engine events."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from enlace.comun.telefonos import jid_de_usuario
from enlace.motores.base import (
    ClaseDesconexion,
    EstadoEntrega,
    Evento,
    EventoDesconectado,
    EventoEstado,
    EventoMensaje,
    EventoPreferencia,
    Medio,
    TipoContenido,
)
from enlace.motores.cloud_api.config import NumeroOficial
from enlace.motores.cloud_api.errores import ClaseError, regla

ESTADOS = {
    "sent": EstadoEntrega.enviado,
    "delivered": EstadoEntrega.entregado,
    "read": EstadoEntrega.leido,
    "played": EstadoEntrega.reproducido,
    "failed": EstadoEntrega.fallido,
}
TIPOS = {
    "text": TipoContenido.texto,
    "image": TipoContenido.imagen,
    "video": TipoContenido.video,
    "audio": TipoContenido.audio,
    "voice": TipoContenido.audio,
    "document": TipoContenido.documento,
    "sticker": TipoContenido.sticker,
    "location": TipoContenido.ubicacion,
    "contacts": TipoContenido.contacto,
    "reaction": TipoContenido.reaccion,
    "button": TipoContenido.texto,
    "interactive": TipoContenido.texto,
    "template": TipoContenido.plantilla,
}


def firma_valida(app_secret: str, cuerpo: bytes, cabecera: str | None) -> bool:
    """X-Hub-Signature-256: sha256=<hex HMAC-SHA256(app_secret, raw body)>, compared in constant time."""
    if not cabecera or not cabecera.startswith("sha256="):
        return False
    esperada = hmac.new(app_secret.encode(), cuerpo, hashlib.sha256).hexdigest()
    return hmac.compare_digest(esperada, cabecera[7:].strip().lower())


def firmar(app_secret: str, cuerpo: bytes) -> str:
    return "sha256=" + hmac.new(app_secret.encode(), cuerpo, hashlib.sha256).hexdigest()


def _momento(valor: Any) -> datetime:
    try:
        return datetime.fromtimestamp(int(valor), UTC)
    except (TypeError, ValueError):
        return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Precio:
    """A status's `pricing` object: what Meta charges for that message."""

    agente_id: int
    wamid: str
    categoria: str
    facturable: bool
    modelo: str
    tipo: str | None
    momento: datetime


@dataclass(frozen=True, slots=True)
class EventoCuenta:
    """A WABA-level webhook: number quality / messaging tier, account events, template review."""

    campo: str  # phone_number_quality_update | account_update | message_template_status_update
    waba_id: str
    valor: dict[str, Any]
    momento: datetime


@dataclass(slots=True)
class Lectura:
    """What one webhook POST carried, already as engine events."""

    eventos: list[Evento] = field(default_factory=list)
    # Our own id echoed back (biz_opaque_callback_data) → the wamid Meta assigned.
    correlaciones: dict[str, str] = field(default_factory=dict)
    numeros_desconocidos: set[str] = field(default_factory=set)
    precios: list[Precio] = field(default_factory=list)
    cuenta: list[EventoCuenta] = field(default_factory=list)
    # Failed statuses whose code means the template is unusable: (agente_id, wamid, code, reason).
    plantillas_detenidas: list[tuple[int, str, int, str]] = field(default_factory=list)
    # Events for the rest of the core (safety stops), not for capture.
    de_linea: list[Evento] = field(default_factory=list)
    # Failed statuses whose code means «try this person again later»: (agente_id, wamid, code, wait in s).
    reintentos: list[tuple[int, str, int, float]] = field(default_factory=list)


# Payloads of quick-reply buttons Enlace puts in templates (see plantillas/oficial.py) → what they mean.
PAYLOAD_BAJA = "enlace:baja"
PAYLOAD_NO_INTERESADO = "enlace:no_interesado"
ACCIONES_BOTON = {PAYLOAD_BAJA: "BAJA", PAYLOAD_NO_INTERESADO: "No me interesa"}

CAMPOS_CUENTA = ("phone_number_quality_update", "account_update", "message_template_status_update")


def _contenido(mensaje: dict[str, Any]) -> tuple[TipoContenido, str | None, Medio | None, str | None]:
    tipo_crudo = mensaje.get("type", "")
    tipo = TIPOS.get(tipo_crudo, TipoContenido.otro)
    texto: str | None = None
    medio: Medio | None = None
    referencia: str | None = (mensaje.get("context") or {}).get("id")
    if tipo_crudo == "text":
        texto = (mensaje.get("text") or {}).get("body")
    elif tipo_crudo == "button":
        boton = mensaje.get("button") or {}
        # Quick replies wired to an action carry its payload: the reply then reads as the canonical words,
        # so it follows the very same opt-out / «no me interesa» path as a typed reply, whatever the label.
        texto = ACCIONES_BOTON.get(str(boton.get("payload") or ""), boton.get("text"))
    elif tipo_crudo == "interactive":
        interactivo = mensaje.get("interactive") or {}
        respuesta = interactivo.get("button_reply") or interactivo.get("list_reply") or {}
        texto = respuesta.get("title")
    elif tipo_crudo == "reaction":
        reaccion = mensaje.get("reaction") or {}
        texto = reaccion.get("emoji")
        referencia = reaccion.get("message_id")
    elif tipo_crudo in ("image", "video", "audio", "voice", "document", "sticker"):
        datos = mensaje.get(tipo_crudo) or {}
        texto = datos.get("caption")
        medio = Medio(mime=datos.get("mime_type"), nombre_archivo=datos.get("filename"), referencia=datos.get("id"))
    return tipo, texto, medio, referencia


def leer_webhook(payload: dict[str, Any], numeros: dict[str, NumeroOficial]) -> Lectura:
    """Turn one webhook body into events for the numbers we know (others are reported, not processed)."""
    lectura = Lectura()
    for entrada in payload.get("entry") or []:
        for cambio in entrada.get("changes") or []:
            valor = cambio.get("value") or {}
            campo = cambio.get("field")
            if campo in CAMPOS_CUENTA:
                # Keyed by the WABA (entry.id) and, for numbers, the display number: resolved by the service.
                lectura.cuenta.append(
                    EventoCuenta(str(campo), str(entrada.get("id", "")), valor, _momento(entrada.get("time")))
                )
                continue
            pnid = str((valor.get("metadata") or {}).get("phone_number_id", ""))
            numero = numeros.get(pnid)
            if numero is None:
                lectura.numeros_desconocidos.add(pnid)
                continue
            agente_id = numero.agente_id
            if campo == "messages":
                _leer_mensajes(lectura, valor, agente_id)
            elif campo == "smb_message_echoes":
                _leer_ecos(lectura, valor, agente_id)
            elif campo == "user_preferences":
                for pref in valor.get("user_preferences") or []:
                    if pref.get("category", "marketing_messages") != "marketing_messages":
                        continue
                    lectura.eventos.append(
                        EventoPreferencia(
                            agente_id=agente_id,
                            telefono_jid=jid_de_usuario(pref.get("wa_id")),
                            bsuid=pref.get("user_id"),
                            detener_marketing=pref.get("value") == "stop",
                            momento=_momento(pref.get("timestamp")),
                        )
                    )
    return lectura


def _leer_mensajes(lectura: Lectura, valor: dict[str, Any], agente_id: int) -> None:
    perfiles = {c.get("wa_id"): c for c in valor.get("contacts") or []}
    for mensaje in valor.get("messages") or []:
        origen = mensaje.get("from")
        contacto = perfiles.get(origen) or {}
        tipo, texto, medio, referencia = _contenido(mensaje)
        lectura.eventos.append(
            EventoMensaje(
                agente_id=agente_id,
                wa_message_id=str(mensaje["id"]),
                de_mi=False,
                chat_jid=jid_de_usuario(origen) or f"{contacto.get('user_id')}@bsuid",
                telefono_jid=jid_de_usuario(origen),
                momento=_momento(mensaje.get("timestamp")),
                tipo=tipo,
                texto=texto,
                medio=medio,
                referencia_id=referencia,
                nombre_perfil=(contacto.get("profile") or {}).get("name"),
                bsuid=contacto.get("user_id") or mensaje.get("from_user_id"),
            )
        )
    for estado in valor.get("statuses") or []:
        tipo_estado = ESTADOS.get(estado.get("status", ""))
        if tipo_estado is None:
            continue
        errores = estado.get("errors") or []
        codigo = errores[0].get("code") if errores else None
        detalle = None
        if errores:
            detalle = (errores[0].get("error_data") or {}).get("details") or errores[0].get("title")
        propio = estado.get("biz_opaque_callback_data")
        if propio:
            lectura.correlaciones[str(propio)] = str(estado["id"])
        precio = estado.get("pricing")
        if isinstance(precio, dict) and precio.get("category"):
            lectura.precios.append(
                Precio(
                    agente_id=agente_id,
                    wamid=str(estado["id"]),
                    categoria=str(precio["category"]),
                    facturable=bool(precio.get("billable", True)),
                    modelo=str(precio.get("pricing_model") or "PMP"),
                    tipo=precio.get("type"),
                    momento=_momento(estado.get("timestamp")),
                )
            )
        if tipo_estado == EstadoEntrega.fallido and codigo is not None:
            _consecuencias_fallo(lectura, agente_id, estado, int(codigo), detalle)
        lectura.eventos.append(
            EventoEstado(
                agente_id=agente_id,
                wa_message_id=str(estado["id"]),
                estado=tipo_estado,
                momento=_momento(estado.get("timestamp")),
                codigo_error=int(codigo) if codigo is not None else None,
                detalle_error=detalle,
                chat_jid=jid_de_usuario(estado.get("recipient_id")),
            )
        )


def _consecuencias_fallo(
    lectura: Lectura, agente_id: int, estado: dict[str, Any], codigo: int, detalle: str | None
) -> None:
    """A failed status does what the error table says beyond failing the row."""
    r = regla(codigo)
    if r.clase == ClaseError.reintentar:
        lectura.reintentos.append((agente_id, str(estado["id"]), codigo, r.espera_s or 3600.0))
    elif r.clase == ClaseError.suprimir:
        lectura.eventos.append(
            EventoPreferencia(
                agente_id=agente_id,
                telefono_jid=jid_de_usuario(estado.get("recipient_id")),
                bsuid=estado.get("recipient_user_id"),
                detener_marketing=True,
                momento=_momento(estado.get("timestamp")),
            )
        )
    elif r.clase == ClaseError.parar_linea:
        clase = ClaseDesconexion.sesion_cerrada if r.sesion_cerrada else ClaseDesconexion.restringida
        texto = f"{r.mensaje} (código {codigo}{': ' + detalle if detalle else ''})"
        lectura.de_linea.append(EventoDesconectado(agente_id, clase, codigo=codigo, detalle=texto))
    if r.detiene_plantilla:
        lectura.plantillas_detenidas.append((agente_id, str(estado["id"]), codigo, r.mensaje))


def _leer_ecos(lectura: Lectura, valor: dict[str, Any], agente_id: int) -> None:
    """Coexistence: what the agent typed in the WhatsApp Business app, mirrored to us."""
    for eco in valor.get("message_echoes") or []:
        tipo, texto, medio, referencia = _contenido(eco)
        lectura.eventos.append(
            EventoMensaje(
                agente_id=agente_id,
                wa_message_id=str(eco["id"]),
                de_mi=True,
                chat_jid=jid_de_usuario(eco.get("to")) or "",
                telefono_jid=jid_de_usuario(eco.get("to")),
                momento=_momento(eco.get("timestamp")),
                tipo=tipo,
                texto=texto,
                medio=medio,
                referencia_id=referencia,
            )
        )
