"""Webhook signatures (HMAC-SHA256 over timestamp + raw body) and the retry backoff schedule.

A delivery carries two headers:

    X-Enlace-Timestamp: 1764107400
    X-Enlace-Firma: sha256=<hex HMAC-SHA256(secreto, b"1764107400." + cuerpo)>

The timestamp is inside the signed bytes, so a captured request cannot be replayed later with a
fresh timestamp; receivers reject timestamps outside a window (5 minutes by default).
"""

from __future__ import annotations

import hashlib
import hmac
import random
import secrets
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta

ENCABEZADO_FIRMA = "X-Enlace-Firma"
ENCABEZADO_MARCA = "X-Enlace-Timestamp"
ENCABEZADO_ENTREGA = "X-Enlace-Entrega"
ENCABEZADO_EVENTO = "X-Enlace-Evento"
PREFIJO = "sha256="

VENTANA_REPETICION_S = 300

# Retry schedule: 30 s, 1 min, 2 min, ... capped at 6 h; 10 attempts cover roughly a working day.
BASE_REINTENTO_S = 30.0
FACTOR_REINTENTO = 2.0
TOPE_REINTENTO_S = 6 * 3600.0
MAX_INTENTOS = 10


class FirmaInvalida(Exception):
    """The request does not carry a valid, fresh signature; `motivo` says which check failed."""

    def __init__(self, motivo: str) -> None:
        super().__init__(motivo)
        self.motivo = motivo


def generar_secreto() -> str:
    """A new signing secret for a subscription (shown to the admin once)."""
    return "whsec_" + secrets.token_urlsafe(32)


def _mac(secreto: str, marca: int, cuerpo: bytes) -> str:
    mensaje = str(marca).encode("ascii") + b"." + cuerpo
    return hmac.new(secreto.encode("utf-8"), mensaje, hashlib.sha256).hexdigest()


def firmar(secreto: str, cuerpo: bytes, marca: int) -> str:
    """The value of the signature header for `cuerpo` sent at unix time `marca`."""
    return PREFIJO + _mac(secreto, marca, cuerpo)


def encabezados_firma(secreto: str, cuerpo: bytes, ahora: datetime) -> dict[str, str]:
    marca = int(ahora.timestamp())
    return {ENCABEZADO_MARCA: str(marca), ENCABEZADO_FIRMA: firmar(secreto, cuerpo, marca)}


def _encabezado(encabezados: Mapping[str, str], nombre: str) -> str | None:
    buscado = nombre.lower()
    for clave, valor in encabezados.items():
        if clave.lower() == buscado:
            return valor
    return None


def verificar(
    secretos: str | Iterable[str],
    cuerpo: bytes,
    encabezados: Mapping[str, str],
    ahora: datetime,
    *,
    ventana_s: int = VENTANA_REPETICION_S,
) -> int:
    """Check a received delivery; return its timestamp or raise `FirmaInvalida`.

    Several secrets are accepted so a receiver can rotate without losing deliveries in flight.
    The comparison is constant-time.
    """
    lista = [secretos] if isinstance(secretos, str) else list(secretos)
    firma = _encabezado(encabezados, ENCABEZADO_FIRMA)
    marca_txt = _encabezado(encabezados, ENCABEZADO_MARCA)
    if not firma or not marca_txt:
        raise FirmaInvalida("faltan los encabezados de firma o de marca de tiempo")
    try:
        marca = int(marca_txt.strip())
    except ValueError:
        raise FirmaInvalida("la marca de tiempo no es un entero") from None
    if abs(int(ahora.timestamp()) - marca) > ventana_s:
        raise FirmaInvalida("la marca de tiempo está fuera de la ventana permitida")
    if not firma.startswith(PREFIJO):
        raise FirmaInvalida("formato de firma desconocido")
    recibida = firma[len(PREFIJO) :].strip()
    # Check every secret (no early exit) so timing does not reveal which one matched.
    coincide = False
    for secreto in lista:
        coincide |= hmac.compare_digest(_mac(secreto, marca, cuerpo), recibida)
    if not coincide:
        raise FirmaInvalida("la firma no coincide")
    return marca


def retraso_reintento(
    intento: int,
    *,
    base_s: float = BASE_REINTENTO_S,
    factor: float = FACTOR_REINTENTO,
    tope_s: float = TOPE_REINTENTO_S,
    azar: random.Random | None = None,
    fluctuacion: float = 0.0,
) -> timedelta:
    """Wait before the attempt after failed attempt number `intento` (1-based).

    Exponential, capped; with `fluctuacion` (0..1) and a random source, the wait is spread down by
    up to that fraction so many failing deliveries do not retry in lockstep.
    """
    if intento < 1:
        raise ValueError("intento empieza en 1")
    # Cap the exponent first so huge attempt numbers cannot overflow a float.
    exponente = min(intento - 1, 64)
    espera = min(tope_s, base_s * factor**exponente)
    if fluctuacion > 0 and azar is not None:
        espera -= espera * fluctuacion * azar.random()
    return timedelta(seconds=espera)


def calendario_reintentos(max_intentos: int = MAX_INTENTOS, **opciones: float) -> list[timedelta]:
    """The waits between attempts 1→2, 2→3, ... for a delivery that keeps failing."""
    return [retraso_reintento(i, **opciones) for i in range(1, max_intentos)]  # type: ignore[arg-type]
