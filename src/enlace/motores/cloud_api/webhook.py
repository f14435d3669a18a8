"""Cloud API webhooks: signature check over the raw body and payloads → normalized engine events."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from enlace.comun.telefonos import jid_de_usuario
from enlace.motores.base import (
    EstadoEntrega,
    Evento,
    EventoEstado,
    EventoMensaje,
    EventoPreferencia,
    Medio,
    TipoContenido,
)
from enlace.motores.cloud_api.config import NumeroOficial

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


@dataclass(slots=True)
class Lectura:
    """What one webhook POST carried, already as engine events."""

    eventos: list[Evento] = field(default_factory=list)
    # Our own id echoed back (biz_opaque_callback_data) → the wamid Meta assigned.
    correlaciones: dict[str, str] = field(default_factory=dict)
    numeros_desconocidos: set[str] = field(default_factory=set)


def _contenido(mensaje: dict[str, Any]) -> tuple[TipoContenido, str | None, Medio | None, str | None]:
    tipo_crudo = mensaje.get("type", "")
    tipo = TIPOS.get(tipo_crudo, TipoContenido.otro)
    texto: str | None = None
    medio: Medio | None = None
    referencia: str | None = (mensaje.get("context") or {}).get("id")
    if tipo_crudo == "text":
        texto = (mensaje.get("text") or {}).get("body")
    elif tipo_crudo == "button":
        texto = (mensaje.get("button") or {}).get("text")
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
