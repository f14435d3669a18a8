"""Streamed CSV and XLSX writers with spreadsheet-formula injection neutralized."""

from __future__ import annotations

import asyncio
import csv
import io
import re
import tempfile
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

# A spreadsheet treats a cell that starts with one of these as a formula (or, for tab/CR, lets the
# next character start one). A leading apostrophe makes Excel, LibreOffice and Sheets show text.
CARACTERES_PELIGROSOS = ("=", "+", "-", "@", "\t", "\r")
_PELIGROSOS = frozenset(CARACTERES_PELIGROSOS)

# A phone number (+52…, digits and spaces only) cannot run anything: it is written as is, so a CRM
# import gets "+5255…" and not "'+5255…". Excel may show it as a number; the XLSX export keeps it text.
_TELEFONO = re.compile(r"\+[0-9][0-9 ]{5,19}")

# Excel reads a CSV as UTF-8 only when it starts with a BOM; without it accents turn to mojibake.
BOM = "\ufeff"

# Flush the CSV buffer to the client roughly every this many bytes.
TAMANO_BLOQUE = 64 * 1024

MIME_CSV = "text/csv; charset=utf-8"
MIME_XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def neutralizar(texto: str) -> str:
    """Return `texto` safe to open in a spreadsheet: a formula-looking start gets a leading apostrophe."""
    if texto and texto.startswith(CARACTERES_PELIGROSOS):
        return "'" + texto
    return texto


def _a_zona(valor: datetime, zona: ZoneInfo) -> datetime:
    return valor.astimezone(zona) if valor.tzinfo is not None else valor


def celda_csv(valor: Any, zona: ZoneInfo) -> str:
    """One value as CSV text: times in the report's zone with offset, text neutralized."""
    tipo = type(valor)
    if tipo is str:  # most cells: checked first, exports run this millions of times
        if valor and valor[0] in _PELIGROSOS and not _TELEFONO.fullmatch(valor):
            return "'" + valor
        return valor
    if valor is None:
        return ""
    if tipo is datetime:
        return _a_zona(valor, zona).isoformat(timespec="seconds")
    if tipo is bool:
        return "sí" if valor else "no"
    if isinstance(valor, (int, float, Decimal)):
        # Real numbers are not text the user typed; a negative amount must stay a number.
        return str(valor)
    if isinstance(valor, datetime):
        return _a_zona(valor, zona).isoformat(timespec="seconds")
    if isinstance(valor, date):
        return valor.isoformat()
    return neutralizar(str(valor))


def celda_xlsx(valor: Any, zona: ZoneInfo, hoja: Any = None) -> Any:
    """One value as an XLSX cell value: Excel has no time zones, so times become naive local times.

    Text is a text cell, never a formula, and shows exactly what was stored: a formula-looking start
    ("=", "+", "@"…, phones included) gets a text cell with Excel's invisible quote prefix instead of
    a visible apostrophe, so it stays text even when someone edits the cell.
    """
    if isinstance(valor, datetime):
        return _a_zona(valor, zona).replace(tzinfo=None)
    if valor is None or isinstance(valor, (bool, int, float, Decimal, date)):
        return valor
    texto = str(valor)
    if texto and texto[0] in _PELIGROSOS:
        if hoja is None:
            return neutralizar(texto)
        from openpyxl.cell import WriteOnlyCell

        celda = WriteOnlyCell(hoja, value=texto)
        celda.data_type = "s"  # openpyxl would make "=…" a formula
        celda.quotePrefix = True
        return celda
    return texto


Filas = AsyncIterable[Sequence[Any]] | Iterable[Sequence[Any]]


async def _lotes(filas: Filas, por_lotes: bool) -> AsyncIterator[Sequence[Sequence[Any]]]:
    """Rows grouped in batches, whatever the source gives (rows or batches, sync or async)."""
    if por_lotes:
        if hasattr(filas, "__aiter__"):
            async for lote in filas:  # type: ignore[union-attr]
                yield lote
        else:
            for lote in filas:  # type: ignore[union-attr]
                yield lote
        return
    if not hasattr(filas, "__aiter__"):
        yield list(filas)  # type: ignore[arg-type]
        return
    pendientes: list[Sequence[Any]] = []
    async for fila in filas:  # type: ignore[union-attr]
        pendientes.append(fila)
        if len(pendientes) >= 1000:
            yield pendientes
            pendientes = []
    if pendientes:
        yield pendientes


async def csv_en_flujo(
    encabezados: Sequence[str],
    filas: Filas,
    *,
    zona: str | ZoneInfo = "America/Mexico_City",
    bom: bool = True,
    por_lotes: bool = False,
) -> AsyncIterator[bytes]:
    """Yield a CSV document in ~64 KiB UTF-8 chunks; memory stays flat whatever the row count.

    `filas` gives rows, or batches of rows with `por_lotes=True` (cheaper: one await per batch).
    """
    tz = zona if isinstance(zona, ZoneInfo) else ZoneInfo(zona)
    buffer = io.StringIO()
    escritor = csv.writer(buffer, lineterminator="\r\n")
    if bom:
        buffer.write(BOM)
    escritor.writerow([neutralizar(e) for e in encabezados])
    async for lote in _lotes(filas, por_lotes):
        escritor.writerows([[celda_csv(v, tz) for v in fila] for fila in lote])
        if buffer.tell() >= TAMANO_BLOQUE:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue().encode("utf-8")


async def xlsx_en_flujo(
    encabezados: Sequence[str],
    filas: Filas,
    *,
    zona: str | ZoneInfo = "America/Mexico_City",
    hoja: str = "Reporte",
    por_lotes: bool = False,
) -> AsyncIterator[bytes]:
    """Yield an XLSX workbook in chunks.

    openpyxl's write-only mode spools each row to a temporary file as it is appended, and the final
    zip is written to another temporary file that is then read back in chunks: memory stays flat.
    """
    from openpyxl import Workbook

    tz = zona if isinstance(zona, ZoneInfo) else ZoneInfo(zona)
    libro = Workbook(write_only=True)
    hoja_ws = libro.create_sheet(title=hoja)
    hoja_ws.append([celda_xlsx(e, tz, hoja_ws) for e in encabezados])
    async for lote in _lotes(filas, por_lotes):
        for fila in lote:
            hoja_ws.append([celda_xlsx(v, tz, hoja_ws) for v in fila])
        # Appending is CPU work on the event loop; let other requests breathe between batches.
        await asyncio.sleep(0)
    with tempfile.TemporaryFile() as destino:
        await asyncio.to_thread(libro.save, destino)
        destino.seek(0)
        while True:
            bloque = await asyncio.to_thread(destino.read, TAMANO_BLOQUE)
            if not bloque:
                break
            yield bloque
