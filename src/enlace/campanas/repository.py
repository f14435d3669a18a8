"""SQL for campaigns: scoped reads, the contacts a start renders, bulk outbox insert, live counts."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from enlace.campanas.models import Campana, ParadaSeguridad, PerfilEnvio
from enlace.campanas.ritmo import PERFIL_ORIGINAL, PerfilRitmo
from enlace.carteras.models import Contacto
from enlace.comun.actor import Actor
from enlace.comun.alcance import condicion_agente
from enlace.mensajes.estados import ABIERTOS, CANCELABLES, ENVIADOS, SALIDOS
from enlace.mensajes.models import MensajeEnviado
from enlace.mensajes.repository import transicionar


async def listar(session: AsyncSession, actor: Actor, agente_id: int | None = None) -> list[Campana]:
    stmt = select(Campana).where(condicion_agente(actor, Campana.agente_id)).order_by(Campana.id.desc()).limit(500)
    if agente_id is not None:
        stmt = stmt.where(Campana.agente_id == agente_id)
    return list((await session.scalars(stmt)).all())


async def obtener(session: AsyncSession, actor: Actor, campana_id: int, *, bloquear: bool = False) -> Campana | None:
    stmt = select(Campana).where(Campana.id == campana_id, condicion_agente(actor, Campana.agente_id))
    if bloquear:
        stmt = stmt.with_for_update()
    return await session.scalar(stmt)


async def contactos_de_campana(session: AsyncSession, campana: Campana) -> list[Contacto]:
    """The cartera's contacts the campaign's agent owns now, still contactable, once each."""
    stmt = (
        select(Contacto)
        .where(
            Contacto.cartera_id == campana.cartera_id,
            Contacto.agente_id == campana.agente_id,
            Contacto.estado.not_in(("baja", "anonimizado")),
        )
        .order_by(Contacto.id)
    )
    return list((await session.scalars(stmt)).all())


async def estado_sesion(session: AsyncSession, agente_id: int) -> str:
    """The agent's WhatsApp session state ('desconectada' when it never linked)."""
    r = await session.scalar(text("SELECT estado FROM sesiones_wa WHERE agente_id = :a"), {"a": agente_id})
    return str(r or "desconectada")


async def momentos_enviados(session: AsyncSession, agente_id: int, desde: datetime) -> list[datetime]:
    """Moments this number sent campaign messages since `desde` (the pacing history the dispatcher rebuilds)."""
    stmt = select(MensajeEnviado.intentado_at).where(
        MensajeEnviado.agente_id == agente_id,
        MensajeEnviado.origen == "campana",
        MensajeEnviado.intentado_at >= desde,
        MensajeEnviado.estado.in_(sorted(SALIDOS)),
    )
    return [m for m in (await session.scalars(stmt)).all() if m is not None]


async def paradas_activas(session: AsyncSession, agente_id: int) -> list[ParadaSeguridad]:
    stmt = select(ParadaSeguridad).where(ParadaSeguridad.agente_id == agente_id, ParadaSeguridad.resuelta_at.is_(None))
    return list((await session.scalars(stmt)).all())


async def contar_suprimidos(session: AsyncSession, telefonos: list[str]) -> int:
    """How many of these numbers are on the suppression list (they are queued but the gate never sends them)."""
    if not telefonos:
        return 0
    r = await session.scalar(
        text("SELECT count(DISTINCT telefono) FROM supresiones WHERE telefono = ANY(:t)"), {"t": telefonos}
    )
    return int(r or 0)


async def insertar_mensajes(session: AsyncSession, filas: list[dict[str, Any]]) -> None:
    for i in range(0, len(filas), 1000):
        await session.execute(insert(MensajeEnviado), filas[i : i + 1000])


async def cancelar_pendientes(session: AsyncSession, campana_id: int) -> int:
    movidos = await transicionar(
        session,
        "cancelado",
        desde=CANCELABLES,
        donde=MensajeEnviado.campana_id == campana_id,
        detalle_error="Campaña cancelada",
    )
    return len(movidos)


async def respondidos(session: AsyncSession, campana_id: int) -> int:
    return int(
        await session.scalar(
            text("SELECT count(DISTINCT contacto_id) FROM mensajes_recibidos WHERE campana_id = :c"), {"c": campana_id}
        )
        or 0
    )


async def enviados_desde(session: AsyncSession, campana_id: int, desde: datetime) -> int:
    return int(
        await session.scalar(
            text("SELECT count(*) FROM mensajes_enviados WHERE campana_id = :c AND enviado_at >= :d"),
            {"c": campana_id, "d": desde},
        )
        or 0
    )


def hace_una_hora(ahora: datetime) -> datetime:
    return ahora - timedelta(hours=1)


# ---- sending profile and counters (the dispatcher in envios reads them from here) ----


async def perfil_por_defecto(session: AsyncSession) -> PerfilEnvio | None:
    return await session.scalar(select(PerfilEnvio).where(PerfilEnvio.por_defecto.is_(True)).limit(1))


async def perfil_de_campana(session: AsyncSession, campana: Campana) -> PerfilRitmo:
    """The campaign's profile (or the default one, or the original table) with its configDelay on top."""
    base: dict[str, Any] = PERFIL_ORIGINAL.a_config()
    fila = await session.get(PerfilEnvio, campana.perfil_id) if campana.perfil_id else None
    if fila is None:
        fila = await perfil_por_defecto(session)
    if fila is not None:
        base.update(fila.config or {})
    base.update(campana.config_delay or {})
    return PerfilRitmo.desde_config(base)


async def contar_por_estado(session: AsyncSession, campana_id: int) -> dict[str, int]:
    filas = await session.execute(
        text("SELECT estado, count(*) FROM mensajes_enviados WHERE campana_id = :c GROUP BY estado"),
        {"c": campana_id},
    )
    return {estado: n for estado, n in filas}


async def sincronizar_contadores(session: AsyncSession, campana_id: int, ahora: datetime) -> dict[str, int]:
    """Counters are derived from the rows in the same transaction, so they always agree with them."""
    cuentas = await contar_por_estado(session, campana_id)
    enviados = sum(cuentas.get(e, 0) for e in ENVIADOS)
    fallidos = cuentas.get("fallido", 0)
    abiertos = sum(cuentas.get(e, 0) for e in ABIERTOS)
    await session.execute(
        text(
            """UPDATE campanas SET enviados = :e, fallidos = :f, total_mensajes = :t,
                      estado = CASE WHEN :abiertos = 0 AND estado = 'activa' THEN 'completada' ELSE estado END,
                      completada_at = CASE WHEN :abiertos = 0 AND estado = 'activa' THEN :ahora ELSE completada_at END
                WHERE id = :c"""
        ),
        {
            "e": enviados,
            "f": fallidos,
            "t": sum(cuentas.values()),
            "abiertos": abiertos,
            "ahora": ahora,
            "c": campana_id,
        },
    )
    return cuentas


async def contar_sin_acuse(session: AsyncSession, campana_id: int) -> int:
    """Rows still `enviado` that the delivery watchdog flagged (no receipt after its bound)."""
    n = await session.scalar(
        text(
            "SELECT count(*) FROM mensajes_enviados"
            " WHERE campana_id = :c AND estado = 'enviado' AND sin_acuse_at IS NOT NULL"
        ),
        {"c": campana_id},
    )
    return int(n or 0)
