"""Compliance settings: environment defaults, overridden at runtime by admins through the `ajustes` table."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from enlace.comun.actor import Actor
from enlace.comun.auditoria import registrar_auditoria
from enlace.cumplimiento.models import Ajuste
from enlace.errores import EntradaInvalida
from enlace.settings import Settings, get_settings

TEXTO_CONFIRMACION_BAJA = (
    "Listo, registramos su solicitud: no le volveremos a enviar mensajes a este número. Disculpe la molestia."
)


@dataclass(frozen=True, slots=True)
class AjustesCumplimiento:
    frecuencia_max_mensajes: int = 1
    frecuencia_dias: int = 7
    confirmar_baja: bool = False
    texto_confirmacion_baja: str = TEXTO_CONFIRMACION_BAJA
    requerir_consentimiento: bool = False
    retencion_dias: int = 365
    hora_min_contacto: int = 7
    hora_max_contacto: int = 22
    dias_no_interesado: int = 90


# (type, minimum, maximum) per key: the absolute range. On top of it, `validar_ajuste` applies the
# operator's legal floors (the environment values, see `desde_settings`): an admin may only make the
# cap lower, the period longer and the contact window narrower than those, never the other way.
_LIMITES: dict[str, tuple[type, int | None, int | None]] = {
    "frecuencia_max_mensajes": (int, 1, 50),
    "frecuencia_dias": (int, 1, 365),
    "confirmar_baja": (bool, None, None),
    "texto_confirmacion_baja": (str, 10, 500),
    "requerir_consentimiento": (bool, None, None),
    "retencion_dias": (int, 30, 3650),
    "hora_min_contacto": (int, 7, 21),
    "hora_max_contacto": (int, 8, 22),
    "dias_no_interesado": (int, 1, 3650),
}
CLAVES = tuple(f.name for f in fields(AjustesCumplimiento))


def desde_settings(settings: Settings | None = None) -> AjustesCumplimiento:
    s = settings or get_settings()
    return AjustesCumplimiento(
        frecuencia_max_mensajes=max(1, s.frecuencia_max_mensajes),
        frecuencia_dias=max(1, s.frecuencia_dias),
        confirmar_baja=s.confirmar_baja,
        requerir_consentimiento=s.requerir_consentimiento,
        retencion_dias=max(30, s.retencion_dias),
        hora_min_contacto=max(7, s.hora_min_contacto),
        hora_max_contacto=min(22, s.hora_max_contacto),
        dias_no_interesado=max(1, s.dias_no_interesado),
    )


def limites(pisos: AjustesCumplimiento | None = None) -> dict[str, dict[str, int]]:
    """The range an admin may choose for each numeric setting (the panel shows it next to the field)."""
    p = pisos or desde_settings()
    rangos = {clave: {"minimo": mn, "maximo": mx} for clave, (t, mn, mx) in _LIMITES.items() if t is int}
    rangos["frecuencia_max_mensajes"]["maximo"] = p.frecuencia_max_mensajes
    rangos["frecuencia_dias"]["minimo"] = p.frecuencia_dias
    rangos["hora_min_contacto"]["minimo"] = p.hora_min_contacto
    rangos["hora_max_contacto"]["maximo"] = p.hora_max_contacto
    rangos["dias_no_interesado"]["minimo"] = p.dias_no_interesado
    return rangos  # type: ignore[return-value]


def validar_ajuste(clave: str, valor: Any, pisos: AjustesCumplimiento | None = None) -> Any:
    """The value to store for `clave`, or a 422 naming the field, the allowed range and why."""
    if clave not in _LIMITES:
        raise EntradaInvalida(f"{clave}: no es un ajuste de cumplimiento. Ajustes válidos: {', '.join(CLAVES)}.")
    tipo, _, _ = _LIMITES[clave]
    if tipo is bool:
        if not isinstance(valor, bool):
            raise EntradaInvalida(f"{clave}: debe ser verdadero o falso.")
        return valor
    if tipo is int:
        if isinstance(valor, bool) or not isinstance(valor, int):
            raise EntradaInvalida(f"{clave}: debe ser un número entero.")
        p = pisos or desde_settings()
        rango = limites(p)[clave]
        minimo, maximo = rango["minimo"], rango["maximo"]
        if clave == "frecuencia_max_mensajes" and valor <= 0:
            raise EntradaInvalida(
                "frecuencia_max_mensajes: con 0 ninguna campaña podría enviar a nadie. El mínimo es 1; "
                "para detener los envíos pausa las campañas."
            )
        if clave == "frecuencia_max_mensajes" and valor > maximo:
            raise EntradaInvalida(
                f"frecuencia_max_mensajes: el máximo legal configurado es {maximo} mensaje(s) por número cada "
                f"{p.frecuencia_dias} días; este ajuste solo puede hacerlo más estricto (entre 1 y {maximo})."
            )
        if clave == "frecuencia_dias" and valor < minimo:
            raise EntradaInvalida(
                f"frecuencia_dias: el periodo legal mínimo es de {minimo} días; solo puede alargarse "
                f"(entre {minimo} y {maximo})."
            )
        if clave in ("hora_min_contacto", "hora_max_contacto") and not minimo <= valor <= maximo:
            raise EntradaInvalida(
                f"{clave}: debe estar entre {minimo} y {maximo}; el horario de contacto solo puede acortarse "
                f"dentro de {p.hora_min_contacto}:00–{p.hora_max_contacto}:00."
            )
        if clave == "dias_no_interesado" and valor < minimo:
            raise EntradaInvalida(
                f"dias_no_interesado: quien dijo «no me interesa» queda fuera de campañas al menos {minimo} días; "
                f"solo puede alargarse (entre {minimo} y {maximo})."
            )
        if clave == "retencion_dias" and valor < minimo:
            raise EntradaInvalida(
                f"retencion_dias: el mínimo es {minimo} días (las bajas y consentimientos deben poder "
                f"probarse); debe estar entre {minimo} y {maximo}."
            )
        if not minimo <= valor <= maximo:
            raise EntradaInvalida(f"{clave}: debe estar entre {minimo} y {maximo}.")
        return valor
    _, largo_min, largo_max = _LIMITES[clave]
    if not isinstance(valor, str) or not (largo_min or 0) <= len(valor.strip()) <= (largo_max or 10_000):
        raise EntradaInvalida(f"{clave}: debe ser un texto de {largo_min} a {largo_max} caracteres.")
    return valor.strip()


async def ajustes_cumplimiento(session: AsyncSession, settings: Settings | None = None) -> AjustesCumplimiento:
    """Current compliance settings: environment defaults plus the admins' overrides."""
    base = desde_settings(settings)
    filas = (await session.execute(select(Ajuste.clave, Ajuste.valor).where(Ajuste.clave.in_(CLAVES)))).all()
    cambios = {}
    for clave, valor in filas:
        try:
            cambios[clave] = validar_ajuste(clave, valor, base)
        except EntradaInvalida:
            continue  # a stored value looser than today's floors never loosens anything: the floor stays
    ajustes = replace(base, **cambios)
    if ajustes.hora_min_contacto >= ajustes.hora_max_contacto:
        ajustes = replace(ajustes, hora_min_contacto=base.hora_min_contacto, hora_max_contacto=base.hora_max_contacto)
    return ajustes


