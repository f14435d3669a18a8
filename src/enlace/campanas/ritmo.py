"""Pacing policy per WhatsApp number: a pure, seedable state machine read against an injected clock.

The dispatcher asks `siguiente_envio(ahora)` when the next message may leave and tells
`registrar_envio(momento)` when one did. Every random draw comes from the seed, so a day can be
replayed exactly (tests, the bench, and a restart that rebuilds the counters from the database).
"""

from __future__ import annotations

import bisect
import math
import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

# The hard outer limits in the recipient's local time (collections rule: 07:00–22:00) live in one place.
from enlace.comun.horario import LIMITE_FIN, LIMITE_INICIO, siguiente_permitido

_DIA = timedelta(days=1)
_HORA = timedelta(hours=1)
_MAX_PASOS = 300
_EPS = 1e-6


class ErrorPerfil(ValueError):
    """A sending profile is inconsistent or exceeds the hard limits; `campo` names the field."""

    def __init__(self, campo: str, mensaje: str) -> None:
        super().__init__(mensaje)
        self.campo = campo
        self.mensaje = mensaje


def _hora(texto: str, campo: str) -> time:
    try:
        h, m = texto.split(":")
        return time(int(h), int(m))
    except (ValueError, AttributeError) as exc:
        raise ErrorPerfil(campo, f"{campo} debe tener el formato HH:MM (por ejemplo 08:00).") from exc


def _segundos(t: time) -> int:
    return t.hour * 3600 + t.minute * 60


