"""Portfolio file reader: encodings, delimiters, headers, ragged/huge/garbage input, XLSX, state time zones."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from enlace.carteras.lector import (
    ContactoLeido,
    ErrorLectura,
    FilaRechazada,
    OpcionesLectura,
    abrir,
    clave_columna,
    interpretar,
    mapear_encabezado,
)
from enlace.comun.estados_mx import ESTADOS, ZONAS, estado_canonico, zona_de_estado

OPC = OpcionesLectura()


def leer(datos: bytes) -> tuple[Any, list[ContactoLeido | FilaRechazada]]:
    with abrir(io.BytesIO(datos)) as lector:
        assert lector.encabezado is not None
        filas = [interpretar(lector.encabezado, n, v, OPC) for n, v in lector]
        return lector, [f for f in filas if f is not None]


def xlsx(filas: list[list[Any]]) -> bytes:
    libro = openpyxl.Workbook()
    hoja = libro.active
    for fila in filas:
        hoja.append(fila)
    salida = io.BytesIO()
    libro.save(salida)
    return salida.getvalue()


TEXTO = 'Nombre,Teléfono,Monto,Estado\nJosé Núñez,55 1234 5678,"$1,500.00",Nuevo León\nAna,3312345678,200,Q. Roo\n'


@pytest.mark.parametrize(
    ("codificacion", "esperada"),
    [("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("cp1252", "cp1252"), ("latin-1", "cp1252"), ("utf-16", "utf-16")],
)
def test_codificaciones(codificacion: str, esperada: str) -> None:
    lector, filas = leer(TEXTO.encode(codificacion))
    assert lector.codificacion == esperada
    primero = filas[0]
    assert isinstance(primero, ContactoLeido)
    assert primero.nombre == "José Núñez"
    assert primero.telefono == "+525512345678"
    assert primero.monto == "1500.00"
    assert primero.estado == "Nuevo León" and primero.zona_horaria == "America/Mexico_City"
    assert isinstance(filas[1], ContactoLeido) and filas[1].zona_horaria == "America/Cancun"


@pytest.mark.parametrize("delimitador", [",", ";", "\t", "|"])
def test_delimitadores(delimitador: str) -> None:
    texto = TEXTO.replace(",", delimitador).replace('"$1' + delimitador + '500.00"', '"$1,500.00"')
    lector, filas = leer(texto.encode())
    assert lector.delimitador == delimitador
    assert [f.telefono for f in filas if isinstance(f, ContactoLeido)] == ["+525512345678", "+523312345678"]


def test_campos_entrecomillados_con_delimitador_y_saltos_de_linea() -> None:
    datos = 'cliente;celular;notas\n"Pérez; Juan";"55-1234-5678";"línea 1\nlínea 2"\n'.encode()
    _, filas = leer(datos)
    (fila,) = filas
    assert isinstance(fila, ContactoLeido)
    assert fila.nombre == "Pérez; Juan"
    assert fila.datos_credito == {"notas": "línea 1\nlínea 2"}


def test_alias_de_encabezado_y_columnas_extra() -> None:
    encabezado = mapear_encabezado(
        ["Cliente", "Tel.", "WhatsApp", "Importe", "N.S.S.", "CURP", "Tipo de crédito", "Entidad", "Sucursal", ""]
    )
    assert encabezado is not None
    assert encabezado.indices["telefono"] == 2  # whatsapp wins over a generic phone column
    assert encabezado.indices["nombre"] == 0
    assert encabezado.indices["monto"] == 3
    assert encabezado.indices["nss"] == 4
    assert encabezado.indices["curp"] == 5
    assert encabezado.indices["tipo_credito"] == 6
    assert encabezado.indices["estado"] == 7
    assert [nombre for nombre, _ in encabezado.extras] == ["tel", "sucursal"]
    assert clave_columna("Teléfono Celular ") == "telefono_celular"
    assert mapear_encabezado(["nombre", "monto"]) is None


def test_nombre_y_apellidos_se_unen() -> None:
    _, filas = leer("nombre,apellido paterno,apellido materno,movil\nAna,López,Díaz,5512345678\n".encode())
    assert isinstance(filas[0], ContactoLeido) and filas[0].nombre == "Ana López Díaz"


def test_filas_de_titulo_antes_del_encabezado() -> None:
    lector, filas = leer(b"Cartera noviembre\n\nnombre,telefono\nAna,5512345678\n")
    assert lector.encabezado.fila == 3
    assert isinstance(filas[0], ContactoLeido) and filas[0].fila == 4


def test_rechazos_nombran_fila_campo_y_motivo() -> None:
    datos = (
        b"nombre,telefono,monto,nss,curp\n"
        b"a,5.51234E+09,,,\n"
        b"b,5512345678,abc,,\n"
        b"c,5512345679,,123,\n"
        b"d,5512345670,,,XXXX\n"
        b"e,,,,\n"
        b"f,5512345671,,,,extra\n"
        b"g,5512345672,10,12345678901,GODE561231HDFRRN09\n"
        b",,,,\n"
    )
    _, filas = leer(datos)
    rechazos = {f.fila: (f.campo, f.motivo) for f in filas if isinstance(f, FilaRechazada)}
    assert rechazos[2][0] == "telefono" and "notación científica" in rechazos[2][1]
    assert rechazos[3][0] == "monto"
    assert rechazos[4][0] == "nss" and "11 dígitos" in rechazos[4][1]
    assert rechazos[5][0] == "curp"
    assert rechazos[6] == ("telefono", "el teléfono está vacío")
    assert rechazos[7][0] == "fila" and "columnas" in rechazos[7][1]
    aceptado = next(f for f in filas if isinstance(f, ContactoLeido))
    assert aceptado.fila == 8 and aceptado.nss == "12345678901" and aceptado.curp == "GODE561231HDFRRN09"
    assert len(filas) == 7  # the blank row 9 is skipped, not reported


def test_filas_cortas_se_completan_y_comas_finales_se_ignoran() -> None:
    _, filas = leer(b"telefono,nombre,monto\n5512345678\n3312345678,Ana,10,,\n")
    assert all(isinstance(f, ContactoLeido) for f in filas)


@pytest.mark.parametrize(
    ("datos", "fragmento"),
    [
        (b"", "vacío"),
        (b"\n\n  \n", "no tiene filas"),
        (b"nombre,monto\nAna,10\n", "columna de teléfono"),
        (b"\x00\x01\x02\x03" * 500, "no parece un CSV"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, ".xls"),
        (b"PK\x03\x04" + b"\x00" * 100, "XLSX"),
        (b'telefono\n"5512345678\n' + b"x" * 1_100_000, "mal formado"),
    ],
)
def test_errores_de_archivo_claros(datos: bytes, fragmento: str) -> None:
    with pytest.raises(ErrorLectura) as error:
        leer(datos)
    assert fragmento in error.value.mensaje


def test_campo_extra_enorme_rechaza_solo_esa_fila() -> None:
    datos = b"telefono,notas\n5512345678," + b"y" * 5000 + b"\n3312345678,ok\n"
    _, filas = leer(datos)
    assert isinstance(filas[0], FilaRechazada) and filas[0].campo == "notas"
    assert isinstance(filas[1], ContactoLeido)


def test_nul_y_caracteres_de_control_no_llegan_a_la_base() -> None:
    _, filas = leer(b"telefono,nombre,nota\n5512345678,An\x00a,x\x00y\n")
    (fila,) = filas
    assert isinstance(fila, ContactoLeido) and fila.nombre == "Ana" and fila.datos_credito == {"nota": "xy"}


def test_xlsx_primera_hoja_tipos_y_formulas(tmp_path: Path) -> None:
    libro = openpyxl.Workbook()
    hoja = libro.active
    hoja.append(["Nombre", "Celular", "Monto", "Fecha", "Calculado"])
    hoja.append(["Ana", 5512345678, 1500.5, "2024-01-31", "=C2*2"])
    hoja.append(["Luis", "33 1234 5678", 10, None, None])
    hoja.append(["Sin", 5.51234e9 + 0.5, None, None, None])
    otra = libro.create_sheet("Otra")
    otra.append(["telefono"])
    otra.append(["8112345678"])
    ruta = tmp_path / "cartera.xlsx"
    libro.save(ruta)
    with abrir(ruta) as lector:
        assert lector.formato == "xlsx"
        filas = [interpretar(lector.encabezado, n, v, OPC) for n, v in lector]
    ana, luis, sin = filas
    assert isinstance(ana, ContactoLeido) and ana.telefono == "+525512345678" and ana.monto == "1500.50"
    # A formula never computed by Excel has no cached value: it is simply absent, never the formula text.
    assert "calculado" not in ana.datos_credito
    assert isinstance(luis, ContactoLeido) and luis.telefono == "+523312345678"
    assert isinstance(sin, FilaRechazada) and sin.campo == "telefono"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=3000))
def test_bytes_aleatorios_nunca_fuera_de_error_lectura(datos: bytes) -> None:
    try:
        leer(datos)
    except ErrorLectura as error:
        assert error.mensaje


celdas = st.one_of(
    st.text(max_size=20),
    st.sampled_from(["5512345678", "+52 1 33 1234 5678", "5.5E+09", "=A1", '"', '""', ";", "\t", "CDMX", "$10"]),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.lists(celdas, min_size=0, max_size=7), max_size=15),
    st.sampled_from([",", ";", "\t"]),
    st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "utf-16"]),
)
def test_csv_desiguales_en_cualquier_codificacion(filas: list[list[str]], delim: str, cod: str) -> None:
    texto = delim.join(["nombre", "telefono", "estado"]) + "\n"
    texto += "\n".join(delim.join(fila) for fila in filas)
    try:
        datos = texto.encode(cod)
    except UnicodeEncodeError:
        datos = texto.encode("utf-8")
    try:
        _, resultado = leer(datos)
    except ErrorLectura as error:
        assert error.mensaje
        return
    for fila in resultado:
        if isinstance(fila, ContactoLeido):
            assert fila.telefono.startswith("+52") and len(fila.telefono) == 13
            assert "\x00" not in (fila.nombre or "")
        else:
            assert fila.motivo and fila.campo


# ---- states ------------------------------------------------------------------------------------------------------


def test_los_32_estados_tienen_zona() -> None:
    assert len(ESTADOS) == 32
    for estado in ESTADOS:
        assert zona_de_estado(estado) == ZONAS[estado]
        assert estado_canonico(estado.upper()) == estado


@pytest.mark.parametrize(
    ("texto", "zona"),
    [
        ("CDMX", "America/Mexico_City"),
        ("Distrito Federal", "America/Mexico_City"),
        ("Edo. Méx.", "America/Mexico_City"),
        ("Sonora", "America/Hermosillo"),
        ("sinaloa", "America/Mazatlan"),
        ("B.C.S.", "America/Mazatlan"),
        ("Nayarit", "America/Mazatlan"),
        ("Baja California", "America/Tijuana"),
        ("Quintana Roo", "America/Cancun"),
        ("Q. Roo", "America/Cancun"),
        ("Yucatán", "America/Mexico_City"),
        ("YUCATAN", "America/Mexico_City"),
        ("Michoacán de Ocampo", "America/Mexico_City"),
        ("Veracruz de Ignacio de la Llave", "America/Mexico_City"),
        ("Estado de Jalisco", "America/Mexico_City"),
        ("activo", None),
        ("", None),
        (None, None),
    ],
)
def test_variantes_de_estado(texto: str | None, zona: str | None) -> None:
    assert zona_de_estado(texto) == zona


def test_encabezado_larguisimo_y_duplicado_tiene_claves_unicas() -> None:
    largo = "Observaciones del asesor " * 10
    encabezado = mapear_encabezado(["telefono", largo, largo, "Teléfono"])
    assert encabezado is not None
    claves = [c for c, _ in encabezado.extras]
    assert len(set(claves)) == 3
