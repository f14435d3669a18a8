"""Text search the way people type: without accents («nunez» finds «Núñez») and numbers by their digits."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from sqlalchemy import func

# Lower-case accented letters and what people type instead (lower() runs first, in the database's UTF-8).
_CON = "áàäâãåéèëêíìïîóòöôõúùüûñçý"
_SIN = "aaaaaaeeeeiiiiooooouuuuncy"
_SOLO_NUMERO = re.compile(r"^[\d\s+().-]+$")


def sin_acentos(texto: str) -> str:
    """Python side of the same folding: lower case, no diacritics."""
    descompuesto = unicodedata.normalize("NFD", texto.lower())
    return "".join(c for c in descompuesto if not unicodedata.combining(c))


def sin_acentos_sql(columna: Any) -> Any:
    return func.translate(func.lower(columna), _CON, _SIN)


def patron(texto: str) -> str:
    """A LIKE pattern that finds `texto` anywhere, with LIKE's wildcards escaped."""
    return "%" + texto.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def digitos_de_busqueda(texto: str, minimo: int = 2) -> str | None:
    """The digits of a query that is a (partial) phone number — «55 1234», «(55) 1234-5» — else None."""
    t = texto.strip()
    if not _SOLO_NUMERO.match(t):
        return None
    digitos = re.sub(r"\D", "", t)
    return digitos if len(digitos) >= minimo else None
