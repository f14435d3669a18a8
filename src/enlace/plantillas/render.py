"""Template rendering: variants, placeholders, greeting by local time, Mexican money; fails loudly."""

from __future__ import annotations

import hashlib
import re
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

# Columns whose values are money even without an explicit `:dinero` format.
CAMPOS_DINERO = {"monto", "importe", "saldo", "adeudo", "pago", "mensualidad", "descuento", "credito", "monto_credito"}
FORMATOS = {"", "dinero", "texto", "mayusculas", "titulo"}
# Values that mean "no data" once a spreadsheet has been through pandas, Excel or a careless export.
VALORES_VACIOS = {"", "none", "null", "nan", "n/a", "na", "#n/a", "-", "sin dato"}
_NOMBRE_CAMPO = re.compile(r"^[A-Za-z_áéíóúñÁÉÍÓÚÑ][\wáéíóúñÁÉÍÓÚÑ]*$")
# Whatever survives rendering and still looks like a placeholder means something went wrong.
_RESTO_MARCADOR = re.compile(r"\{[^{}\s]{1,60}\}")
_MAX_VARIANTES = 20
_MAX_LARGO = 4096


class ErrorPlantilla(ValueError):
    """The template text itself is wrong (bad braces, unknown format); names the variant."""

    def __init__(self, mensaje: str, *, variante: int | None = None) -> None:
        super().__init__(mensaje)
        self.mensaje = mensaje
        self.variante = variante


@dataclass(frozen=True, slots=True)
class ErrorCampo:
    campo: str
    motivo: str  # Spanish, shown to the agent as is


class ErrorRender(ValueError):
    """A contact lacks data a placeholder needs; `errores` lists every field, not just the first."""

    def __init__(self, errores: Sequence[ErrorCampo]) -> None:
        self.errores = list(errores)
        super().__init__("; ".join(f"{e.campo}: {e.motivo}" for e in self.errores))


@dataclass(frozen=True, slots=True)
class Marcador:
    campo: str
    formato: str
    dolar: bool  # written as `${monto}`: the literal "$" is absorbed by the money format


@dataclass(frozen=True, slots=True)
class Render:
    texto: str
    variante: int
    # The text with every field filled except {saludo}, as a format string with only `{saludo}` left;
    # None when the variant has no greeting. Lets the sender refresh the greeting at send time.
    base_saludo: str | None = None


@dataclass(slots=True)
class Previa:
    contacto_id: int | None
    texto: str | None
    variante: int | None
    errores: list[ErrorCampo] = field(default_factory=list)


def _piezas(variante: str, indice: int) -> list[tuple[str, Marcador | None]]:
    """Split a variant into (literal, marker) pieces, validating every marker."""
    try:
        crudas = list(string.Formatter().parse(variante))
    except ValueError as exc:
        raise ErrorPlantilla(
            f"La variante {indice + 1} tiene llaves sin cerrar o sueltas; usa {{{{ y }}}} para una llave literal.",
            variante=indice,
        ) from exc
    piezas: list[tuple[str, Marcador | None]] = []
    # The literal text (markers blanked) must not itself look like a placeholder, e.g. "{{nombre}}".
    literal_total = "".join(lit + ("\x00" if campo is not None else "") for lit, campo, *_ in crudas)
    if _RESTO_MARCADOR.search(literal_total):
        raise ErrorPlantilla(
            f"La variante {indice + 1} contiene un marcador escapado con llaves dobles; se enviaría tal cual.",
            variante=indice,
        )
    for literal, campo, formato, conversion in crudas:
        if campo is None:
            piezas.append((literal, None))
            continue
        if conversion:
            raise ErrorPlantilla(
                f"La variante {indice + 1} usa una conversión no permitida en {{{campo}}}.", variante=indice
            )
        campo = campo.strip()
        if not campo or not _NOMBRE_CAMPO.match(campo):
            raise ErrorPlantilla(
                f"La variante {indice + 1} tiene un marcador inválido {{{campo}}}: "
                "usa nombres como {nombre} o {monto}.",
                variante=indice,
            )
        formato = (formato or "").strip().lower()
        if formato not in FORMATOS:
            raise ErrorPlantilla(
                f"La variante {indice + 1} usa el formato desconocido '{formato}' en {{{campo}}} "
                f"(válidos: dinero, texto, mayusculas, titulo).",
                variante=indice,
            )
        dolar = literal.endswith("$") and es_dinero(campo.lower(), formato)
        if dolar:
            literal = literal[:-1]
        piezas.append((literal, Marcador(campo.lower(), formato, dolar)))
    return piezas


