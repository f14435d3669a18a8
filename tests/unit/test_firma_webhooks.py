"""Webhook signing: verification, tampering, replay window, secret rotation; backoff schedule."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import random
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from enlace.webhooks.firma import (
    ENCABEZADO_FIRMA,
    ENCABEZADO_MARCA,
    FirmaInvalida,
    calendario_reintentos,
    encabezados_firma,
    firmar,
    generar_secreto,
    retraso_reintento,
    verificar,
)

AHORA = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


def test_firma_es_hmac_sha256_de_marca_y_cuerpo() -> None:
    cuerpo = b'{"evento":"mensaje.enviado"}'
    esperado = hmac.new(b"s3creto", b"1764000000." + cuerpo, hashlib.sha256).hexdigest()
    assert firmar("s3creto", cuerpo, 1764000000) == "sha256=" + esperado


@given(st.binary(max_size=2000))
def test_lo_firmado_se_verifica(cuerpo: bytes) -> None:
    secreto = generar_secreto()
    encabezados = encabezados_firma(secreto, cuerpo, AHORA)
    assert verificar(secreto, cuerpo, encabezados, AHORA + timedelta(seconds=30)) == int(AHORA.timestamp())


@given(st.binary(min_size=1, max_size=500), st.integers(min_value=0, max_value=499), st.integers(1, 255))
def test_cuerpo_alterado_se_rechaza(cuerpo: bytes, posicion: int, delta: int) -> None:
    encabezados = encabezados_firma("clave", cuerpo, AHORA)
    i = posicion % len(cuerpo)
    alterado = cuerpo[:i] + bytes([(cuerpo[i] + delta) % 256]) + cuerpo[i + 1 :]
    with pytest.raises(FirmaInvalida, match="no coincide"):
        verificar("clave", alterado, encabezados, AHORA)


def test_marca_cambiada_invalida_la_firma() -> None:
    cuerpo = b"{}"
    encabezados = encabezados_firma("clave", cuerpo, AHORA)
    # An attacker refreshing the timestamp to slip into the window breaks the signature.
    nuevo = dict(encabezados)
    nuevo[ENCABEZADO_MARCA] = str(int(AHORA.timestamp()) + 3600)
    with pytest.raises(FirmaInvalida, match="no coincide"):
        verificar("clave", cuerpo, nuevo, AHORA + timedelta(hours=1))


def test_repeticion_fuera_de_ventana_se_rechaza() -> None:
    cuerpo = b"{}"
    encabezados = encabezados_firma("clave", cuerpo, AHORA)
    verificar("clave", cuerpo, encabezados, AHORA + timedelta(seconds=300))
    with pytest.raises(FirmaInvalida, match="ventana"):
        verificar("clave", cuerpo, encabezados, AHORA + timedelta(seconds=301))
    with pytest.raises(FirmaInvalida, match="ventana"):
        verificar("clave", cuerpo, encabezados, AHORA - timedelta(seconds=301))


def test_encabezados_sin_distinguir_mayusculas_y_rotacion_de_secretos() -> None:
    cuerpo = b'{"a":1}'
    encabezados = {k.lower(): v for k, v in encabezados_firma("nuevo", cuerpo, AHORA).items()}
    assert verificar(["viejo", "nuevo"], cuerpo, encabezados, AHORA)
    with pytest.raises(FirmaInvalida):
        verificar(["viejo"], cuerpo, encabezados, AHORA)


@pytest.mark.parametrize(
    ("encabezados", "motivo"),
    [
        ({}, "faltan"),
        ({ENCABEZADO_FIRMA: "sha256=00", ENCABEZADO_MARCA: "ayer"}, "entero"),
        ({ENCABEZADO_FIRMA: "md5=00", ENCABEZADO_MARCA: str(int(AHORA.timestamp()))}, "formato"),
    ],
)
def test_encabezados_malformados(encabezados: dict[str, str], motivo: str) -> None:
    with pytest.raises(FirmaInvalida, match=motivo):
        verificar("clave", b"{}", encabezados, AHORA)


def test_calendario_exponencial_con_tope() -> None:
    calendario = calendario_reintentos(12)
    segundos = [t.total_seconds() for t in calendario]
    assert segundos[:5] == [30, 60, 120, 240, 480]
    assert segundos[-1] == 6 * 3600
    assert all(a <= b for a, b in itertools.pairwise(segundos))
    assert retraso_reintento(10_000) == timedelta(hours=6)
    with pytest.raises(ValueError):
        retraso_reintento(0)


@given(st.integers(min_value=1, max_value=50), st.integers(min_value=0, max_value=2**32))
def test_fluctuacion_solo_acorta_y_queda_acotada(intento: int, semilla: int) -> None:
    base = retraso_reintento(intento)
    con_azar = retraso_reintento(intento, azar=random.Random(semilla), fluctuacion=0.2)
    assert base * 0.8 <= con_azar <= base
