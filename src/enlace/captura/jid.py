"""WhatsApp ids (JIDs, LIDs, Cloud API ids) to the canonical phone Enlace stores (+52XXXXXXXXXX)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

from enlace.carteras.telefonos import candidatos_wa

DOMINIO_TELEFONO = "s.whatsapp.net"
DOMINIOS_TELEFONO = {"s.whatsapp.net", "c.us"}
DOMINIO_LID = "lid"
DOMINIOS_GRUPO = {"g.us"}
DOMINIOS_DIFUSION = {"broadcast", "newsletter", "call"}

_SOLO_DIGITOS = re.compile(r"^\d{6,20}$")


class TipoJid(StrEnum):
    telefono = "telefono"
    lid = "lid"
    grupo = "grupo"
    difusion = "difusion"  # status@broadcast, channels: never a 1:1 chat
    invalido = "invalido"


@dataclass(frozen=True, slots=True)
class Jid:
    tipo: TipoJid
    usuario: str  # the user part without device suffix ("5215512345678", "123456789012345")
    telefono: str | None  # canonical phone when the id is a phone id


def _usuario_y_dominio(jid: str) -> tuple[str, str]:
    usuario, arroba, dominio = jid.strip().partition("@")
    # "5215512345678:12@s.whatsapp.net" (device) and "5215512345678.0:12@..." (agent) name the same user.
    usuario = usuario.split(":", 1)[0].split(".", 1)[0]
    return usuario, (dominio.lower() if arroba else "")


def telefono_de_digitos(digitos: str) -> str | None:
    """Digits of a WhatsApp phone id -> canonical phone; Mexican `521…`/`52…` become +52 + 10 digits.

    Other countries keep their digits with a leading `+` (E.164 as WhatsApp sends it). Unlike the
    portfolio normalizer (`enlace.carteras.telefonos`, which rejects unassigned area codes and other
    countries), capture keeps whatever WhatsApp reports: it only has to match, and for valid Mexican
    numbers both give the same canonical form (tested).
    """
    d = digitos.lstrip("+")
    if not d.isdigit():
        return None
    if d.startswith("521") and len(d) == 13:
        return "+52" + d[3:]
    if d.startswith("52") and len(d) == 12:
        return "+52" + d[2:]
    if d.startswith("52"):
        # A Mexican prefix with the wrong length is not a number we can match to anyone.
        return None
    if 8 <= len(d) <= 15:
        return "+" + d
    return None


@lru_cache(maxsize=65536)  # the same chats come back for every echo, receipt and reply
def analizar_jid(jid: str | None) -> Jid:
    """Classify a remote jid as delivered by an engine; a bare digit string counts as a phone id (Cloud API)."""
    if not jid:
        return Jid(TipoJid.invalido, "", None)
    usuario, dominio = _usuario_y_dominio(jid)
    if not dominio:
        if _SOLO_DIGITOS.match(usuario.lstrip("+")):
            tel = telefono_de_digitos(usuario)
            return Jid(TipoJid.telefono if tel else TipoJid.invalido, usuario.lstrip("+"), tel)
        return Jid(TipoJid.invalido, usuario, None)
    if dominio in DOMINIOS_TELEFONO:
        tel = telefono_de_digitos(usuario)
        return Jid(TipoJid.telefono if tel else TipoJid.invalido, usuario, tel)
    if dominio == DOMINIO_LID:
        return Jid(TipoJid.lid if usuario.isdigit() else TipoJid.invalido, usuario, None)
    if dominio in DOMINIOS_GRUPO:
        return Jid(TipoJid.grupo, usuario, None)
    if dominio in DOMINIOS_DIFUSION or usuario == "status":
        return Jid(TipoJid.difusion, usuario, None)
    return Jid(TipoJid.invalido, usuario, None)


def lid_normalizado(jid: str) -> str | None:
    """'123456789@lid' or '123456789:3@lid' -> '123456789@lid' (the stored form), None when not a LID."""
    info = analizar_jid(jid)
    return f"{info.usuario}@{DOMINIO_LID}" if info.tipo == TipoJid.lid else None


def telefono_de_jid(jid: str | None) -> str | None:
    """Canonical phone of a phone jid (None for LIDs, groups, broadcasts, garbage)."""
    return analizar_jid(jid).telefono


def jids_candidatos(telefono: str) -> list[str]:
    """WhatsApp ids a canonical phone may use; Mexican mobiles may still be `521…` (the server decides)."""
    return [f"{usuario}@{DOMINIO_TELEFONO}" for usuario in candidatos_wa(telefono)]


def jid_para_enviar(telefono: str, conocido: str | None = None) -> str:
    """The jid to send to: the resolved one when known (number check, a previous message), else `521…`."""
    if conocido and analizar_jid(conocido).tipo in (TipoJid.telefono, TipoJid.lid):
        return conocido
    return jids_candidatos(telefono)[0]


def resolver_telefono(chat_jid: str | None, telefono_jid: str | None, mapeo_lid: dict[str, str]) -> str | None:
    """The person's canonical phone for a 1:1 message: the phone jid, else the chat jid, else the LID map."""
    for candidato in (telefono_jid, chat_jid):
        tel = telefono_de_jid(candidato)
        if tel:
            return tel
    for candidato in (chat_jid, telefono_jid):
        lid = lid_normalizado(candidato) if candidato else None
        if lid and lid in mapeo_lid:
            return mapeo_lid[lid]
    return None
