"""Bounded input: body limits before reading (413), XLSX bombs refused, rejected-row detail capped, quotas."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import text

from enlace.carteras.importador import MAX_RECHAZOS_DETALLE
from tests.conftest import ajustes_prueba
from tests.unit.test_xlsx_bomba import _encabezado, _repetidas, libro_crudo


@pytest.fixture
def ajustes(url_bd: str) -> Any:
    return ajustes_prueba(url_bd, limite_json_kb=64, limite_subida_mb=1, importaciones_por_hora=4)


async def test_json_enorme_sin_sesion_se_rechaza_antes_de_leerlo(cliente: Any) -> None:
    cuerpo = b'{"usuario": "admin", "password": "' + b"x" * 200_000 + b'"}'
    r = await cliente.post("/api/auth/login", content=cuerpo, headers={"content-type": "application/json"})
    assert r.status_code == 413
    assert r.json()["error"] == {"codigo": "demasiado_grande", "mensaje": "La petición supera el máximo de 64 KB."}


async def test_cuerpo_sin_longitud_se_corta_al_pasar_el_limite(cliente: Any) -> None:
    async def trozos() -> AsyncIterator[bytes]:
        yield b'{"usuario": "admin", "password": "'
        for _ in range(100):
            yield b"x" * 10_000
        yield b'"}'

    r = await cliente.post("/api/auth/login", content=trozos(), headers={"content-type": "application/json"})
    assert r.status_code == 413
    assert r.json()["error"]["codigo"] == "demasiado_grande"


async def test_subida_mayor_al_limite_da_413_en_espanol(cliente_como: Any) -> None:
    admin = await cliente_como("admin")
    archivo = b"telefono\n" + b"5512345678\n" * 120_000  # ~1.3 MB
    r = await admin.post("/api/cartera/subir", files={"archivo": ("c.csv", archivo)}, data={"nombre": "Grande"})
    assert r.status_code == 413
    assert "1 MB" in r.json()["error"]["mensaje"] and "Divide la cartera" in r.json()["error"]["mensaje"]


async def test_bomba_xlsx_se_rechaza_sin_escribir_nada(cliente_como: Any, db: Any) -> None:
    agente = await cliente_como("agente")
    datos = io.BytesIO()
    libro_crudo(datos, _repetidas(3_000_000), [_encabezado()])
    r = await agente.post(
        "/api/cartera/subir", files={"archivo": ("bomba.xlsx", datos.getvalue())}, data={"nombre": "Bomba"}
    )
    assert r.status_code == 422, r.text
    assert "se expande demasiado" in r.json()["error"]["mensaje"]
    assert (await db.execute(text("SELECT count(*) FROM contactos"))).scalar() == 0
    assert (await db.execute(text("SELECT count(*) FROM importacion_filas"))).scalar() == 0


async def test_filas_rechazadas_se_cuentan_pero_su_detalle_tiene_tope(cliente_como: Any, db: Any) -> None:
    admin = await cliente_como("admin")
    malas = MAX_RECHAZOS_DETALLE + 50
    archivo = b"telefono,nombre\n5512345678,Buena\n" + b"123,Mala\n" * malas
    r = await admin.post("/api/cartera/subir", files={"archivo": ("c.csv", archivo)}, data={"nombre": "Basura"})
    assert r.status_code == 201, r.text
    assert r.json()["aceptados"] == 1 and r.json()["rechazados"] == malas
    escritas = await db.execute(text("SELECT count(*) FROM importacion_filas WHERE resultado = 'rechazado'"))
    assert escritas.scalar() == MAX_RECHAZOS_DETALLE


async def test_cuota_de_importaciones_por_usuario(cliente_como: Any) -> None:
    agente = await cliente_como("agente")
    otro = await cliente_como("agente")
    for i in range(4):
        archivo = f"telefono\n55123400{i:02d}\n".encode()
        r = await agente.post("/api/cartera/subir", files={"archivo": ("c.csv", archivo)}, data={"nombre": f"C{i}"})
        assert r.status_code == 201, r.text
    r = await agente.post(
        "/api/cartera/subir", files={"archivo": ("c.csv", b"telefono\n5512349999\n")}, data={"nombre": "X"}
    )
    assert r.status_code == 429 and r.json()["error"]["codigo"] == "cuota_importacion"
    assert "4 importaciones por hora" in r.json()["error"]["mensaje"]
    # The quota is per user.
    r = await otro.post(
        "/api/cartera/subir", files={"archivo": ("c.csv", b"telefono\n5512349999\n")}, data={"nombre": "Y"}
    )
    assert r.status_code == 201, r.text