def validar_variantes(variantes: Sequence[str]) -> None:
    """Check the template text (not the data): at least one variant, sane size, well-formed markers."""
    if not variantes:
        raise ErrorPlantilla("La plantilla necesita al menos una variante.")
    if len(variantes) > _MAX_VARIANTES:
        raise ErrorPlantilla(f"Una plantilla admite como máximo {_MAX_VARIANTES} variantes.")
    for i, v in enumerate(variantes):
        if not isinstance(v, str) or not v.strip():
            raise ErrorPlantilla(f"La variante {i + 1} está vacía.", variante=i)
        if len(v) > _MAX_LARGO:
            raise ErrorPlantilla(f"La variante {i + 1} excede {_MAX_LARGO} caracteres.", variante=i)
        _piezas(v, i)


def campos(variantes: Sequence[str]) -> set[str]:
    """Every field name the variants use (lowercase), e.g. {'nombre', 'monto', 'saludo'}."""
    nombres: set[str] = set()
    for i, v in enumerate(variantes):
        nombres.update(m.campo for _, m in _piezas(v, i) if m is not None)
    return nombres


def es_dinero(campo: str, formato: str = "") -> bool:
    return formato == "dinero" or (formato == "" and (campo in CAMPOS_DINERO or campo.startswith("monto")))


def formato_dinero(valor: Any) -> str:
    """25000 → '$25,000.00' (Mexican format). Raises ValueError on anything that is not an amount."""
    if isinstance(valor, bool):
        raise ValueError(valor)
    if isinstance(valor, (int, Decimal)):
        numero = Decimal(valor)
    elif isinstance(valor, float):
        numero = Decimal(repr(valor))
    else:
        limpio = str(valor).strip().replace("$", "").replace(",", "").replace(" ", "").replace("MXN", "")
        limpio = limpio.replace("mxn", "")
        if not limpio:
            raise ValueError(valor)
        try:
            numero = Decimal(limpio)
        except InvalidOperation as exc:
            raise ValueError(valor) from exc
    # Nobody owes a trillion pesos: such a value is a broken cell (or Excel scientific notation).
    if not numero.is_finite() or abs(numero) >= Decimal(10) ** 12:
        raise ValueError(valor)
    numero = numero.quantize(Decimal("0.01"))
    signo = "-" if numero < 0 else ""
    return f"{signo}${abs(numero):,.2f}"


def saludo(momento: datetime, zona: str | ZoneInfo) -> str:
    """Buenos días / Buenas tardes / Buenas noches for `momento` in the recipient's local time."""
    tz = zona if isinstance(zona, ZoneInfo) else ZoneInfo(zona)
    hora = momento.astimezone(tz).hour
    if 5 <= hora < 12:
        return "Buenos días"
    if 12 <= hora < 19:
        return "Buenas tardes"
    return "Buenas noches"