@dataclass(frozen=True, slots=True)
class PerfilRitmo:
    """A sending profile; the defaults are the original document's table of safe values."""

    por_hora_min: int = 30
    por_hora_max: int = 50
    por_dia_min: int = 150
    por_dia_max: int = 200
    pausa_min_s: float = 8.0
    pausa_max_s: float = 25.0
    jitter_s: float = 1.0  # ± added to every gap, then kept inside [pausa_min_s, pausa_max_s]
    rafaga_min: int = 5
    rafaga_max: int = 12
    pausa_rafaga_min_s: float = 120.0
    pausa_rafaga_max_s: float = 420.0
    hora_inicio: str = "08:00"
    hora_fin: str = "20:00"
    dias: tuple[int, ...] = (0, 1, 2, 3, 4, 5)  # Monday=0 … Saturday=5
    ligero_inicio: str = "13:00"  # lunch: a lighter hourly cap
    ligero_fin: str = "15:00"
    factor_ligero: float = 0.5
    excluir_feriados: bool = True
    zona_horaria: str = "America/Mexico_City"
    # Typing time: an initial pause plus a per-word time (original `delayPorLongitud`), capped.
    escritura_inicial_min_s: float = 1.0
    escritura_inicial_max_s: float = 4.0
    escritura_palabra_min_s: float = 0.15
    escritura_palabra_max_s: float = 0.35
    escritura_max_s: float = 25.0

    @classmethod
    def desde_config(cls, config: Mapping[str, Any] | None) -> PerfilRitmo:
        """Build from stored JSON (unknown keys refused, missing keys take the default) and validate."""
        config = dict(config or {})
        conocidos = {f.name for f in fields(cls)}
        desconocidos = sorted(set(config) - conocidos)
        if desconocidos:
            raise ErrorPerfil(desconocidos[0], f"Campo desconocido en el perfil de envío: {desconocidos[0]}.")
        if "dias" in config:
            config["dias"] = tuple(sorted({int(d) for d in config["dias"]}))
        try:
            perfil = cls(**config)
        except TypeError as exc:
            raise ErrorPerfil("config", f"Perfil de envío inválido: {exc}") from exc
        perfil.validar()
        return perfil

    def a_config(self) -> dict[str, Any]:
        datos = asdict(self)
        datos["dias"] = list(self.dias)
        return datos

    def validar(self) -> None:
        def rango(nombre_min: str, nombre_max: str, minimo: float) -> None:
            a, b = getattr(self, nombre_min), getattr(self, nombre_max)
            if not isinstance(a, (int, float)) or not isinstance(b, (int, float)):
                raise ErrorPerfil(nombre_min, f"{nombre_min} y {nombre_max} deben ser números.")
            if a < minimo:
                raise ErrorPerfil(nombre_min, f"{nombre_min} debe ser al menos {minimo}.")
            if b < a:
                raise ErrorPerfil(nombre_max, f"{nombre_max} no puede ser menor que {nombre_min}.")

        rango("por_hora_min", "por_hora_max", 1)
        rango("por_dia_min", "por_dia_max", 1)
        # Sub-second gaps only make sense on a simulator (the chaos test); the defaults are 8–25 s.
        rango("pausa_min_s", "pausa_max_s", 0.01)
        rango("rafaga_min", "rafaga_max", 1)
        rango("pausa_rafaga_min_s", "pausa_rafaga_max_s", 0.01)
        rango("escritura_inicial_min_s", "escritura_inicial_max_s", 0)
        rango("escritura_palabra_min_s", "escritura_palabra_max_s", 0)
        if self.jitter_s < 0:
            raise ErrorPerfil("jitter_s", "jitter_s no puede ser negativo.")
        if self.pausa_rafaga_min_s <= self.pausa_max_s:
            raise ErrorPerfil(
                "pausa_rafaga_min_s", "La pausa entre ráfagas debe ser mayor que la pausa máxima entre mensajes."
            )
        if self.por_hora_max > 3600 / self.pausa_min_s:
            raise ErrorPerfil("por_hora_max", "por_hora_max no cabe en una hora con la pausa mínima indicada.")
        inicio, fin = _hora(self.hora_inicio, "hora_inicio"), _hora(self.hora_fin, "hora_fin")
        if inicio < LIMITE_INICIO or fin > LIMITE_FIN:
            raise ErrorPerfil("hora_inicio", "El horario de envío no puede salir de 07:00–22:00.")
        if fin <= inicio:
            raise ErrorPerfil("hora_fin", "hora_fin debe ser posterior a hora_inicio.")
        li, lf = _hora(self.ligero_inicio, "ligero_inicio"), _hora(self.ligero_fin, "ligero_fin")
        if lf < li:
            raise ErrorPerfil("ligero_fin", "ligero_fin debe ser posterior a ligero_inicio.")
        if not 0 < self.factor_ligero <= 1:
            raise ErrorPerfil("factor_ligero", "factor_ligero debe estar entre 0 (excluido) y 1.")
        if not self.dias or any(not 0 <= d <= 6 for d in self.dias):
            raise ErrorPerfil("dias", "dias debe listar días de 0 (lunes) a 6 (domingo).")
        try:
            ZoneInfo(self.zona_horaria)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ErrorPerfil("zona_horaria", f"Zona horaria desconocida: {self.zona_horaria}.") from exc


PERFIL_ORIGINAL = PerfilRitmo()


class SinMomentoPermitido(ErrorPerfil):
    """No moment satisfies the profile and the recipient's limits (e.g. their zone never overlaps)."""


@dataclass(slots=True)
class Violacion:
    regla: str  # ventana | limite_destinatario | hora | dia | pausa | rafaga
    momento: datetime
    detalle: str


