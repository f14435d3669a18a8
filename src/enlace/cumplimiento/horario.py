"""Contact-hours hard limit: 07:00–22:00 in the recipient's local time, and the next allowed instant."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from enlace.carteras.estados import zona_de_estado

# The outer limit no profile or setting can widen (collection rules forbid 22:01–06:59 local). The
# window is half-open, [07:00, 22:00): a message that would leave at 22:00:00 waits for the morning.
HORA_MINIMA = 7
HORA_MAXIMA = 22


@dataclass(frozen=True, slots=True)
class Ventana:
    """Allowed local hours [inicio, fin); always inside the hard limit."""

    inicio: int = HORA_MINIMA
    fin: int = HORA_MAXIMA

    @classmethod
    def acotada(cls, inicio: int | None = None, fin: int | None = None) -> Ventana:
        """A window from settings or a campaign profile, narrowed to the hard limit, never widened."""
        a = max(HORA_MINIMA, inicio if inicio is not None else HORA_MINIMA)
        b = min(HORA_MAXIMA, fin if fin is not None else HORA_MAXIMA)
        if a >= b:
            # A nonsensical profile (e.g. 23–6) must not open the night: fall back to the hard limit.
            return cls()
        return cls(a, b)


@lru_cache(maxsize=64)
def zona(nombre: str) -> ZoneInfo:
    try:
        return ZoneInfo(nombre)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"zona horaria desconocida: {nombre!r}") from exc


def zona_del_destinatario(zona_campana: str, estado_mx: str | None) -> ZoneInfo:
    """The contact's state wins over the campaign zone when it is a recognisable Mexican state."""
    de_estado = zona_de_estado(estado_mx) if estado_mx else None
    return zona(de_estado or zona_campana)


def en_horario(ahora: datetime, tz: ZoneInfo, ventana: Ventana = Ventana()) -> bool:
    local = ahora.astimezone(tz)
    return ventana.inicio <= local.hour < ventana.fin


def siguiente_permitido(ahora: datetime, tz: ZoneInfo, ventana: Ventana = Ventana()) -> datetime:
    """`ahora` itself when contact is allowed now, else the next window opening, in UTC."""
    if ahora.tzinfo is None:
        raise ValueError("ahora debe tener zona horaria (UTC)")
    local = ahora.astimezone(tz)
    if ventana.inicio <= local.hour < ventana.fin:
        return ahora
    dia = local.date() if local.hour < ventana.inicio else local.date() + timedelta(days=1)
    # Wall-clock construction in the zone handles DST days (Tijuana) correctly; 07:00 is never in a gap.
    apertura = datetime.combine(dia, time(ventana.inicio), tzinfo=tz)
    return apertura.astimezone(UTC)


def revisar_horario(
    ahora: datetime, zona_campana: str, estado_mx: str | None, ventana: Ventana = Ventana()
) -> datetime | None:
    """None when contact is allowed now; otherwise the UTC instant when it becomes allowed."""
    tz = zona_del_destinatario(zona_campana, estado_mx)
    siguiente = siguiente_permitido(ahora, tz, ventana)
    return None if siguiente == ahora else siguiente