def elegir_variante(n: int, campana_id: int | str, contacto_id: int | str) -> int:
    """Stable variant index for (campaign, contact): the same contact always gets the same variant."""
    if n <= 1:
        return 0
    digest = hashlib.sha256(f"{campana_id}:{contacto_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % n


def _normalizar(datos: Mapping[str, Any]) -> dict[str, Any]:
    return {str(k).strip().lower(): v for k, v in datos.items()}


def _vacio(valor: Any) -> bool:
    if valor is None:
        return True
    if isinstance(valor, float) and valor != valor:  # NaN
        return True
    return isinstance(valor, str) and valor.strip().lower() in VALORES_VACIOS


def _valor(m: Marcador, datos: dict[str, Any]) -> tuple[str | None, ErrorCampo | None]:
    if m.campo not in datos:
        return None, ErrorCampo(m.campo, "el contacto no tiene esta columna")
    valor = datos[m.campo]
    if _vacio(valor):
        return None, ErrorCampo(m.campo, "está vacío")
    if es_dinero(m.campo, m.formato):
        try:
            return formato_dinero(valor), None
        except ValueError:
            return None, ErrorCampo(m.campo, f"no es un importe válido: '{str(valor)[:40]}'")
    texto = " ".join(str(valor).split())
    if m.formato == "mayusculas":
        texto = texto.upper()
    elif m.formato == "titulo":
        texto = texto.title()
    return texto, None


def renderizar(
    variantes: Sequence[str],
    datos: Mapping[str, Any],
    *,
    variante: int,
    momento: datetime,
    zona: str | ZoneInfo,
) -> Render:
    """Render one variant for one contact. Raises ErrorRender listing every missing/invalid field."""
    if not 0 <= variante < len(variantes):
        raise ErrorPlantilla(f"La variante {variante + 1} no existe.", variante=variante)
    datos_n = _normalizar(datos)
    errores: list[ErrorCampo] = []
    partes: list[str] = []  # final text
    base: list[str] = []  # format string with only {saludo} left
    tiene_saludo = False
    texto_saludo = saludo(momento, zona)
    for literal, m in _piezas(variantes[variante], variante):
        partes.append(literal)
        base.append(literal.replace("{", "{{").replace("}", "}}"))
        if m is None:
            continue
        if m.campo == "saludo" and "saludo" not in datos_n:
            tiene_saludo = True
            partes.append(texto_saludo)
            base.append("{saludo}")
            continue
        valor, error = _valor(m, datos_n)
        if error is not None:
            if error not in errores:
                errores.append(error)
            continue
        assert valor is not None
        if _RESTO_MARCADOR.search(valor):
            errores.append(ErrorCampo(m.campo, "el valor parece un marcador sin sustituir"))
            continue
        partes.append(valor)
        base.append(valor.replace("{", "{{").replace("}", "}}"))
    if errores:
        raise ErrorRender(errores)
    texto = "".join(partes).strip()
    resto = _RESTO_MARCADOR.search(texto)
    if resto:
        # A value itself looked like a placeholder: refuse rather than send "{nombre}" to a person.
        raise ErrorRender([ErrorCampo(resto.group(0).strip("{}"), "el texto final contiene un marcador sin sustituir")])
    if not texto:
        raise ErrorRender([ErrorCampo("texto", "el mensaje quedó vacío")])
    return Render(texto=texto, variante=variante, base_saludo="".join(base).strip() if tiene_saludo else None)


def aplicar_saludo(base_saludo: str, momento: datetime, zona: str | ZoneInfo) -> str:
    """Fill the greeting of a pre-rendered text for the moment it actually leaves."""
    return base_saludo.format(saludo=saludo(momento, zona))


def previsualizar(
    variantes: Sequence[str],
    contactos: Sequence[tuple[int | None, Mapping[str, Any]]],
    *,
    campana_id: int | str,
    momento: datetime,
    zona: str | ZoneInfo,
) -> list[Previa]:
    """Render every contact; failures come back per contact with every offending field named."""
    validar_variantes(variantes)
    resultado: list[Previa] = []
    for contacto_id, datos in contactos:
        idx = elegir_variante(len(variantes), campana_id, contacto_id if contacto_id is not None else len(resultado))
        try:
            r = renderizar(variantes, datos, variante=idx, momento=momento, zona=zona)
        except ErrorRender as exc:
            resultado.append(Previa(contacto_id, None, idx, exc.errores))
        else:
            resultado.append(Previa(contacto_id, r.texto, idx))
    return resultado
