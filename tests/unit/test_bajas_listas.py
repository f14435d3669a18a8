"""Pure pieces around opt-outs: reading REPEP/REUS lists, settings limits, audit masking, the phone lock key."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from enlace.comun.auditoria import _limpiar, enmascarar_telefono
from enlace.cumplimiento.ajustes import CLAVES, validar_ajuste
from enlace.cumplimiento.puerta import clave_bloqueo
from enlace.cumplimiento.service import leer_telefonos_csv
from enlace.errores import EntradaInvalida


def test_lista_de_un_numero_por_linea_sin_cabecera() -> None:
    aceptados, rechazados = leer_telefonos_csv(b"5512345678\n+52 1 33 1234 5678\n\n044 55 8765 4321\n")
    assert aceptados == [(1, "+525512345678"), (2, "+523312345678"), (4, "+525587654321")]
    assert rechazados == []


@pytest.mark.parametrize("separador", [",", ";", "\t", "|"])
def test_lista_con_cabecera_y_separadores(separador: str) -> None:
    texto = separador.join(["nombre", "Teléfono", "fecha"]) + "\n"
    texto += separador.join(["Ana", "55-1234-5678", "2026-01-01"]) + "\n"
    texto += separador.join(["Beto", "5.51234E+09", "2026-01-02"]) + "\n"
    aceptados, rechazados = leer_telefonos_csv(texto.encode("utf-8"))
    assert aceptados == [(2, "+525512345678")]
    assert [r["fila"] for r in rechazados] == [3]
    assert "E+09" in rechazados[0]["valor"]


def test_lista_en_latin1_con_bom_y_vacia() -> None:
    aceptados, _ = leer_telefonos_csv("número\n5512345678\n".encode("latin-1"))
    assert aceptados == [(2, "+525512345678")]
    aceptados, _ = leer_telefonos_csv("\ufefftelefono\n5512345678\n".encode())
    assert aceptados == [(2, "+525512345678")]
    with pytest.raises(EntradaInvalida, match="vacío"):
        leer_telefonos_csv(b"\n \n")


@given(st.binary(max_size=300))
def test_lista_arbitraria_nunca_revienta(contenido: bytes) -> None:
    try:
        aceptados, rechazados = leer_telefonos_csv(contenido)
    except EntradaInvalida:
        return
    assert all(t.startswith("+") for _, t in aceptados)
    assert all(isinstance(r["motivo"], str) and r["motivo"] for r in rechazados)


def test_ajustes_no_se_pueden_aflojar() -> None:
    assert validar_ajuste("hora_min_contacto", 8) == 8
    for clave, valor in [
        ("hora_min_contacto", 6),
        ("hora_max_contacto", 23),
        ("retencion_dias", 7),
        ("frecuencia_dias", 0),
        ("frecuencia_max_mensajes", -1),
        ("confirmar_baja", "sí"),
        ("frecuencia_dias", True),
        ("texto_confirmacion_baja", "ok"),
    ]:
        with pytest.raises(EntradaInvalida, match=clave):
            validar_ajuste(clave, valor)
    assert "requerir_consentimiento" in CLAVES


def test_auditoria_enmascara() -> None:
    assert _limpiar({"Password": "x", "curp_titular": "ABC", "texto": "hola", "n": 1}) == {
        "Password": "***",
        "curp_titular": "***",
        "texto": "<4 caracteres>",
        "n": 1,
    }
    assert enmascarar_telefono("+525512345678") == "+52******5678"
    assert enmascarar_telefono("123") == "***"
    assert enmascarar_telefono(None) is None


@given(st.text(min_size=1, max_size=20))
def test_clave_de_bloqueo_estable_y_de_64_bits(telefono: str) -> None:
    clave = clave_bloqueo(telefono)
    assert clave == clave_bloqueo(telefono)
    assert -(2**63) <= clave < 2**63