async def cambiar_ajustes(
    session: AsyncSession, actor: Actor, cambios: dict[str, Any]
) -> tuple[AjustesCumplimiento, dict[str, Any]]:
    """Store several overrides at once (admins; each audited with its old and new value).

    All values are checked together before anything is written, so a form that moves both hours at
    once works, and a refusal leaves every setting as it was. Returns the settings now in force and
    the values that were stored differently from how they were sent (e.g. a text without its
    surrounding spaces), so the caller can show them; nothing else changes.
    """
    if not cambios:
        raise EntradaInvalida('Envía al menos un ajuste, por ejemplo {"frecuencia_dias": 7}.')
    pisos = desde_settings()
    nuevos = {clave: validar_ajuste(clave, valor, pisos) for clave, valor in cambios.items()}
    actuales = await ajustes_cumplimiento(session)
    propuestos = replace(actuales, **nuevos)
    if propuestos.hora_min_contacto >= propuestos.hora_max_contacto:
        clave = "hora_min_contacto" if "hora_min_contacto" in nuevos else "hora_max_contacto"
        raise EntradaInvalida(
            f"{clave}: la hora mínima ({propuestos.hora_min_contacto}:00) debe ser menor que la máxima "
            f"({propuestos.hora_max_contacto}:00)."
        )
    for clave, nuevo in nuevos.items():
        stmt = insert(Ajuste).values(clave=clave, valor=nuevo, actualizado_por=actor.usuario_id or None)
        stmt = stmt.on_conflict_do_update(
            index_elements=[Ajuste.clave], set_={"valor": nuevo, "actualizado_por": actor.usuario_id or None}
        )
        await session.execute(stmt)
        await registrar_auditoria(
            session,
            actor,
            "ajuste.cambiar",
            ("ajuste", clave),
            {"ajuste": clave, "anterior": getattr(actuales, clave), "nuevo": nuevo},
        )
    resultado = await ajustes_cumplimiento(session)
    # Defensive: what is in force must be exactly what was asked for, and nothing else may move.
    for campo in CLAVES:
        esperado = nuevos.get(campo, getattr(actuales, campo))
        if getattr(resultado, campo) != esperado:
            raise EntradaInvalida(f"{campo}: el valor {esperado!r} no se pudo aplicar; no se guardó ningún cambio.")
    normalizados = {clave: nuevo for clave, nuevo in nuevos.items() if nuevo != cambios[clave]}
    return resultado, normalizados


async def cambiar_ajuste(session: AsyncSession, actor: Actor, clave: str, valor: Any) -> AjustesCumplimiento:
    """Store one override (see `cambiar_ajustes`)."""
    resultado, _ = await cambiar_ajustes(session, actor, {clave: valor})
    return resultado


def como_dict(ajustes: AjustesCumplimiento) -> dict[str, Any]:
    return asdict(ajustes)
