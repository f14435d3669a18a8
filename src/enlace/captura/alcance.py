"""Capture scope (privacy): which chats of an agent's personal number are stored and which only counted."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from enlace.settings import AlcanceCaptura


class Decision(StrEnum):
    guardar = "guardar"
    contar = "contar"  # out of scope: only a per-agent, per-day counter moves
    ignorar = "ignorar"  # not a 1:1 chat with a person (status broadcasts, channels, garbage)


@dataclass(frozen=True, slots=True)
class Contexto:
    """What capture knows about the other party of one message."""

    telefono: str | None  # canonical phone, None when it could not be resolved (unmapped LID)
    es_grupo: bool = False
    es_difusion: bool = False
    es_contacto: bool = False  # a row in contactos has this phone
    sistema_escribio: bool = False  # Enlace sent this number something (campaign, reply, opt-out notice)
    mensaje_conocido: bool = False  # the message id already has a row (e.g. the system wrote it first)


def decidir(alcance: AlcanceCaptura | str, ctx: Contexto) -> Decision:
    """`negocio`: only contacts and numbers the system messaged; `todo`: every 1:1 chat.

    A message whose row already exists (the echo of a message Enlace sent) is always stored: it is
    the proof the message went out. Groups are outside the business relation and are only counted
    (their messages name no single person to tie a reply to).
    """
    if ctx.es_difusion:
        return Decision.ignorar
    if ctx.mensaje_conocido:
        return Decision.guardar
    if ctx.es_grupo:
        return Decision.contar
    if AlcanceCaptura(alcance) == AlcanceCaptura.todo:
        # An unmapped LID is still stored (chat_jid keeps it); the phone is filled in when the map arrives.
        return Decision.guardar
    if ctx.telefono and (ctx.es_contacto or ctx.sistema_escribio):
        return Decision.guardar
    return Decision.contar
