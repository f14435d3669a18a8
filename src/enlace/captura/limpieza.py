"""Inbound text made storable: NUL and other control characters removed before storing and classifying.

PostgreSQL `text` cannot hold NUL, so a message containing one used to fail its batch and be dropped —
including an opt-out like "BAJA\\u0000". Tabs and line breaks are kept; every other C0/C1 control
character (and NUL) goes.
"""

from __future__ import annotations

import dataclasses
import re

from enlace.motores.base import EventoMensaje

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def limpiar_texto(texto: str | None) -> str | None:
    if texto is None:
        return None
    return _CONTROL.sub("", texto)


def limpiar_evento(evento: object) -> object:
    """The same event with its text and file name cleaned (other events pass through untouched)."""
    if not isinstance(evento, EventoMensaje):
        return evento
    texto = limpiar_texto(evento.texto)
    nombre = limpiar_texto(evento.nombre_perfil)
    medio = evento.medio
    if medio is not None and medio.nombre_archivo and _CONTROL.search(medio.nombre_archivo):
        medio = dataclasses.replace(medio, nombre_archivo=limpiar_texto(medio.nombre_archivo))
    if texto == evento.texto and nombre == evento.nombre_perfil and medio is evento.medio:
        return evento
    return dataclasses.replace(evento, texto=texto, nombre_perfil=nombre, medio=medio)