class Ritmo:
    """Pacing state of one number. Not thread-safe; one per dispatcher loop."""

    def __init__(self, perfil: PerfilRitmo, semilla: int | str) -> None:
        perfil.validar()
        self.perfil = perfil
        self.semilla = semilla
        self._tz = ZoneInfo(perfil.zona_horaria)
        self._rng = random.Random(f"{semilla}:secuencia")
        self._inicio_s = _segundos(_hora(perfil.hora_inicio, "hora_inicio"))
        self._fin_s = _segundos(_hora(perfil.hora_fin, "hora_fin"))
        self._ligero = (
            _segundos(_hora(perfil.ligero_inicio, "ligero_inicio")),
            _segundos(_hora(perfil.ligero_fin, "ligero_fin")),
        )
        self._feriados = holidays.country_holidays("MX") if perfil.excluir_feriados else None
        self._habil: dict[date, bool] = {}
        self._caps_hora: dict[tuple[date, int], int] = {}
        self._caps_dia: dict[date, int] = {}
        # Counters per local hour and per local day (reporting); older buckets are dropped as days pass.
        self.por_hora: dict[tuple[date, int], int] = {}
        self.por_dia: dict[date, int] = {}
        # The caps are enforced over rolling windows — any 60 minutes, any 24 hours — not clock buckets:
        # 50 at 10:59 and 50 more at 11:00 would be 100 in two minutes. Sorted moments of the last 24 h.
        self._recientes: list[datetime] = []
        self.ultimo: datetime | None = None
        self._espera_s = 0.0  # required wait after `ultimo`: a gap, or a burst pause
        self._rafaga_restante = 0

    @classmethod
    def desde_historial(cls, perfil: PerfilRitmo, semilla: int | str, momentos: Iterable[datetime]) -> Ritmo:
        """Rebuild counters after a restart from the moments already sent (at least the last 24 hours)."""
        ritmo = cls(perfil, semilla)
        for m in sorted(momentos):
            ritmo.registrar_envio(m)
        return ritmo

    # ---- calendar and caps (deterministic per seed and bucket, independent of call order) ----

    def es_dia_habil(self, dia: date) -> bool:
        habil = self._habil.get(dia)
        if habil is None:
            habil = dia.weekday() in self.perfil.dias and not (self._feriados is not None and dia in self._feriados)
            self._habil[dia] = habil
        return habil

    def es_hora_ligera(self, hora: int) -> bool:
        return self._ligero[0] <= hora * 3600 < self._ligero[1]

    def cap_hora(self, dia: date, hora: int) -> int:
        clave = (dia, hora)
        cap = self._caps_hora.get(clave)
        if cap is None:
            p = self.perfil
            cap = random.Random(f"{self.semilla}:h:{dia.isoformat()}:{hora}").randint(p.por_hora_min, p.por_hora_max)
            if self.es_hora_ligera(hora):
                cap = max(1, int(cap * p.factor_ligero))
            self._caps_hora[clave] = cap
        return cap

    def cap_dia(self, dia: date) -> int:
        cap = self._caps_dia.get(dia)
        if cap is None:
            p = self.perfil
            cap = random.Random(f"{self.semilla}:d:{dia.isoformat()}").randint(p.por_dia_min, p.por_dia_max)
            self._caps_dia[dia] = cap
        return cap

    def capacidad_dia(self, dia: date) -> int:
        """Messages this number may send on `dia`: the day's cap, or less if the hourly caps don't fit it."""
        if not self.es_dia_habil(dia):
            return 0
        total = 0
        for hora in range(24):
            ini, fin = hora * 3600, (hora + 1) * 3600
            if fin <= self._inicio_s or ini >= self._fin_s:
                continue
            fraccion = (min(fin, self._fin_s) - max(ini, self._inicio_s)) / 3600
            total += int(self.cap_hora(dia, hora) * fraccion)
        return min(self.cap_dia(dia), total)

    def _apertura(self, dia: date) -> datetime:
        """Opening of the window on the first working day on or after `dia`, in UTC."""
        for _ in range(400):
            if self.es_dia_habil(dia):
                local = datetime.combine(dia, time(), self._tz) + timedelta(seconds=self._inicio_s)
                return local.astimezone(ZoneInfo("UTC"))
            dia += _DIA
        raise ErrorPerfil("dias", "El perfil no tiene ningún día hábil en el próximo año.")

    # ---- the policy --------------------------------------------------------------------------

    def siguiente_envio(
        self, ahora: datetime, escritura_s: float = 0.0, zona_destino: ZoneInfo | None = None
    ) -> datetime:
        """Earliest moment ≥ ahora + escritura_s at which a message may leave without breaking a rule.

        The caller starts typing at the returned moment minus `escritura_s`; `zona_destino` adds the
        recipient's hard limits (07:00–22:00 local).
        """
        t = ahora + timedelta(seconds=escritura_s)
        if self.ultimo is not None:
            minimo = self.ultimo + timedelta(seconds=self._espera_s)
            if minimo > t:
                t = minimo
        tz = self._tz
        for _ in range(_MAX_PASOS):
            local = t.astimezone(tz)
            dia = local.date()
            if not self.es_dia_habil(dia):
                t = self._apertura(dia)
                continue
            seg = local.hour * 3600 + local.minute * 60 + local.second + local.microsecond / 1e6
            if seg < self._inicio_s:
                t = self._apertura(dia)
                continue
            if seg >= self._fin_s or self.por_dia.get(dia, 0) >= self.cap_dia(dia):
                t = self._apertura(dia + _DIA)
                continue
            libre = self._libre_en_ventana(t, _DIA, self.cap_dia(dia))
            if libre is None:
                libre = self._libre_en_ventana(t, _HORA, self.cap_hora(dia, local.hour))
            if libre is not None:
                t = libre
                continue
            if zona_destino is not None:
                permitido = siguiente_permitido(t, zona_destino)
                if permitido != t:
                    t = permitido
                    continue
            return t
        raise SinMomentoPermitido("config", "No hay ningún momento permitido para enviar con este perfil.")

    def en_ventana(self, fin: datetime, largo: timedelta) -> int:
        """Messages sent in the window (fin - largo, fin]."""
        r = self._recientes
        return bisect.bisect_right(r, fin) - bisect.bisect_right(r, fin - largo)

    def _libre_en_ventana(self, t: datetime, largo: timedelta, cap: int) -> datetime | None:
        """None when one more message at `t` keeps (t - largo, t] within `cap`; else the first moment it would."""
        r = self._recientes
        desde = bisect.bisect_right(r, t - largo)
        hasta = bisect.bisect_right(r, t)
        n = hasta - desde
        if n < cap:
            return None
        # The oldest n - cap + 1 sends of the window must leave it: wait until the last of them is `largo` old.
        return r[desde + n - cap] + largo

    def puede_enviar(self, ahora: datetime, zona_destino: ZoneInfo | None = None) -> bool:
        return self.siguiente_envio(ahora, 0.0, zona_destino) <= ahora

    def registrar_envio(self, momento: datetime) -> None:
        """Count a message that left at `momento` and draw the wait before the next one."""
        p = self.perfil
        local = momento.astimezone(self._tz)
        dia = local.date()
        if dia not in self.por_dia:
            # A new day: counters of previous days are history, drop them.
            self.por_dia = {d: n for d, n in self.por_dia.items() if d >= dia}
            self.por_hora = {k: n for k, n in self.por_hora.items() if k[0] >= dia}
            self._caps_hora = {k: c for k, c in self._caps_hora.items() if k[0] >= dia - _DIA}
        bisect.insort(self._recientes, momento)
        limite = self._recientes[-1] - _DIA
        if self._recientes[0] <= limite:
            del self._recientes[: bisect.bisect_right(self._recientes, limite)]
        self.por_dia[dia] = self.por_dia.get(dia, 0) + 1
        clave = (dia, local.hour)
        self.por_hora[clave] = self.por_hora.get(clave, 0) + 1
        rng = self._rng
        if self.ultimo is None or (momento - self.ultimo).total_seconds() >= p.pausa_rafaga_min_s - _EPS:
            # A pause at least as long as a burst pause ends the burst: this message opens a new one.
            self._rafaga_restante = rng.randint(p.rafaga_min, p.rafaga_max)
        self._rafaga_restante -= 1
        if self._rafaga_restante <= 0:
            self._espera_s = rng.uniform(p.pausa_rafaga_min_s, p.pausa_rafaga_max_s)
        else:
            espera = rng.uniform(p.pausa_min_s, p.pausa_max_s) + rng.uniform(-p.jitter_s, p.jitter_s)
            self._espera_s = min(p.pausa_max_s, max(p.pausa_min_s, espera))
        # Whole microseconds, rounded up: datetimes can't hold less and must never land short of a rule.
        self._espera_s = math.ceil(self._espera_s * 1e6) / 1e6
        if self.ultimo is None or momento > self.ultimo:
            self.ultimo = momento

    def escritura(self, texto: str) -> float:
        """Seconds of 'composing' before sending `texto`: proportional to its length, with noise."""
        p = self.perfil
        palabras = max(1, len(texto.split()))
        rng = self._rng
        segundos = rng.uniform(p.escritura_inicial_min_s, p.escritura_inicial_max_s) + palabras * rng.uniform(
            p.escritura_palabra_min_s, p.escritura_palabra_max_s
        )
        return min(p.escritura_max_s, segundos)


