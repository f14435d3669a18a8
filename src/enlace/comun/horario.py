"""Contact hours, once: the 07:00–22:00 hard limit, windows at minute resolution, and whose time zone counts.

Precedence of the recipient's time zone (DOMINIO.md: "a campaign time zone, overridable per contact"):

1. the contact's stored `zona_horaria` (filled on import from a recognised state, or set later);
2. the zone of the contact's Mexican state (`estado_mx`, see `enlace.comun.estados_mx`);
3. the campaign's zone (or, for messages with no campaign, the `ENLACE_ZONA_HORARIA` setting).

The pacing (`campanas.ritmo`), the compliance gate (`cumplimiento.puerta`), the templates' greeting
(`plantillas`) and the panel (`GET /api/cumplimiento/horario`) all read it from here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from enlace.comun.estados_mx import zona_de_estado

# The outer limit no profile or setting can widen (collection rules forbid 22:01–06:59 local). The
# window is half-open, [07:00, 22:00): a message that would leave at 22:00:00 waits for the morning.
LIMITE_INICIO = time(7, 0)
LIMITE_FIN = time(22, 0)
MINUTO_INICIO = 7 * 60
MINUTO_FIN = 22 * 60


def minutos(texto: str, campo: str = "hora") -> int:
    """'08:30' → 510 (minutes after local midnight); a ValueError naming the field otherwise."""
    try:
        h, m = texto.split(":")
        valor = time(int(h), int(m))
    except (ValueError, AttributeError) as exc:
        raise ValueError(f"{campo} debe tener el formato HH:MM (por ejemplo 08:00).") from exc
    return valor.hour * 60 + valor.minute


def texto_hora(minuto: int) -> str:
    """510 → '08:30'; 1320 → '22:00'."""
    return f"{minuto // 60:02d}:{minuto % 60:02d}"


@dataclass(frozen=True, slots=True)
class Ventana:
    """Allowed local time [inicio, fin), in minutes after midnight; always inside the hard limit."""

    inicio: int = MINUTO_INICIO
    fin: int = MINUTO_FIN

    @classmethod
    def acotada(cls, inicio: int | None = None, fin: int | None = None) -> Ventana:
        """A window in minutes, narrowed to the hard limit, never widened."""
        a = max(MINUTO_INICIO, inicio if inicio is not None else MINUTO_INICIO)
        b = min(MINUTO_FIN, fin if fin is not None else MINUTO_FIN)
        if a >= b:
            # A nonsensical window (e.g. 23:00–06:00) must not open the night: fall back to the hard limit.
            return cls()
        return cls(a, b)

    @classmethod
    def de_horas(cls, inicio: int | None = None, fin: int | None = None) -> Ventana:
        """From whole hours (the admin settings `hora_min_contacto`/`hora_max_contacto`)."""
        return cls.acotada(inicio * 60 if inicio is not None else None, fin * 60 if fin is not None else None)

    @classmethod
    def de_texto(cls, inicio: str, fin: str) -> Ventana:
        """From a sending profile's 'HH:MM' fields, keeping the minutes (20:30 stays 20:30)."""
        return cls.acotada(minutos(inicio, "hora_inicio"), minutos(fin, "hora_fin"))

    def y(self, otra: Ventana | None) -> Ventana:
        """The intersection: what both windows allow (falls back to the hard limit when it is empty)."""
        if otra is None:
            return self
        return Ventana.acotada(max(self.inicio, otra.inicio), min(self.fin, otra.fin))

    def contiene(self, local: datetime) -> bool:
        """Whether a local wall-clock moment is inside [inicio, fin)."""
        segundos = local.hour * 3600 + local.minute * 60 + local.second + local.microsecond / 1e6
        return self.inicio * 60 <= segundos < self.fin * 60

    def describir(self) -> str:
        return f"{texto_hora(self.inicio)}–{texto_hora(self.fin)}"


LIMITE = Ventana()


@lru_cache(maxsize=64)
def zona(nombre: str) -> ZoneInfo:
    try:
        return ZoneInfo(nombre)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"zona horaria desconocida: {nombre!r}") from exc


def zona_valida(nombre: str | None) -> bool:
    if not nombre:
        return False
    try:
        zona(nombre)
    except ValueError:
        return False
    return True


def zona_del_contacto(zona_contacto: str | None, estado_mx: str | None, zona_campana: str) -> ZoneInfo:
    """The recipient's zone by the documented precedence: own zone, then state, then campaign."""
    if zona_valida(zona_contacto):
        return zona(zona_contacto or "")
    de_estado = zona_de_estado(estado_mx) if estado_mx else None
    return zona(de_estado or zona_campana)


def en_horario(ahora: datetime, tz: ZoneInfo, ventana: Ventana = LIMITE) -> bool:
    return ventana.contiene(ahora.astimezone(tz))


def siguiente_permitido(ahora: datetime, tz: ZoneInfo, ventana: Ventana = LIMITE) -> datetime:
    """`ahora` itself when contact is allowed now, else the next window opening, in UTC."""
    if ahora.tzinfo is None:
        raise ValueError("ahora debe tener zona horaria (UTC)")
    local = ahora.astimezone(tz)
    if ventana.contiene(local):
        return ahora
    antes_de_abrir = local.hour * 60 + local.minute < ventana.inicio
    dia = local.date() if antes_de_abrir else local.date() + timedelta(days=1)
    # Wall-clock construction in the zone handles DST days (Tijuana) correctly; 07:00 is never in a gap.
    apertura = datetime.combine(dia, time(ventana.inicio // 60, ventana.inicio % 60), tzinfo=tz)
    return apertura.astimezone(UTC)


def revisar_horario(ahora: datetime, tz: ZoneInfo, ventana: Ventana = LIMITE) -> datetime | None:
    """None when contact is allowed now; otherwise the UTC instant when it becomes allowed."""
    siguiente = siguiente_permitido(ahora, tz, ventana)
    return None if siguiente == ahora else siguiente
