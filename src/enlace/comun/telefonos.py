"""Mexican numbers and WhatsApp ids, once: canonical phones, `521`/`52` ids, JIDs, LIDs and pairing digits.

Two kinds of input meet here. People type numbers (portfolio files, the panel, the CLI): `normalizar`
accepts or rejects them with a Spanish reason. Engines report WhatsApp ids (`5215512345678@s.whatsapp.net`,
`123@lid`, Cloud API `wa_id`s): `analizar_jid` classifies them and maps phone ids to the same canonical
form, `+52` + 10 digits. The gateway has the JavaScript twin (`gateway/src/numeros.js`); both are checked
against one table of examples, `tests/vectores/numeros.json`.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from typing import NamedTuple

import phonenumbers
from phonenumbers import PhoneNumberType

# Number types a person can have WhatsApp on; toll-free, premium, shared cost... are rejected.
_TIPOS_PERSONALES = {
    PhoneNumberType.FIXED_LINE: "fijo",
    PhoneNumberType.MOBILE: "movil",
    PhoneNumberType.FIXED_LINE_OR_MOBILE: "fijo_o_movil",
    PhoneNumberType.VOIP: "voip",
    PhoneNumberType.PERSONAL_NUMBER: "personal",
}
_NOMBRE_TIPO = {
    PhoneNumberType.TOLL_FREE: "número gratuito (800)",
    PhoneNumberType.PREMIUM_RATE: "número de tarificación especial (900)",
    PhoneNumberType.SHARED_COST: "número de costo compartido",
    PhoneNumberType.UAN: "número de acceso universal",
    PhoneNumberType.PAGER: "localizador",
    PhoneNumberType.VOICEMAIL: "buzón de voz",
}

# Characters people and spreadsheets put inside phone numbers; they carry no information.
_SEPARADORES = str.maketrans("", "", " \t\u00a0\u2007\u202f-.()/\u2010\u2011\u2012\u2013\u2014\u2212_")
_NOTACION_CIENTIFICA = re.compile(r"[+-]?\d+(?:[.,]\d*)?[eE][+-]?\d+")
# A whole number a spreadsheet wrote as a float ("5512345678.0"): no digit is lost, so accept it.
_FLOTANTE_ENTERO = re.compile(r"(\d{7,15})\.0+")
# Excel's trick to keep a number as text: ="5512345678".
_FORMULA_TEXTO = re.compile(r'=\s*"([^"]*)"')
_EXTENSION = re.compile(r"(?:ext\.?|extensi[oó]n|x)\s*\d+$", re.IGNORECASE)


class Telefono(NamedTuple):
    """An accepted number: canonical E.164 and its kind; WhatsApp ids derive from it (a session check decides)."""

    canonico: str
    tipo: str

    @property
    def candidatos_wa(self) -> tuple[str, ...]:
        return candidatos_wa(self.canonico)

    @property
    def nacional(self) -> str:
        return self.canonico[3:] if self.canonico.startswith("+52") else self.canonico.lstrip("+")


@dataclass(frozen=True, slots=True)
class Rechazo:
    """A rejected value: a stable code and a Spanish reason the person fixing the file can act on."""

    codigo: str
    motivo: str


def candidatos_wa(canonico: str) -> tuple[str, ...]:
    """WhatsApp user ids a canonical number may map to; Mexican mobiles often still use `521…`."""
    digitos = canonico.lstrip("+")
    if digitos.startswith("52") and len(digitos) == 12:
        return ("521" + digitos[2:], digitos)
    return (digitos,)


_PREFIJOS_MX: dict[str, int | None] = {}
_FIJO_O_MOVIL = PhoneNumberType.FIXED_LINE_OR_MOBILE


def _tipo_por_prefijo_mx(prefijo: str) -> int | None:
    """Number type for a 3-digit Mexican prefix when the metadata decides by prefix alone, else None."""
    try:
        return _PREFIJOS_MX[prefijo]
    except KeyError:
        pass
    tipos = {
        phonenumbers.number_type(phonenumbers.parse(prefijo + resto, "MX"))
        for resto in ("0000000", "9999999", "4827153", "1357913")
    }
    tipo = int(tipos.pop()) if len(tipos) == 1 else None
    _PREFIJOS_MX[prefijo] = tipo
    return tipo


def _tipo_mx(nacional: str) -> int:
    # Fast path: Mexican number types depend on the first three digits; the full parse only when they don't.
    tipo = _tipo_por_prefijo_mx(nacional[:3])
    if tipo is not None:
        return tipo
    return int(phonenumbers.number_type(phonenumbers.parse(nacional, "MX")))


def _aceptar_mx(nacional: str, solo_moviles: bool) -> Telefono | Rechazo:
    if nacional[0] in "01":
        return Rechazo("invalido", f"{nacional} no es un número válido de México (no puede empezar con {nacional[0]})")
    tipo = _PREFIJOS_MX.get(nacional[:3])
    if tipo is None:
        tipo = _tipo_mx(nacional)
    if tipo == _FIJO_O_MOVIL:
        return Telefono("+52" + nacional, "fijo_o_movil")
    if tipo == PhoneNumberType.UNKNOWN:
        return Rechazo("invalido", f"{nacional} no es un número válido de México (lada {nacional[:3]} no asignada)")
    if tipo not in _TIPOS_PERSONALES:
        nombre = _NOMBRE_TIPO.get(tipo, "número de servicio")
        return Rechazo("no_personal", f"{nacional} es un {nombre}; no se puede contactar por WhatsApp")
    if solo_moviles and tipo == PhoneNumberType.FIXED_LINE:
        return Rechazo("fijo", f"{nacional} es un teléfono fijo y la configuración pide solo celulares")
    return Telefono("+52" + nacional, _TIPOS_PERSONALES[tipo])


def _limpiar(texto: str) -> str | Rechazo:
    """Strip formatting; returns digits with an optional leading '+', or why the value is unusable."""
    valor = texto.strip()
    if valor.isdigit() and valor.isascii():  # the common case, first
        return valor
    if not valor:
        return Rechazo("vacio", "el teléfono está vacío")
    if valor[0] == "=":
        formula = _FORMULA_TEXTO.fullmatch(valor)
        if not formula:
            return Rechazo("formula", "el teléfono es una fórmula de hoja de cálculo, no un número")
        valor = formula.group(1).strip()
    if "e" in valor or "E" in valor:
        if _NOTACION_CIENTIFICA.fullmatch(valor.replace(" ", "")):
            return Rechazo(
                "notacion_cientifica",
                f"'{valor}' está en notación científica: la hoja de cálculo perdió dígitos. "
                "Da formato de texto a la columna y vuelve a exportar",
            )
    if "." in valor:
        entero = _FLOTANTE_ENTERO.fullmatch(valor)
        if entero:
            valor = entero.group(1)
    limpio = valor.replace(" ", "").replace("-", "")
    if not (limpio.isdigit() and limpio.isascii()):
        limpio = limpio.translate(_SEPARADORES)
    signo = ""
    if limpio[:1] == "+":
        limpio = limpio[1:]
        signo = "+"
    if limpio.isdigit() and limpio.isascii():
        return signo + limpio
    if _EXTENSION.search(valor):
        return Rechazo("extension", f"'{valor}' incluye una extensión; WhatsApp necesita un número directo")
    if limpio and limpio.isdecimal():  # other scripts' digits (e.g. full-width): take their values
        return signo + "".join(str(unicodedata.decimal(c)) for c in limpio)
    if not limpio:
        return Rechazo("vacio", "el teléfono no tiene dígitos")
    return Rechazo("caracteres", f"'{valor}' contiene caracteres que no son dígitos")


def _normalizar_mx(digitos: str, solo_moviles: bool) -> Telefono | Rechazo:
    if digitos.startswith("+"):
        cuerpo = digitos[1:]
        if not cuerpo.startswith("52"):
            return _no_mexicano(digitos)
        nacional = cuerpo[2:]
        if len(nacional) == 11 and nacional[0] == "1":  # +52 1 55...: the old mobile prefix
            nacional = nacional[1:]
        return _por_longitud(nacional, digitos, solo_moviles)
    if digitos.startswith("00") and len(digitos) > 10:  # international call prefix written instead of '+'
        return _normalizar_mx("+" + digitos[2:], solo_moviles)
    n = len(digitos)
    if n == 10:
        return _aceptar_mx(digitos, solo_moviles)
    if n == 12 and digitos.startswith("52"):
        return _aceptar_mx(digitos[2:], solo_moviles)
    if n == 13 and digitos.startswith("521"):
        return _aceptar_mx(digitos[3:], solo_moviles)
    if n == 13 and digitos.startswith(("044", "045")):  # old mobile dialing prefixes
        return _aceptar_mx(digitos[3:], solo_moviles)
    if n == 12 and digitos.startswith("01"):  # old long-distance prefix
        return _aceptar_mx(digitos[2:], solo_moviles)
    return _por_longitud(digitos, digitos, solo_moviles)


def _por_longitud(nacional: str, original: str, solo_moviles: bool) -> Telefono | Rechazo:
    n = len(nacional)
    if n == 10:
        return _aceptar_mx(nacional, solo_moviles)
    if n < 10:
        return Rechazo("corto", f"{original} es demasiado corto: tiene {n} dígitos y un número de México tiene 10")
    return Rechazo("largo", f"{original} es demasiado largo: tiene {n} dígitos y un número de México tiene 10")


def _no_mexicano(digitos: str) -> Rechazo:
    try:
        numero = phonenumbers.parse(digitos, None)
        region = phonenumbers.region_code_for_number(numero) or f"+{numero.country_code}"
    except phonenumbers.NumberParseException:
        region = "desconocido"
    return Rechazo("extranjero", f"{digitos} no es un número de México (país {region})")


def _normalizar_otro(digitos: str, pais: str, solo_moviles: bool) -> Telefono | Rechazo:
    # Other countries: no fast path, phonenumbers decides everything.
    try:
        numero = phonenumbers.parse(digitos, pais)
    except phonenumbers.NumberParseException:
        return Rechazo("invalido", f"{digitos} no es un número telefónico válido")
    region = phonenumbers.region_code_for_number(numero)
    if region != pais:
        return Rechazo("extranjero", f"{digitos} no es un número de {pais} (país {region or 'desconocido'})")
    if not phonenumbers.is_valid_number(numero):
        posible = phonenumbers.is_possible_number_with_reason(numero)
        if posible == phonenumbers.ValidationResult.TOO_SHORT:
            return Rechazo("corto", f"{digitos} es demasiado corto para un número de {pais}")
        if posible == phonenumbers.ValidationResult.TOO_LONG:
            return Rechazo("largo", f"{digitos} es demasiado largo para un número de {pais}")
        return Rechazo("invalido", f"{digitos} no es un número válido de {pais}")
    tipo = phonenumbers.number_type(numero)
    if tipo not in _TIPOS_PERSONALES:
        nombre = _NOMBRE_TIPO.get(tipo, "número de servicio")
        return Rechazo("no_personal", f"{digitos} es un {nombre}; no se puede contactar por WhatsApp")
    if solo_moviles and tipo == PhoneNumberType.FIXED_LINE:
        return Rechazo("fijo", f"{digitos} es un teléfono fijo y la configuración pide solo celulares")
    canonico = phonenumbers.format_number(numero, phonenumbers.PhoneNumberFormat.E164)
    return Telefono(canonico, _TIPOS_PERSONALES[tipo])


def normalizar(valor: object, *, pais: str = "MX", solo_moviles: bool = False) -> Telefono | Rechazo:
    """Canonical phone for a cell value (str, int or float from a spreadsheet), or why it is rejected."""
    if (
        type(valor) is str
        and len(valor) == 10
        and valor.isdigit()
        and valor.isascii()
        and pais == "MX"
        and valor[0] not in "01"
    ):  # fast path: a clean 10-digit Mexican number, most of a real file
        tipo = _PREFIJOS_MX.get(valor[:3], -1)
        if tipo == PhoneNumberType.FIXED_LINE_OR_MOBILE:
            return Telefono("+52" + valor, "fijo_o_movil")
    if valor is None:
        return Rechazo("vacio", "el teléfono está vacío")
    if isinstance(valor, bool):
        return Rechazo("caracteres", "el teléfono es un valor verdadero/falso, no un número")
    if isinstance(valor, int):
        texto = str(valor)
    elif isinstance(valor, float):
        if valor != valor or valor in (float("inf"), float("-inf")) or not valor.is_integer():
            return Rechazo("caracteres", f"'{valor}' no es un número entero de teléfono")
        texto = str(int(valor))
    else:
        texto = str(valor)
    limpio = _limpiar(texto)
    if isinstance(limpio, Rechazo):
        return limpio
    pais = pais.upper()
    if pais == "MX":
        return _normalizar_mx(limpio, solo_moviles)
    return _normalizar_otro(limpio, pais, solo_moviles)


def es_canonico(texto: str, *, pais: str = "MX") -> bool:
    """Whether `texto` is already a valid canonical number for `pais` (E.164)."""
    try:
        numero = phonenumbers.parse(texto, None)
    except phonenumbers.NumberParseException:
        return False
    return (
        phonenumbers.is_valid_number(numero)
        and phonenumbers.region_code_for_number(numero) == pais.upper()
        and phonenumbers.format_number(numero, phonenumbers.PhoneNumberFormat.E164) == texto
    )


def telefono_de_wa(wa_id: str, *, pais: str = "MX") -> str | None:
    """Canonical phone for a WhatsApp user id (`5215512345678`, `5215512345678@s.whatsapp.net`), if any."""
    usuario = wa_id.split("@", 1)[0].split(":", 1)[0]
    if not usuario.isdigit():
        return None
    resultado = normalizar("+" + usuario, pais=pais)
    return resultado.canonico if isinstance(resultado, Telefono) else None


# ---- WhatsApp ids ------------------------------------------------------------------------------

DOMINIO_TELEFONO = "s.whatsapp.net"
DOMINIOS_TELEFONO = {"s.whatsapp.net", "c.us"}
DOMINIO_LID = "lid"
DOMINIOS_GRUPO = {"g.us"}
DOMINIOS_DIFUSION = {"broadcast", "newsletter", "call"}

_SOLO_DIGITOS = re.compile(r"^\d{6,20}$")
_NO_DIGITO = re.compile(r"\D")


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

    Other countries keep their digits with a leading `+` (E.164 as WhatsApp sends it). Unlike
    `normalizar` (which rejects unassigned area codes and other countries), this keeps whatever
    WhatsApp reports: it only has to match, and for valid Mexican numbers both give the same
    canonical form (tested).
    """
    d = digitos.lstrip("+")
    if not d.isdigit() or not d.isascii():
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


