"""Streamed CSV/XLSX writers: formula injection neutralized, times in the report zone, chunked output."""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import UTC, date, datetime
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st
from openpyxl import load_workbook

from enlace.reportes.exportar import (
    BOM,
    CARACTERES_PELIGROSOS,
    TAMANO_BLOQUE,
    celda_csv,
    csv_en_flujo,
    neutralizar,
    xlsx_en_flujo,
)

MALICIOSOS = [
    '=HYPERLINK("http://x","clic")',
    "+1+2",
    "-2+3",
    "@SUM(A1:A2)",
    "\t=1+1",
    "\r=1+1",
    "=cmd|' /C calc'!A0",
]


async def _juntar(flujo) -> bytes:
    return b"".join([b async for b in flujo])


def _leer_csv(datos: bytes) -> list[list[str]]:
    texto = datos.decode("utf-8")
    assert texto.startswith(BOM)
    return list(csv.reader(io.StringIO(texto[1:])))


@given(st.text())
def test_neutralizar_nunca_deja_un_inicio_peligroso(texto: str) -> None:
    resultado = neutralizar(texto)
    assert not resultado.startswith(CARACTERES_PELIGROSOS)
    # Safe text is left alone; dangerous text keeps its content after the apostrophe.
    if texto.startswith(CARACTERES_PELIGROSOS):
        assert resultado == "'" + texto
    else:
        assert resultado == texto


def test_numeros_reales_no_se_alteran_pero_texto_negativo_si() -> None:
    zona = __import__("zoneinfo").ZoneInfo("America/Mexico_City")
    assert celda_csv(-12.5, zona) == "-12.5"
    assert celda_csv(Decimal("-3"), zona) == "-3"
    assert celda_csv("-3", zona) == "'-3"
    assert celda_csv(None, zona) == ""


def test_telefonos_sin_apostrofo_en_csv() -> None:
    """A CRM import needs "+5255…", not "'+5255…"; digits and spaces cannot run as a formula."""
    zona = __import__("zoneinfo").ZoneInfo("America/Mexico_City")
    assert celda_csv("+525512345678", zona) == "+525512345678"
    assert celda_csv("+52 55 1234 5678", zona) == "+52 55 1234 5678"
    assert celda_csv("+52+cmd|' /C calc'!A0", zona).startswith("'")
    assert celda_csv("+1", zona) == "'+1"


def test_csv_neutraliza_y_convierte_horas_a_la_zona() -> None:
    filas = [[i, texto, datetime(2026, 11, 23, 15, 0, tzinfo=UTC)] for i, texto in enumerate(MALICIOSOS)]
    datos = asyncio.run(_juntar(csv_en_flujo(["id", "mensaje", "enviado"], filas)))
    leidas = _leer_csv(datos)
    assert leidas[0] == ["id", "mensaje", "enviado"]
    assert len(leidas) == len(MALICIOSOS) + 1
    for fila, original in zip(leidas[1:], MALICIOSOS, strict=True):
        assert fila[1] == "'" + original
        assert fila[2] == "2026-11-23T09:00:00-06:00"


def test_csv_es_flujo_en_bloques_acotados() -> None:
    async def filas():
        for i in range(30_000):
            yield (i, f"Hola número {i}, ¿le interesa?", date(2026, 1, 1))

    async def correr() -> list[bytes]:
        return [b async for b in csv_en_flujo(["id", "texto", "fecha"], filas())]

    bloques = asyncio.run(correr())
    assert len(bloques) > 5
    # Each chunk is flushed once it passes the block size (counted in characters; accents take 2 bytes).
    assert max(len(b) for b in bloques) < 2 * TAMANO_BLOQUE
    leidas = _leer_csv(b"".join(bloques))
    assert len(leidas) == 30_001
    assert leidas[-1] == ["29999", "Hola número 29999, ¿le interesa?", "2026-01-01"]


def test_xlsx_neutraliza_formulas_y_guarda_tipos() -> None:
    filas = [[i, texto, datetime(2026, 11, 23, 15, 0, tzinfo=UTC), -7.25] for i, texto in enumerate(MALICIOSOS)]
    datos = asyncio.run(_juntar(xlsx_en_flujo(["id", "mensaje", "enviado", "monto"], filas)))
    libro = load_workbook(io.BytesIO(datos))
    hoja = libro.active
    filas_leidas = list(hoja.iter_rows(values_only=True))
    assert filas_leidas[0] == ("id", "mensaje", "enviado", "monto")
    for fila, original in zip(filas_leidas[1:], MALICIOSOS, strict=True):
        # A text cell with the invisible quote prefix, no visible apostrophe (XML parsers normalize a
        # bare CR to LF when reading the sheet back).
        assert fila[1] == original.replace("\r", "\n")
        assert fila[2] == datetime(2026, 11, 23, 9, 0)
        assert fila[3] == -7.25
    # No cell of the workbook became a formula; the formula-looking ones stay text even when edited.
    for celdas in hoja.iter_rows(min_row=2):
        for celda in celdas:
            assert celda.data_type != "f"
        assert celdas[1].data_type == "s" and celdas[1].quotePrefix


def test_xlsx_acepta_iterable_asincrono_grande() -> None:
    async def filas():
        for i in range(5_000):
            yield (i, None, "+5215512345678")

    datos = asyncio.run(_juntar(xlsx_en_flujo(["id", "vacio", "numero"], filas())))
    hoja = load_workbook(io.BytesIO(datos), read_only=True).active
    filas_leidas = list(hoja.iter_rows(values_only=True))
    assert len(filas_leidas) == 5_001
    assert filas_leidas[-1] == (4999, None, "+5215512345678")
