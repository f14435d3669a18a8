"""Contact hours: 07:00–22:00 in the recipient's zone, minute resolution, zone precedence, next allowed instant."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from enlace.comun.horario import (
    Ventana,
    en_horario,
    revisar_horario,
    siguiente_permitido,
    zona,
    zona_del_contacto,
)

CDMX = "America/Mexico_City"


def zona_del_destinatario(zona_campana: str, estado_mx: str | None) -> ZoneInfo:
    return zona_del_contacto(None, estado_mx, zona_campana)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_el_estado_del_contacto_gana_sobre_la_zona_de_campana() -> None:
    assert zona_del_destinatario(CDMX, "Baja California").key == "America/Tijuana"
    assert zona_del_destinatario(CDMX, "Q. Roo").key == "America/Cancun"
    assert zona_del_destinatario(CDMX, "Sonora").key == "America/Hermosillo"
    assert zona_del_destinatario(CDMX, None).key == CDMX
    # An unrecognisable state keeps the campaign zone instead of guessing.
    assert zona_del_destinatario("America/Cancun", "Narnia").key == "America/Cancun"


def test_precedencia_zona_propia_luego_estado_luego_campana() -> None:
    # The contact's stored zone wins over its state, which wins over the campaign's.
    assert zona_del_contacto("America/Cancun", "Baja California", CDMX).key == "America/Cancun"
    assert zona_del_contacto(None, "Baja California", CDMX).key == "America/Tijuana"
    assert zona_del_contacto("", None, "America/Hermosillo").key == "America/Hermosillo"
    # An unusable own zone does not block contact hours: the next rule decides.
    assert zona_del_contacto("Marte/Olimpo", "Sonora", CDMX).key == "America/Hermosillo"


def test_la_ventana_respeta_los_minutos() -> None:
    """A profile ending at 20:30 closes at 20:30, not at 21:00; one opening at 08:45 opens at 08:45."""
    tz = zona(CDMX)
    ventana = Ventana.de_texto("08:45", "20:30")
    assert ventana == Ventana(8 * 60 + 45, 20 * 60 + 30)
    assert ventana.describir() == "08:45–20:30"
    # 20:29:59 CDMX = 02:29:59 UTC: still open; 20:30:00 closed until 08:45 the next day.
    assert en_horario(utc(2026, 11, 24, 2, 29, 59), tz, ventana)
    assert revisar_horario(utc(2026, 11, 24, 2, 30), tz, ventana) == utc(2026, 11, 24, 14, 45)
    assert revisar_horario(utc(2026, 11, 24, 14, 44, 59), tz, ventana) == utc(2026, 11, 24, 14, 45)
    assert revisar_horario(utc(2026, 11, 24, 14, 45), tz, ventana) is None
    # Settings in whole hours narrow it further; the intersection keeps the minutes.
    assert Ventana.de_horas(9, 20).y(ventana) == Ventana(9 * 60, 20 * 60)
    assert Ventana.de_horas(7, 22).y(ventana) == ventana


def test_zona_desconocida_es_un_error_claro() -> None:
    with pytest.raises(ValueError, match="zona horaria desconocida"):
        zona("America/Atlantida")


@pytest.mark.parametrize(
    ("momento", "estado", "permitido", "siguiente"),
    [
        # CDMX is UTC-6 all year: 07:00 local = 13:00 UTC, 22:00 local = 04:00 UTC next day.
        (utc(2026, 11, 23, 12, 59, 59), None, False, utc(2026, 11, 23, 13)),
        (utc(2026, 11, 23, 13, 0), None, True, None),
        (utc(2026, 11, 24, 3, 59, 59), None, True, None),
        (utc(2026, 11, 24, 4, 0), None, False, utc(2026, 11, 24, 13)),  # 22:00:00 sharp is already closed
        # Cancún, UTC-5: at 12:30 UTC it is 07:30 there but 06:30 in CDMX.
        (utc(2026, 11, 23, 12, 30), "Quintana Roo", True, None),
        (utc(2026, 11, 24, 3, 0), "Quintana Roo", False, utc(2026, 11, 24, 12)),  # 22:00 in Cancún
        # Hermosillo, UTC-7 all year.
        (utc(2026, 11, 23, 13, 30), "Sonora", False, utc(2026, 11, 23, 14)),
        (utc(2026, 11, 24, 4, 30), "Sonora", True, None),  # 21:30 the evening before
        # Tijuana in winter (PST, UTC-8).
        (utc(2026, 11, 23, 14, 59), "BC", False, utc(2026, 11, 23, 15)),
        (utc(2026, 11, 24, 5, 59), "BC", True, None),
        (utc(2026, 11, 24, 6, 0), "BC", False, utc(2026, 11, 24, 15)),
        # Tijuana in summer (PDT, UTC-7): the border strip keeps daylight saving time.
        (utc(2026, 7, 1, 13, 59), "Baja California", False, utc(2026, 7, 1, 14)),
        (utc(2026, 7, 1, 14, 0), "Baja California", True, None),
    ],
)
def test_limites_del_dia_por_zona(
    momento: datetime, estado: str | None, permitido: bool, siguiente: datetime | None
) -> None:
    tz = zona_del_destinatario(CDMX, estado)
    assert revisar_horario(momento, tz) == siguiente
    assert en_horario(momento, tz) is permitido


def test_cambio_de_horario_en_tijuana() -> None:
    # 8 March 2026: PST→PDT at 02:00 local. At 03:00 PDT (10:00 UTC) the next opening is 07:00 PDT = 14:00 UTC.
    assert revisar_horario(utc(2026, 3, 8, 10), zona("America/Tijuana")) == utc(2026, 3, 8, 14)
    # The night before (PST): 23:00 local = 07:00 UTC on the 8th; opening is still 07:00 PDT.
    assert revisar_horario(utc(2026, 3, 8, 7), zona("America/Tijuana")) == utc(2026, 3, 8, 14)
    # 1 November 2026: PDT→PST; 07:00 PST = 15:00 UTC.
    assert revisar_horario(utc(2026, 11, 1, 10), zona("America/Tijuana")) == utc(2026, 11, 1, 15)


def test_fin_de_mes_y_de_anio() -> None:
    # 31 Dec 23:30 in CDMX → 1 Jan 07:00.
    assert revisar_horario(utc(2027, 1, 1, 5, 30), zona(CDMX)) == utc(2027, 1, 1, 13)


def test_ventana_solo_se_estrecha() -> None:
    assert Ventana.de_horas(5, 23) == Ventana(7 * 60, 22 * 60)
    assert Ventana.de_horas(9, 18) == Ventana(9 * 60, 18 * 60)
    assert Ventana.de_horas(23, 6) == Ventana()
    assert Ventana.de_texto("06:30", "22:15") == Ventana()
    angosta = Ventana.de_horas(9, 18)
    # 08:00 CDMX is inside the hard limit but outside a 09–18 profile.
    assert revisar_horario(utc(2026, 11, 23, 14), zona(CDMX), angosta) == utc(2026, 11, 23, 15)
    assert revisar_horario(utc(2026, 11, 24, 0), zona(CDMX), angosta) == utc(2026, 11, 24, 15)


def test_requiere_hora_con_zona() -> None:
    with pytest.raises(ValueError):
        siguiente_permitido(datetime(2026, 11, 23, 12), zona(CDMX))


ZONAS = ["America/Mexico_City", "America/Tijuana", "America/Cancun", "America/Hermosillo", "America/Mazatlan"]


@given(
    st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2030, 12, 31), timezones=st.just(UTC)),
    st.sampled_from(ZONAS),
    st.integers(min_value=0, max_value=24 * 60),
    st.integers(min_value=0, max_value=24 * 60),
)
def test_el_siguiente_instante_siempre_esta_permitido_y_es_el_primero(
    ahora: datetime, nombre: str, inicio: int, fin: int
) -> None:
    tz = zona(nombre)
    ventana = Ventana.acotada(inicio, fin)  # minutes after midnight
    siguiente = siguiente_permitido(ahora, tz, ventana)
    assert siguiente >= ahora
    assert en_horario(siguiente, tz, ventana)
    local = siguiente.astimezone(tz)
    assert 7 <= local.hour < 22
    if siguiente != ahora:
        # It is an opening: one second earlier is still closed, and it is less than 25 hours away.
        assert not en_horario(siguiente - timedelta(seconds=1), tz, ventana)
        assert siguiente - ahora <= timedelta(hours=25)
        assert (local.hour * 60 + local.minute, local.second) == (ventana.inicio, 0)