@dataclass(slots=True)
class Auditoria:
    violaciones: list[Violacion] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.violaciones)


def auditar(
    momentos: Sequence[datetime],
    ritmo: Ritmo,
    zonas_destino: Sequence[ZoneInfo | None] | None = None,
) -> Auditoria:
    """Recount a number's sends from scratch and list every rule they break.

    Independent of the state machine's counters: it uses only the profile, the calendar and the
    seed's caps (each checked against the profile's bounds too), so a bug in the counters shows.
    """
    p = ritmo.perfil
    tz = ZoneInfo(p.zona_horaria)
    resultado = Auditoria()
    v = resultado.violaciones
    inicio = _segundos(_hora(p.hora_inicio, "hora_inicio"))
    fin = _segundos(_hora(p.hora_fin, "hora_fin"))
    por_hora: dict[tuple[date, int], int] = {}
    por_dia: dict[date, int] = {}
    feriados = holidays.country_holidays("MX") if p.excluir_feriados else None
    orden = sorted(range(len(momentos)), key=lambda i: momentos[i])
    anterior: datetime | None = None
    rafaga = 0
    for i in orden:
        m = momentos[i]
        local = m.astimezone(tz)
        dia, seg = local.date(), local.hour * 3600 + local.minute * 60 + local.second + local.microsecond / 1e6
        if not ritmo.es_dia_habil(dia) or local.weekday() not in p.dias:
            v.append(Violacion("ventana", m, f"día no hábil {dia}"))
        if feriados is not None and dia in feriados:
            v.append(Violacion("ventana", m, f"feriado {dia}"))
        if not inicio <= seg < fin:
            v.append(Violacion("ventana", m, f"fuera de horario {local.time()}"))
        zona = zonas_destino[i] if zonas_destino is not None else None
        if zona is not None and not LIMITE_INICIO <= m.astimezone(zona).time() < LIMITE_FIN:
            v.append(Violacion("limite_destinatario", m, f"{m.astimezone(zona).time()} en {zona.key}"))
        clave = (dia, local.hour)
        por_hora[clave] = por_hora.get(clave, 0) + 1
        por_dia[dia] = por_dia.get(dia, 0) + 1
        if anterior is not None:
            hueco = (m - anterior).total_seconds()
            if hueco < p.pausa_min_s - _EPS:
                v.append(Violacion("pausa", m, f"{hueco:.2f}s desde el anterior"))
            rafaga = 1 if hueco >= p.pausa_rafaga_min_s - _EPS else rafaga + 1
        else:
            rafaga = 1
        if rafaga > p.rafaga_max:
            v.append(Violacion("rafaga", m, f"ráfaga de {rafaga} mensajes"))
        anterior = m
    # Rolling windows: the busiest window of a given length always ends at a send, so checking the
    # window that ends at every send covers "any 60 minutes" and "any 24 hours".
    ordenados = sorted(momentos)
    for j, m in enumerate(ordenados):
        local = m.astimezone(tz)
        dia, hora = local.date(), local.hour
        tope = p.por_hora_max
        if ritmo.es_hora_ligera(hora):
            tope = max(1, int(tope * p.factor_ligero))
        for largo, cap, regla in (
            (_HORA, min(ritmo.cap_hora(dia, hora), tope), "hora"),
            (_DIA, min(ritmo.cap_dia(dia), p.por_dia_max), "dia"),
        ):
            n = j + 1 - bisect.bisect_right(ordenados, m - largo, 0, j + 1)
            if n > cap:
                v.append(Violacion(regla, m, f"{n} mensajes en {largo} hasta {local.time()}, límite {cap}"))
    for dia, n in por_dia.items():
        cap = min(ritmo.cap_dia(dia), p.por_dia_max)
        if n > cap:
            v.append(Violacion("dia", datetime.combine(dia, time(), tz), f"{n} mensajes, límite {cap}"))
    del por_hora
    return resultado