def jid_de_usuario(usuario: str | None) -> str | None:
    """A phone id's user part (Cloud API `wa_id`, digits) as a jid; None when absent."""
    return f"{usuario}@{DOMINIO_TELEFONO}" if usuario else None


def digitos_de(jid_o_telefono: str) -> str:
    """The digits of a jid's user part or of a typed phone ('5215512345678:3@s.whatsapp.net' -> '5215512345678')."""
    usuario = jid_o_telefono.split("@", 1)[0].split(":", 1)[0]
    return _NO_DIGITO.sub("", usuario)


def clave_telefono(jid_o_telefono: str) -> str:
    """Key to match a WhatsApp answer to the number asked: `521` + 10 digits and `52` + 10 digits are one key."""
    d = digitos_de(jid_o_telefono)
    if len(d) == 13 and d.startswith("521"):
        return "52" + d[3:]
    return d


def canonico_mx(valor: str | None) -> str | None:
    """Lenient Mexican canonical form for ids and typed numbers: 10 digits, 52 + 10 or 521 + 10 -> +52 + 10.

    For values that are not portfolio cells (the simulator's network, engine replies, the pairing
    form); None when the digits are not a Mexican number of the right length.
    """
    d = digitos_de(valor or "")
    if len(d) == 13 and d.startswith("521"):
        d = d[3:]
    elif len(d) == 12 and d.startswith("52"):
        d = d[2:]
    return "+52" + d if len(d) == 10 else None


def digitos_para_emparejar(telefono: str) -> str | None:
    """Digits WhatsApp expects for a pairing code: 52 + 10 for Mexico, international digits otherwise."""
    mx = canonico_mx(telefono)
    if mx is not None:
        return mx[1:]
    d = digitos_de(telefono)
    if 8 <= len(d) <= 15 and not d.startswith("52"):
        return d  # another country: already international digits
    return None


def jid_mx(telefono: str, usa_521: bool) -> str:
    """The phone jid of a canonical Mexican number in one of its two forms (`521…` or `52…`)."""
    nacional = telefono.removeprefix("+52")
    return ("521" if usa_521 else "52") + nacional + "@" + DOMINIO_TELEFONO


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
