"""Phone normalization for portfolios: canonical E.164 (`+52` + 10 digits for Mexico) or a Spanish reason."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
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
