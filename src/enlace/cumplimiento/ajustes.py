"""Compliance settings: environment defaults, overridden at runtime by admins through the `ajustes` table."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from enlace.auth.actor import Actor
from enlace.cumplimiento.auditoria import registrar_auditoria
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


# (type, minimum, maximum) per key. Limits keep every value inside what the law and WhatsApp allow:
# hours can only narrow 07–22, the cap cannot be switched off, retention cannot go below a month.
_LIMITES: dict[str, tuple[type, int | None, int | None]] = {
    "frecuencia_max_mensajes": (int, 0, 50),
    "frecuencia_dias": (int, 1, 365),
    "confirmar_baja": (bool, None, None),
    "texto_confirmacion_baja": (str, 10, 500),
    "requerir_consentimiento": (bool, None, None),
    "retencion_dias": (int, 30, 3650),
    "hora_min_contacto": (int, 7, 21),
    "hora_max_contacto": (int, 8, 22),
}
CLAVES = tuple(f.name for f in fields(AjustesCumplimiento))


def desde_settings(settings: Settings | None = None) -> AjustesCumplimiento:
    s = settings or get_settings()
    return AjustesCumplimiento(
        frecuencia_max_mensajes=s.frecuencia_max_mensajes,
        frecuencia_dias=s.frecuencia_dias,
        confirmar_baja=s.confirmar_baja,
        requerir_consentimiento=s.requerir_consentimiento,
        retencion_dias=s.retencion_dias,
        hora_min_contacto=max(7, s.hora_min_contacto),
        hora_max_contacto=min(22, s.hora_max_contacto),
    )


def validar_ajuste(clave: str, valor: Any) -> Any:
    """The value to store for `clave`, or a 422 naming the field and the allowed range."""
    if clave not in _LIMITES:
        raise EntradaInvalida(f"{clave}: no es un ajuste de cumplimiento. Ajustes válidos: {', '.join(CLAVES)}.")
    tipo, minimo, maximo = _LIMITES[clave]
    if tipo is bool:
        if not isinstance(valor, bool):
            raise EntradaInvalida(f"{clave}: debe ser verdadero o falso.")
        return valor
    if tipo is int:
        if isinstance(valor, bool) or not isinstance(valor, int):
            raise EntradaInvalida(f"{clave}: debe ser un número entero.")
        if (minimo is not None and valor < minimo) or (maximo is not None and valor > maximo):
            raise EntradaInvalida(f"{clave}: debe estar entre {minimo} y {maximo}.")
        return valor
    if not isinstance(valor, str) or not (minimo or 0) <= len(valor.strip()) <= (maximo or 10_000):
        raise EntradaInvalida(f"{clave}: debe ser un texto de {minimo} a {maximo} caracteres.")
    return valor.strip()


async def ajustes_cumplimiento(session: AsyncSession, settings: Settings | None = None) -> AjustesCumplimiento:
    """Current compliance settings: environment defaults plus the admins' overrides."""
    base = desde_settings(settings)
    filas = (await session.execute(select(Ajuste.clave, Ajuste.valor).where(Ajuste.clave.in_(CLAVES)))).all()
    cambios = {}
    for clave, valor in filas:
        try:
            cambios[clave] = validar_ajuste(clave, valor)
        except EntradaInvalida:
            continue  # a bad stored value never loosens anything: the default stays
    ajustes = replace(base, **cambios)
    if ajustes.hora_min_contacto >= ajustes.hora_max_contacto:
        ajustes = replace(ajustes, hora_min_contacto=base.hora_min_contacto, hora_max_contacto=base.hora_max_contacto)
    return ajustes


async def cambiar_ajuste(session: AsyncSession, actor: Actor, clave: str, valor: Any) -> AjustesCumplimiento:
    """Store one override (admins; audited with the old and new value)."""
    nuevo = validar_ajuste(clave, valor)
    anterior = getattr(await ajustes_cumplimiento(session), clave)
    stmt = insert(Ajuste).values(clave=clave, valor=nuevo, actualizado_por=actor.usuario_id or None)
    stmt = stmt.on_conflict_do_update(
        index_elements=[Ajuste.clave], set_={"valor": nuevo, "actualizado_por": actor.usuario_id or None}
    )
    await session.execute(stmt)
    resultado = await ajustes_cumplimiento(session)
    if resultado.hora_min_contacto >= resultado.hora_max_contacto and clave in (
        "hora_min_contacto",
        "hora_max_contacto",
    ):
        raise EntradaInvalida(f"{clave}: la hora mínima debe ser menor que la máxima.")
    await registrar_auditoria(
        session, actor, "ajuste.cambiar", ("ajuste", clave), {"ajuste": clave, "anterior": anterior, "nuevo": nuevo}
    )
    return resultado


def como_dict(ajustes: AjustesCumplimiento) -> dict[str, Any]:
    return asdict(ajustes)
