"""Mexican states: name variants and abbreviations → canonical name and IANA time zone (pure)."""

from __future__ import annotations

import re
import unicodedata

# Since October 2022 Mexico has no daylight saving time except the northern border strip. Centro is UTC-6,
# Pacífico UTC-7 (Sonora never had DST: its own zone), Noroeste UTC-8 (with US DST), Sureste UTC-5.
CENTRO = "America/Mexico_City"
PACIFICO = "America/Mazatlan"
SONORA = "America/Hermosillo"
NOROESTE = "America/Tijuana"
SURESTE = "America/Cancun"

# canonical name, ISO 3166-2:MX code, time zone, other names people write (abbreviations, old names).
_ESTADOS: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("Aguascalientes", "AGU", CENTRO, ("ags", "as", "agu")),
    ("Baja California", "BCN", NOROESTE, ("bc", "bcn", "baja california norte", "b c")),
    ("Baja California Sur", "BCS", PACIFICO, ("bcs", "bs", "b c s")),
    ("Campeche", "CAM", CENTRO, ("camp", "cc", "cam")),
    ("Chiapas", "CHP", CENTRO, ("chis", "cs", "chp")),
    ("Chihuahua", "CHH", CENTRO, ("chih", "ch", "chh")),
    (
        "Ciudad de México",
        "CMX",
        CENTRO,
        (
            "cdmx",
            "cd mx",
            "cd de mexico",
            "ciudad de mexico",
            "mexico df",
            "df",
            "d f",
            "distrito federal",
            "mexico city",
            "cmx",
            "ciudad mexico",
        ),
    ),
    ("Coahuila", "COA", CENTRO, ("coah", "cl", "coa", "coahuila de zaragoza")),
    ("Colima", "COL", CENTRO, ("col", "cm")),
    ("Durango", "DUR", CENTRO, ("dgo", "dg", "dur")),
    (
        "Estado de México",
        "MEX",
        CENTRO,
        (
            "mexico",
            "edomex",
            "edo mex",
            "edo de mexico",
            "estado de mexico",
            "mex",
            "mc",
            "em",
        ),
    ),
    ("Guanajuato", "GUA", CENTRO, ("gto", "gt", "gua")),
    ("Guerrero", "GRO", CENTRO, ("gro", "gr")),
    ("Hidalgo", "HID", CENTRO, ("hgo", "hg", "hid")),
    ("Jalisco", "JAL", CENTRO, ("jal", "jc")),
    ("Michoacán", "MIC", CENTRO, ("mich", "mn", "mic", "michoacan de ocampo")),
    ("Morelos", "MOR", CENTRO, ("mor", "ms")),
    ("Nayarit", "NAY", PACIFICO, ("nay", "nt")),
    ("Nuevo León", "NLE", CENTRO, ("nl", "n l", "nle")),
    ("Oaxaca", "OAX", CENTRO, ("oax", "oc")),
    ("Puebla", "PUE", CENTRO, ("pue", "pl")),
    ("Querétaro", "QUE", CENTRO, ("qro", "qt", "que", "queretaro de arteaga")),
    ("Quintana Roo", "ROO", SURESTE, ("q roo", "qroo", "qr", "roo", "quintanaroo")),
    ("San Luis Potosí", "SLP", CENTRO, ("slp", "s l p", "sp", "san luis")),
    ("Sinaloa", "SIN", PACIFICO, ("sin", "sl")),
    ("Sonora", "SON", SONORA, ("son", "sr")),
    ("Tabasco", "TAB", CENTRO, ("tab", "tc")),
    ("Tamaulipas", "TAM", CENTRO, ("tamps", "tamp", "ts", "tam")),
    ("Tlaxcala", "TLA", CENTRO, ("tlax", "tl", "tla")),
    ("Veracruz", "VER", CENTRO, ("ver", "vz", "veracruz de ignacio de la llave", "veracruz llave")),
    ("Yucatán", "YUC", CENTRO, ("yuc", "yn")),
    ("Zacatecas", "ZAC", CENTRO, ("zac", "zs")),
)

ESTADOS: tuple[str, ...] = tuple(nombre for nombre, _, _, _ in _ESTADOS)
ZONAS: dict[str, str] = {nombre: zona for nombre, _, zona, _ in _ESTADOS}

_NO_ALFANUMERICO = re.compile(r"[^a-z0-9]+")


def _clave(texto: str) -> str:
    """Lowercase, without accents or punctuation, single spaces: 'Michoacán de Ocampo.' → 'michoacan de ocampo'."""
    sin_acentos = "".join(c for c in unicodedata.normalize("NFKD", texto) if not unicodedata.combining(c))
    return _NO_ALFANUMERICO.sub(" ", sin_acentos.lower()).strip()


def _indice() -> dict[str, str]:
    indice: dict[str, str] = {}
    for nombre, codigo, _, variantes in _ESTADOS:
        for texto in (nombre, codigo, "mx " + codigo, *variantes):
            indice[_clave(texto)] = nombre
    return indice


_INDICE = _indice()


def estado_canonico(texto: str | None) -> str | None:
    """Canonical state name for what a spreadsheet says ('CDMX', 'Edo. Méx.', 'nuevo leon'), or None."""
    if not texto:
        return None
    clave = _clave(str(texto))
    if not clave:
        return None
    nombre = _INDICE.get(clave)
    if nombre is None and clave.startswith("estado de "):
        nombre = _INDICE.get(clave.removeprefix("estado de "))
    if nombre is None and clave.startswith("edo "):
        nombre = _INDICE.get(clave.removeprefix("edo "))
    if nombre is None and clave.endswith(" mexico"):  # 'Jalisco, México'
        nombre = _INDICE.get(clave.removesuffix(" mexico"))
    return nombre


def zona_de_estado(texto: str | None) -> str | None:
    """IANA time zone for a Mexican state written any common way, or None when it is not recognised."""
    nombre = estado_canonico(texto)
    return ZONAS[nombre] if nombre else None
