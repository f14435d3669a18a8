"""XLSX read with bounded memory: zip bombs and shared-string floods are refused before openpyxl loads them."""

from __future__ import annotations

import io
import subprocess
import sys
import zipfile
from collections.abc import Iterable
from pathlib import Path

import pytest

from enlace.carteras.lector import MAX_XLSX_CADENAS, ErrorLectura, abrir

_TIPOS = (
    '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/sharedStrings.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>'
)
_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="xl/workbook.xml"/></Relationships>'
)
_LIBRO = (
    '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="Hoja1" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_LIBRO_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
    'Target="worksheets/sheet1.xml"/>'
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" '
    'Target="sharedStrings.xml"/></Relationships>'
)
_NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'


def _escribir(zf: zipfile.ZipFile, nombre: str, trozos: Iterable[str]) -> None:
    info = zipfile.ZipInfo(nombre)
    info.compress_type = zipfile.ZIP_DEFLATED
    with zf.open(info, "w", force_zip64=True) as parte:
        for trozo in trozos:
            parte.write(trozo.encode())


def libro_crudo(
    destino: io.BytesIO | Path, cadenas: Iterable[str], filas: Iterable[str], dimension: str = "A1:B2"
) -> None:
    """A minimal XLSX written part by part (never whole in memory), with the shared strings and rows given."""
    with zipfile.ZipFile(destino, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr("[Content_Types].xml", _TIPOS)
        zf.writestr("_rels/.rels", _RELS)
        zf.writestr("xl/workbook.xml", _LIBRO)
        zf.writestr("xl/_rels/workbook.xml.rels", _LIBRO_RELS)
        _escribir(zf, "xl/sharedStrings.xml", [f"<sst {_NS}>", *cadenas, "</sst>"])
        hoja = [f'<worksheet {_NS}><dimension ref="{dimension}"/><sheetData>', *filas, "</sheetData></worksheet>"]
        _escribir(zf, "xl/worksheets/sheet1.xml", hoja)


def _encabezado() -> str:
    return '<row r="1"><c r="A1" t="inlineStr"><is><t>telefono</t></is></c></row>'


def _repetidas(n: int, texto: str = "a") -> Iterable[str]:
    bloque = f"<si><t>{texto}</t></si>" * 1000
    for _ in range(n // 1000):
        yield bloque


def test_bomba_de_textos_compartidos_se_rechaza_sin_cargarla() -> None:
    # ~3 million copies of one value: tiny compressed, hundreds of MB once openpyxl loads it.
    datos = io.BytesIO()
    libro_crudo(datos, _repetidas(3_000_000), [_encabezado()])
    assert len(datos.getvalue()) < 1_000_000
    with pytest.raises(ErrorLectura, match="se expande demasiado"):
        abrir(io.BytesIO(datos.getvalue()))


def test_razon_de_compresion_absurda_se_rechaza() -> None:
    # One 40 MB cell of zeros in the sheet: the total inflates far more than any real workbook.
    datos = io.BytesIO()
    fila = '<row r="2"><c r="A2" t="inlineStr"><is><t>' + "0" * 40_000_000 + "</t></is></c></row>"
    libro_crudo(datos, [], [_encabezado(), fila])
    with pytest.raises(ErrorLectura, match="se expande demasiado"):
        abrir(io.BytesIO(datos.getvalue()))


def test_dimension_falsa_no_rellena_filas() -> None:
    filas = [_encabezado(), '<row r="2"><c r="A2" t="inlineStr"><is><t>5512345678</t></is></c></row>']
    datos = io.BytesIO()
    libro_crudo(datos, [], filas, dimension="A1:XFD1048576")
    with abrir(io.BytesIO(datos.getvalue())) as lector:
        leidas = list(lector)
    assert leidas == [(2, ["5512345678"])]


_MEDIR = """
import resource, sys
from enlace.carteras.lector import abrir, interpretar, OpcionesLectura
antes = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
with abrir(sys.argv[1]) as lector:
    for numero, valores in lector:
        interpretar(lector.encabezado, numero, valores, OpcionesLectura())
print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - antes) // 1024)
"""


@pytest.mark.lento
def test_el_peor_xlsx_aceptado_usa_poca_memoria(tmp_path: Path) -> None:
    """Just under the shared-string bound, every value distinct and long: the reader's growth stays bounded."""
    ruta = tmp_path / "peor.xlsx"
    n = MAX_XLSX_CADENAS - 1000

    def cadenas() -> Iterable[str]:
        for inicio in range(0, n, 1000):
            trozo = range(inicio, min(n, inicio + 1000))
            yield "".join(f"<si><t>{(j * 2654435761) % 2**64:016x}</t></si>" for j in trozo)

    def filas() -> Iterable[str]:
        yield _encabezado()
        for i in range(2, 20_002):
            yield f'<row r="{i}"><c r="A{i}" t="s"><v>{i}</v></c></row>'

    libro_crudo(ruta, cadenas(), filas())
    with abrir(ruta) as lector:  # accepted
        assert lector.encabezado is not None
    salida = subprocess.run([sys.executable, "-c", _MEDIR, str(ruta)], capture_output=True, text=True, check=True)
    crecimiento_mb = int(salida.stdout.strip())
    # The server idles near 170 MB; an import may add at most ~100 MB to stay well under ~300 MB.
    assert crecimiento_mb < 100, f"leer el XLSX hizo crecer la memoria {crecimiento_mb} MB"
