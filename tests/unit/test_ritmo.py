"""Pacing policy: for any seed and profile no hourly/daily cap, window, burst or gap rule is broken."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from enlace.campanas.ritmo import PERFIL_ORIGINAL, ErrorPerfil, PerfilRitmo, Ritmo, SinMomentoPermitido, auditar

CDMX = ZoneInfo("America/Mexico_City")
ZONAS = [None, CDMX, ZoneInfo("America/Tijuana"), ZoneInfo("America/Cancun"), ZoneInfo("America/Hermosillo")]
LUNES = datetime(2026, 11, 23, 13, 0, tzinfo=UTC)  # 07:00 in CDMX


@st.composite
def perfiles(draw: st.DrawFn) -> PerfilRitmo:
    hora_min = draw(st.integers(1, 60))
    pausa_min = draw(st.floats(1.0, 3600 / max(hora_min, 1) / 1.01 if hora_min > 1 else 60.0))
    pausa_max = pausa_min + draw(st.floats(0.0, 40.0))
    hora_max = min(hora_min + draw(st.integers(0, 40)), int(3600 / pausa_min))
    hora_min = min(hora_min, hora_max)
    dia_min = draw(st.integers(1, 400))
    rafaga_min = draw(st.integers(1, 15))
    pausa_rafaga_min = pausa_max + draw(st.floats(1.0, 600.0))
    inicio = draw(st.integers(7, 20))
    fin = draw(st.integers(inicio + 1, 22))
    ligero = draw(st.integers(7, 21))
    perfil = PerfilRitmo(
        por_hora_min=hora_min,
        por_hora_max=hora_max,
        por_dia_min=dia_min,
        por_dia_max=dia_min + draw(st.integers(0, 100)),
        pausa_min_s=pausa_min,
        pausa_max_s=pausa_max,
        jitter_s=draw(st.floats(0.0, 5.0)),
        rafaga_min=rafaga_min,
        rafaga_max=rafaga_min + draw(st.integers(0, 10)),
        pausa_rafaga_min_s=pausa_rafaga_min,
        pausa_rafaga_max_s=pausa_rafaga_min + draw(st.floats(0.0, 600.0)),
        hora_inicio=f"{inicio:02d}:{draw(st.sampled_from([0, 15, 30])) if fin > inicio + 1 else 0:02d}",
        hora_fin=f"{fin:02d}:00",
        dias=tuple(sorted(draw(st.sets(st.integers(0, 6), min_size=1)))),
        ligero_inicio=f"{ligero:02d}:00",
        ligero_fin=f"{draw(st.integers(ligero, 22)):02d}:00",
        factor_ligero=draw(st.floats(0.05, 1.0)),
        excluir_feriados=draw(st.booleans()),
        zona_horaria=draw(st.sampled_from(["America/Mexico_City", "America/Tijuana", "America/Cancun"])),
    )
    perfil.validar()
    return perfil


def simular(
    ritmo: Ritmo, inicio: datetime, n: int, rng: random.Random, zonas: bool, ocioso: bool = True
) -> tuple[list, list]:
    """Drive the policy like a dispatcher: idle spells, typing time, late wake-ups re-checked."""
    ahora = inicio
    momentos: list[datetime] = []
    destinos: list[ZoneInfo | None] = []
    while len(momentos) < n:
        if ocioso and rng.random() < 0.05:
            ahora += timedelta(seconds=rng.uniform(0, 3 * 3600))  # nothing due for a while
        zona = rng.choice(ZONAS) if zonas else None
        escritura = ritmo.escritura("Hola Juan, le escribimos por su crédito de $25,000.00" * rng.randint(1, 3))
        try:
            t = ritmo.siguiente_envio(ahora, escritura, zona)
        except SinMomentoPermitido:
            # This recipient's 07:00–22:00 never overlaps the profile's window: the dispatcher defers it.
            assert zona is not None
            continue
        assert t >= ahora + timedelta(seconds=escritura)
        # The send may happen late (slow engine, event loop busy): it must be re-checked then.
        real = t + timedelta(seconds=rng.choice([0.0, 0.0, 0.0, rng.uniform(0, 90) if ocioso else 0.0]))
        if not ritmo.puede_enviar(real, zona):
            ahora = real
            continue
        ritmo.registrar_envio(real)
        momentos.append(real)
        destinos.append(zona)
        ahora = real
    return momentos, destinos


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(perfil=perfiles(), semilla=st.integers(0, 2**32), zonas=st.booleans(), dias=st.integers(0, 400))
def test_ninguna_regla_se_rompe_para_cualquier_perfil_y_semilla(
    perfil: PerfilRitmo, semilla: int, zonas: bool, dias: int
) -> None:
    ritmo = Ritmo(perfil, semilla)
    rng = random.Random(semilla)
    momentos, destinos = simular(ritmo, LUNES + timedelta(days=dias), 400, rng, zonas)
    # The auditor gets its own Ritmo (same seed): caps are a pure function of seed and bucket.
    auditoria = auditar(momentos, Ritmo(perfil, semilla), destinos)
    assert auditoria.violaciones == []


@settings(max_examples=15, deadline=None)
@given(semilla=st.integers(0, 2**32))
def test_perfil_original_llena_su_capacidad_y_respeta_la_tabla(semilla: int) -> None:
    ritmo = Ritmo(PERFIL_ORIGINAL, semilla)
    rng = random.Random(semilla)
    momentos, _ = simular(ritmo, LUNES, 600, rng, zonas=False, ocioso=False)
    assert auditar(momentos, Ritmo(PERFIL_ORIGINAL, semilla)).violaciones == []
    por_dia: dict[date, int] = {}
    for m in momentos:
        por_dia[m.astimezone(CDMX).date()] = por_dia.get(m.astimezone(CDMX).date(), 0) + 1
    primer_dia = LUNES.astimezone(CDMX).date()
    # With work always due, the number sends exactly its randomized daily cap, within 150–200.
    assert por_dia[primer_dia] == ritmo.cap_dia(primer_dia) == ritmo.capacidad_dia(primer_dia)
    assert 150 <= por_dia[primer_dia] <= 200
    for m in momentos:
        local = m.astimezone(CDMX)
        assert 8 <= local.hour < 20 and local.weekday() != 6


def test_topes_por_ventanas_moviles_de_hora_y_dia() -> None:
    perfil = PerfilRitmo(por_hora_min=3, por_hora_max=3, por_dia_min=5, por_dia_max=5, rafaga_min=50, rafaga_max=50)
    ritmo = Ritmo(perfil, 1)
    ahora = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)  # Monday 09:00 CDMX
    envios = []
    for _ in range(8):
        t = ritmo.siguiente_envio(ahora)
        ritmo.registrar_envio(t)
        envios.append(t.astimezone(CDMX))
        ahora = t
    horas = [(e.day, e.hour) for e in envios]
    assert horas[:3] == [(23, 9)] * 3
    # Rolling hour: the 4th waits until the 1st is 60 minutes old; day cap 5 reached.
    assert horas[3:5] == [(23, 10)] * 2
    assert envios[3] - envios[0] == timedelta(hours=1)
    # Rolling 24 hours: the next day does not open at 08:00 with a fresh counter but when the first
    # message of the previous day is 24 hours old.
    assert [e.day for e in envios[5:]] == [24, 24, 24]
    assert envios[5] - envios[0] == timedelta(days=1)


def test_domingo_y_feriado_se_saltan() -> None:
    ritmo = Ritmo(PERFIL_ORIGINAL, 3)
    sabado_noche = datetime(2026, 11, 15, 3, 0, tzinfo=UTC)  # Saturday 21:00 CDMX; Monday 16 is a holiday
    t = ritmo.siguiente_envio(sabado_noche).astimezone(CDMX)
    assert (t.month, t.day, t.hour, t.minute) == (11, 17, 8, 0)


def test_limite_duro_del_destinatario() -> None:
    ritmo = Ritmo(PERFIL_ORIGINAL, 4)
    ocho_cdmx = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)  # 08:00 CDMX = 06:00 Tijuana
    t = ritmo.siguiente_envio(ocho_cdmx, 0, ZoneInfo("America/Tijuana"))
    assert t.astimezone(ZoneInfo("America/Tijuana")).hour == 7


def test_hora_ligera_reduce_el_tope() -> None:
    ritmo = Ritmo(PERFIL_ORIGINAL, 5)
    dia = date(2026, 11, 23)
    assert all(15 <= ritmo.cap_hora(dia, h) <= 25 for h in (13, 14))
    assert all(30 <= ritmo.cap_hora(dia, h) <= 50 for h in (9, 10, 16))


def test_escritura_proporcional_al_texto() -> None:
    ritmo = Ritmo(PERFIL_ORIGINAL, 6)
    corto = sum(ritmo.escritura("Hola") for _ in range(200)) / 200
    largo = sum(ritmo.escritura(" ".join(["palabra"] * 40)) for _ in range(200)) / 200
    assert corto < 5 < 10 < largo <= PERFIL_ORIGINAL.escritura_max_s


def test_historial_reconstruye_contadores() -> None:
    ritmo = Ritmo(PERFIL_ORIGINAL, 8)
    ahora = LUNES + timedelta(hours=2)
    momentos = []
    for _ in range(20):
        t = ritmo.siguiente_envio(ahora)
        ritmo.registrar_envio(t)
        momentos.append(t)
        ahora = t
    copia = Ritmo.desde_historial(PERFIL_ORIGINAL, 8, momentos)
    assert copia.por_hora == ritmo.por_hora and copia.por_dia == ritmo.por_dia
    assert copia.siguiente_envio(ahora) >= ahora + timedelta(seconds=PERFIL_ORIGINAL.pausa_min_s)


@pytest.mark.parametrize(
    ("config", "campo"),
    [
        ({"hora_inicio": "06:00"}, "hora_inicio"),
        ({"hora_fin": "23:00"}, "hora_inicio"),
        ({"por_hora_min": 60, "por_hora_max": 50}, "por_hora_max"),
        ({"pausa_rafaga_min_s": 10}, "pausa_rafaga_min_s"),
        ({"zona_horaria": "Marte/Olympus"}, "zona_horaria"),
        ({"velocidad": 3}, "velocidad"),
        ({"dias": []}, "dias"),
    ],
)
def test_perfil_invalido_nombra_el_campo(config: dict, campo: str) -> None:
    with pytest.raises(ErrorPerfil) as exc:
        PerfilRitmo.desde_config(config)
    assert exc.value.campo == campo


def test_config_ida_y_vuelta() -> None:
    assert PerfilRitmo.desde_config(PERFIL_ORIGINAL.a_config()) == PERFIL_ORIGINAL


def _max_en_ventana(momentos: list[datetime], largo: timedelta) -> int:
    """Most messages inside any half-open window [s, s + largo), counted by brute force (no ritmo code)."""
    orden = sorted(momentos)
    mayor = 0
    for i, inicio in enumerate(orden):
        mayor = max(mayor, sum(1 for m in orden[i:] if m < inicio + largo))
    return mayor


@settings(max_examples=6, deadline=None)
@given(semilla=st.integers(0, 2**32))
def test_auditoria_independiente_de_ventanas_moviles(semilla: int) -> None:
    """Any 60 minutes stays within the hourly maximum and any 24 hours within the daily maximum.

    The busy profile (fixed caps of 50/hour, pauses short enough to reach them) is what broke with clock
    buckets: 50 at the end of one hour plus 50 at the start of the next. Checked by brute force here,
    not by `ritmo.auditar`.
    """
    perfil = PerfilRitmo(
        por_hora_min=50,
        por_hora_max=50,
        por_dia_min=300,
        por_dia_max=300,
        pausa_min_s=8,
        pausa_max_s=12,
        rafaga_min=40,
        rafaga_max=60,
        pausa_rafaga_min_s=30,
        pausa_rafaga_max_s=40,
        factor_ligero=1,
        hora_inicio="07:00",
        hora_fin="22:00",
    )
    ritmo = Ritmo(perfil, semilla)
    momentos, _ = simular(ritmo, LUNES, 700, random.Random(semilla), zonas=False, ocioso=False)
    assert _max_en_ventana(momentos, timedelta(hours=1)) == 50  # reached, never exceeded
    assert _max_en_ventana(momentos, timedelta(days=1)) == 300
