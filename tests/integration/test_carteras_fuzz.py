"""Fuzzed uploads: garbage, wrong encodings, ragged rows, huge fields, formulas, broken XLSX → never a 500,
never a half-imported cartera, and the counts of every accepted import add up."""

from __future__ import annotations

import io
import random
from typing import Any

import openpyxl
import pytest
from sqlalchemy import text

CELDAS = [
    "5512345678",
    "55 1234 5678",
    "+52 1 33 1234 5678",
    "5.51234E+09",
    "=A1+1",
    '="5599887766"',
    "",
    " ",
    "José Ñúñez",
    "CDMX",
    "Sonora",
    "$1,234.50",
    "abc",
    '"',
    '""',
    ";",
    ",",
    "\t",
    "\x00",
    "💥",
    "x" * 3000,
    "12345678901",
    "GODE561231HDFRRN09",
    "-",
    "@SUM(1)",
    "\r\n",
]


def archivo_al_azar(azar: random.Random) -> tuple[str, bytes]:
    tipo = azar.choice(["bytes", "csv", "csv", "csv", "xlsx", "xlsx_roto", "enorme", "vacio"])
    if tipo == "bytes":
        return "x.csv", azar.randbytes(azar.randint(1, 4000))
    if tipo == "vacio":
        return "x.csv", azar.choice([b"", b"\n", b"\xef\xbb\xbf", b" , ,\n"])
    if tipo == "enorme":
        return "x.csv", b'telefono,notas\n5512345678,"' + b"y" * 1_200_000 + b"\n"
    encabezado = azar.sample(["nombre", "telefono", "celular", "monto", "nss", "curp", "estado", "extra", ""], 5)
    filas = [
        [
            azar.choice(CELDAS) + (str(azar.randint(0, 9999)) if azar.random() < 0.3 else "")
            for _ in range(azar.randint(0, 8))
        ]
        for _ in range(azar.randint(0, 40))
    ]
    if tipo in ("xlsx", "xlsx_roto"):
        libro = openpyxl.Workbook()
        hoja = libro.active
        hoja.append(encabezado)
        for fila in filas:
            hoja.append(
                [c.replace("\x00", "") if isinstance(c, str) else c for c in fila] + [5500000000 + azar.randint(0, 99)]
            )
        salida = io.BytesIO()
        libro.save(salida)
        datos = salida.getvalue()
        if tipo == "xlsx_roto":
            corte = azar.randint(10, len(datos) - 10)
            datos = datos[:corte] + azar.randbytes(50) + datos[corte + 50 :]
        return "x.xlsx", datos
    delim = azar.choice([",", ";", "\t"])
    texto = delim.join(encabezado) + "\n" + "\n".join(delim.join(f) for f in filas)
    codificacion = azar.choice(["utf-8", "utf-8-sig", "cp1252", "latin-1", "utf-16", "utf-16-le", "mac_roman"])
    return "x.csv", texto.encode(codificacion, errors="replace")


@pytest.fixture
def ajustes(url_bd: str) -> Any:
    """45 uploads by one agent within one (manual-clock) hour: above the default per-user quota."""
    from tests.conftest import ajustes_prueba

    return ajustes_prueba(url_bd, importaciones_por_hora=1000)


async def test_subidas_al_azar_nunca_500_ni_importacion_a_medias(cliente_como: Any, db: Any) -> None:
    agente = await cliente_como("agente")
    azar = random.Random(20261125)

    async def contar(sql: str) -> int:
        return int((await db.execute(text(sql))).scalar_one())

    aceptadas = rechazadas = 0
    for _ in range(45):
        nombre, datos = archivo_al_azar(azar)
        antes_contactos = await contar("SELECT count(*) FROM contactos")
        antes_carteras = await contar("SELECT count(*) FROM carteras")
        r = await agente.post("/api/cartera/subir", files={"archivo": (nombre, datos)}, data={"nombre": "Fuzz"})
        assert r.status_code in (201, 422), (r.status_code, r.text[:300])
        despues_contactos = await contar("SELECT count(*) FROM contactos")
        despues_carteras = await contar("SELECT count(*) FROM carteras")
        if r.status_code == 422:
            rechazadas += 1
            assert r.json()["error"]["mensaje"]
            assert (despues_contactos, despues_carteras) == (antes_contactos, antes_carteras)
            continue
        aceptadas += 1
        imp = r.json()
        partes = ("aceptados", "rechazados", "duplicados", "existentes", "otro_agente", "suprimidos")
        assert sum(imp[p] for p in partes) == imp["filas"]
        assert despues_contactos - antes_contactos == imp["aceptados"]
        assert despues_carteras - antes_carteras == (1 if imp["aceptados"] else 0)
        reporte = await agente.get(imp["reporte_url"])
        assert reporte.status_code == 200
        assert len(reporte.content.decode("utf-8-sig").splitlines()) >= imp["filas"] + 1
    # The generator must exercise both outcomes, or this test proves little.
    assert aceptadas >= 5 and rechazadas >= 5
