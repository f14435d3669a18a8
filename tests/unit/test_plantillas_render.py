"""Template rendering: placeholders, money, greeting by local time, loud failures, stable variants."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from enlace.plantillas.render import (
    ErrorPlantilla,
    ErrorRender,
    aplicar_saludo,
    campos,
    elegir_variante,
    formato_dinero,
    previsualizar,
    renderizar,
    saludo,
    validar_variantes,
)

NUEVE_CDMX = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
VARIANTES = [
    "Hola {nombre}, le contactamos respecto a su crédito IMSS por ${monto}. ¿Le interesa?",
    "{saludo} {nombre}, tiene disponible un crédito de {monto} ({tipo_credito}).",
]


def render(variante: int, datos: dict, momento: datetime = NUEVE_CDMX, zona: str = "America/Mexico_City") -> str:
    return renderizar(VARIANTES, datos, variante=variante, momento=momento, zona=zona).texto


def test_sustituye_campos_y_formatea_dinero() -> None:
    assert render(0, {"nombre": "María", "monto": "25000"}) == (
        "Hola María, le contactamos respecto a su crédito IMSS por $25,000.00. ¿Le interesa?"
    )
    assert render(1, {"Nombre": "Juan", "monto": 1234567.5, "TIPO_CREDITO": "pensión"}) == (
        "Buenos días Juan, tiene disponible un crédito de $1,234,567.50 (pensión)."
    )


@pytest.mark.parametrize(
    ("valor", "esperado"),
    [
        (25000, "$25,000.00"),
        ("25,000", "$25,000.00"),
        ("$ 1,000.5", "$1,000.50"),
        (Decimal("0.1"), "$0.10"),
        ("99.999", "$100.00"),
        (-50, "-$50.00"),
        ("12000 MXN", "$12,000.00"),
    ],
)
def test_formato_dinero(valor: object, esperado: str) -> None:
    assert formato_dinero(valor) == esperado


@given(st.decimals(min_value=0, max_value=10**9, places=2, allow_nan=False))
@settings(max_examples=200)
def test_formato_dinero_ida_y_vuelta(valor: Decimal) -> None:
    texto = formato_dinero(valor)
    assert texto.startswith("$") and texto[-3] == "."
    assert Decimal(texto[1:].replace(",", "")) == valor


def test_saludo_en_hora_local_del_destinatario() -> None:
    # 19:30 UTC = 13:30 CDMX (tardes) = 11:30 Tijuana... no: Tijuana is UTC-8 → 11:30 (días)
    momento = datetime(2026, 11, 23, 19, 30, tzinfo=UTC)
    assert saludo(momento, "America/Mexico_City") == "Buenas tardes"
    assert saludo(momento, "America/Tijuana") == "Buenos días"
    assert saludo(datetime(2026, 11, 24, 2, 0, tzinfo=UTC), "America/Mexico_City") == "Buenas noches"


def test_falla_con_reporte_por_campo_nunca_hola_none() -> None:
    with pytest.raises(ErrorRender) as exc:
        render(1, {"nombre": None, "monto": "abc"})
    errores = {e.campo: e.motivo for e in exc.value.errores}
    assert set(errores) == {"nombre", "monto", "tipo_credito"}
    assert "vacío" in errores["nombre"] and "importe" in errores["monto"] and "columna" in errores["tipo_credito"]
    for vacio in ["", "   ", "None", "nan", "NULL", float("nan")]:
        with pytest.raises(ErrorRender):
            render(0, {"nombre": vacio, "monto": 10})


def test_valor_con_llaves_no_pasa() -> None:
    with pytest.raises(ErrorRender):
        render(0, {"nombre": "{nombre}", "monto": 10})


@given(
    nombre=st.one_of(st.none(), st.text(max_size=20)),
    monto=st.one_of(st.none(), st.text(max_size=10), st.integers(-(10**6), 10**9), st.floats(allow_nan=True)),
)
@settings(max_examples=300)
def test_nunca_sale_none_ni_marcador(nombre: object, monto: object) -> None:
    try:
        texto = render(0, {"nombre": nombre, "monto": monto})
    except ErrorRender as exc:
        assert exc.errores
        return
    assert "None" not in texto.split() and "{nombre}" not in texto and "{monto}" not in texto
    assert "$$" not in texto


@pytest.mark.parametrize(
    "variantes",
    [
        [],
        ["Hola {nombre"],
        ["Hola {}"],
        ["Hola {0}"],
        ["Hola {nombre!r}"],
        ["Hola {monto:xyz}"],
        ["  "],
        ["Hola {{nombre}}"],
    ],
)
def test_plantilla_invalida(variantes: list[str]) -> None:
    with pytest.raises(ErrorPlantilla):
        validar_variantes(variantes)


def test_campos_y_llaves_literales() -> None:
    assert campos(VARIANTES) == {"nombre", "monto", "saludo", "tipo_credito"}
    r = renderizar(["Precio {{ fijo }}: {monto:dinero}"], {"monto": 5}, variante=0, momento=NUEVE_CDMX, zona="UTC")
    assert r.texto == "Precio { fijo }: $5.00"


def test_saludo_se_refresca_al_enviar() -> None:
    r = renderizar(
        VARIANTES,
        {"nombre": "Ana {x", "monto": 10, "tipo_credito": "IMSS"},
        variante=1,
        momento=NUEVE_CDMX,
        zona="America/Mexico_City",
    )
    assert r.texto.startswith("Buenos días Ana {x")
    assert r.base_saludo is not None
    tarde = aplicar_saludo(r.base_saludo, datetime(2026, 11, 23, 21, 0, tzinfo=UTC), "America/Mexico_City")
    assert tarde == r.texto.replace("Buenos días", "Buenas tardes")
    assert (
        renderizar(VARIANTES, {"nombre": "A", "monto": 1}, variante=0, momento=NUEVE_CDMX, zona="UTC").base_saludo
        is None
    )


def test_variante_determinista_y_repartida() -> None:
    elegidas = [elegir_variante(4, 7, c) for c in range(4000)]
    assert elegidas == [elegir_variante(4, 7, c) for c in range(4000)]
    assert all(800 < elegidas.count(i) < 1200 for i in range(4))
    assert elegir_variante(4, 8, 1) in range(4)


def test_previsualizar_reporta_por_contacto() -> None:
    previas = previsualizar(
        VARIANTES,
        [(1, {"nombre": "Ana", "monto": 10, "tipo_credito": "IMSS"}), (2, {"nombre": "", "monto": 5})],
        campana_id="previa",
        momento=NUEVE_CDMX,
        zona="America/Mexico_City",
    )
    assert previas[0].texto and not previas[0].errores
    assert previas[1].texto is None and {e.campo for e in previas[1].errores} >= {"nombre"}
