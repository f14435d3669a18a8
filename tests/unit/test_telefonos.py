"""Mexican phone normalization: formats people write, rejections with reasons, properties over generated input."""

from __future__ import annotations

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from enlace.comun.telefonos import Rechazo, Telefono, candidatos_wa, es_canonico, normalizar, telefono_de_wa

CANONICO = "+525512345678"


@pytest.mark.parametrize(
    "entrada",
    [
        "5512345678",
        "55 1234 5678",
        "55-1234-5678",
        "55.1234.5678",
        "(55) 1234-5678",
        " 55 12 34 56 78 ",
        "044 55 1234 5678",
        "045 55 1234 5678",
        "01 55 1234 5678",
        "+52 55 1234 5678",
        "+52 1 55 1234 5678",
        "+5215512345678",
        "5215512345678",
        "525512345678",
        "0052 55 1234 5678",
        "5512345678.0",
        '="5512345678"',
        "５５１２３４５６７８",
        5512345678,
        5512345678.0,
    ],
)
def test_formatos_aceptados(entrada: object) -> None:
    resultado = normalizar(entrada)
    assert isinstance(resultado, Telefono), resultado
    assert resultado.canonico == CANONICO
    assert resultado.candidatos_wa == ("5215512345678", "525512345678")


@pytest.mark.parametrize(
    ("entrada", "codigo", "palabra"),
    [
        ("", "vacio", "vacío"),
        (None, "vacio", "vacío"),
        ("123", "corto", "corto"),
        ("55 1234 567", "corto", "9 dígitos"),
        ("5512345678901234", "largo", "largo"),
        ("+1 212 555 1234", "extranjero", "no es un número de México"),
        ("+34 612 345 678", "extranjero", "ES"),
        ("5.51234E+09", "notacion_cientifica", "notación científica"),
        ("5,51234e9", "notacion_cientifica", "perdió dígitos"),
        ("=A1+B1", "formula", "fórmula"),
        ("55 1234 5678 ext. 12", "extension", "extensión"),
        ("abc", "caracteres", "dígitos"),
        ("55-ABCD-5678", "caracteres", "dígitos"),
        ("8001234567", "no_personal", "800"),
        ("1234567890", "invalido", "no es un número válido"),
        ("0551234567", "invalido", "no es un número válido"),
        (55.5, "caracteres", "entero"),
        (True, "caracteres", "verdadero"),
    ],
)
def test_rechazos_con_motivo(entrada: object, codigo: str, palabra: str) -> None:
    resultado = normalizar(entrada)
    assert isinstance(resultado, Rechazo)
    assert resultado.codigo == codigo
    assert palabra in resultado.motivo


def test_solo_moviles_rechaza_fijos_sin_tocar_los_demas() -> None:
    # 200/201 are fixed-line-only ranges in the numbering plan; 55 is fixed-or-mobile.
    fijo = normalizar("2001234567", solo_moviles=True)
    assert isinstance(fijo, Rechazo) and fijo.codigo == "fijo" and "celulares" in fijo.motivo
    assert isinstance(normalizar("2001234567"), Telefono)
    assert isinstance(normalizar("5512345678", solo_moviles=True), Telefono)


def test_pais_configurable() -> None:
    us = normalizar("+1 212 555 1234", pais="US")
    assert isinstance(us, Telefono) and us.canonico == "+12125551234"
    mx_en_us = normalizar("+52 55 1234 5678", pais="US")
    assert isinstance(mx_en_us, Rechazo) and mx_en_us.codigo == "extranjero"


def test_ids_de_whatsapp() -> None:
    assert candidatos_wa("+525512345678") == ("5215512345678", "525512345678")
    assert telefono_de_wa("5215512345678@s.whatsapp.net") == CANONICO
    assert telefono_de_wa("525512345678:12@s.whatsapp.net") == CANONICO
    assert telefono_de_wa("123456789@lid") is None or telefono_de_wa("123456789@lid") != CANONICO


# ---- properties -------------------------------------------------------------------------------------------------

nacionales = st.from_regex(r"[2-9][0-9]{9}", fullmatch=True)
separadores = st.sampled_from(["", " ", "-", ".", "  "])


@st.composite
def escritos(draw: st.DrawFn) -> tuple[str, str]:
    """(a valid-looking national number, the way someone wrote it)."""
    nacional = draw(nacionales)
    sep = draw(separadores)
    cuerpo = draw(
        st.sampled_from(
            [
                f"{nacional[:2]}{sep}{nacional[2:6]}{sep}{nacional[6:]}",
                f"({nacional[:3]}){sep}{nacional[3:6]}{sep}{nacional[6:]}",
                nacional,
            ]
        )
    )
    prefijo = draw(st.sampled_from(["", "+52 ", "+52 1 ", "52", "521", "044 ", "045 ", "01 ", "0052 "]))
    return nacional, prefijo + cuerpo


@settings(max_examples=400)
@given(escritos())
def test_aceptados_son_canonicos_validos_e_idempotentes(dato: tuple[str, str]) -> None:
    nacional, escrito = dato
    resultado = normalizar(escrito)
    valido = phonenumbers.is_valid_number(phonenumbers.parse(nacional, "MX"))
    if isinstance(resultado, Telefono):
        assert resultado.canonico == "+52" + nacional
        assert es_canonico(resultado.canonico)
        assert normalizar(resultado.canonico) == resultado
        assert normalizar(resultado.canonico.lstrip("+")) == resultado
    else:
        assert resultado.motivo and resultado.codigo
        # The fast path must agree with phonenumbers: a rejected number is not a valid personal one.
        tipo = phonenumbers.number_type(phonenumbers.parse(nacional, "MX"))
        assert not valido or tipo not in (0, 1, 2, 6, 7)


@settings(max_examples=600)
@given(st.one_of(st.text(max_size=30), st.text(alphabet='0123456789 +-().eE,="', max_size=25), st.integers()))
def test_cualquier_entrada_da_canonico_o_motivo(entrada: object) -> None:
    resultado = normalizar(entrada)
    if isinstance(resultado, Telefono):
        assert resultado.canonico.startswith("+52") and len(resultado.canonico) == 13
        assert es_canonico(resultado.canonico)
        assert normalizar(resultado.canonico) == resultado
    else:
        assert isinstance(resultado, Rechazo)
        assert resultado.codigo
        assert len(resultado.motivo) > 10


@settings(max_examples=300)
@given(nacionales)
def test_ruta_rapida_coincide_con_phonenumbers(nacional: str) -> None:
    numero = phonenumbers.parse(nacional, "MX")
    resultado = normalizar(nacional)
    personal = phonenumbers.is_valid_number(numero) and phonenumbers.number_type(numero) in (0, 1, 2, 6, 7)
    assert isinstance(resultado, Telefono) == personal
