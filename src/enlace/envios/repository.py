"""SQL of the sending engine: profiles, safety stops, and the dispatcher's claims on the outbox."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from enlace.auth.actor import Actor
from enlace.auth.alcance import condicion_agente
from enlace.campanas.models import Campana, MensajeEnviado, ParadaSeguridad, PerfilEnvio
from enlace.envios.ritmo import PERFIL_ORIGINAL, PerfilRitmo

ESTADOS_ENVIADOS = ("enviado", "entregado", "leido")


async def listar_perfiles(session: AsyncSession) -> list[PerfilEnvio]:
    return list((await session.scalars(select(PerfilEnvio).order_by(PerfilEnvio.id))).all())


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


async def paradas_activas(session: AsyncSession, agente_id: int) -> list[ParadaSeguridad]:
    stmt = select(ParadaSeguridad).where(ParadaSeguridad.agente_id == agente_id, ParadaSeguridad.resuelta_at.is_(None))
    return list((await session.scalars(stmt)).all())


async def listar_paradas(session: AsyncSession, actor: Actor, *, activas: bool) -> list[ParadaSeguridad]:
    stmt = select(ParadaSeguridad).where(condicion_agente(actor, ParadaSeguridad.agente_id))
    if activas:
        stmt = stmt.where(ParadaSeguridad.resuelta_at.is_(None))
    return list((await session.scalars(stmt.order_by(ParadaSeguridad.id.desc()).limit(500))).all())


async def obtener_parada(session: AsyncSession, actor: Actor, parada_id: int) -> ParadaSeguridad | None:
    stmt = select(ParadaSeguridad).where(
        ParadaSeguridad.id == parada_id, condicion_agente(actor, ParadaSeguridad.agente_id)
    )
    return await session.scalar(stmt)


async def resolver_paradas(
    session: AsyncSession, agente_id: int, motivos: tuple[str, ...], ahora: datetime, usuario_id: int | None = None
) -> list[int]:
    stmt = (
        update(ParadaSeguridad)
        .where(
            ParadaSeguridad.agente_id == agente_id,
            ParadaSeguridad.resuelta_at.is_(None),
            ParadaSeguridad.motivo.in_(motivos),
        )
        .values(resuelta_at=ahora, resuelta_por=usuario_id)
        .returning(ParadaSeguridad.id)
    )
    return list((await session.scalars(stmt)).all())


@dataclass(slots=True)
class FilaDespacho:
    id: int
    campana_id: int | None
    contacto_id: int | None
    numero_destino: str
    destino_jid: str | None
    mensaje: str
    mensaje_base: str | None
    wa_message_id: str
    programado_para: datetime | None
    zona_campana: str
    estado_mx: str | None
    zona_contacto: str | None
    tipo: str = "texto"
    # For `tipo == 'plantilla'` (official lines): {"plantilla": {"nombre", "idioma", "parametros"}}.
    medio: dict[str, Any] | None = None


_SELECT_DUE = """
    SELECT m.id, m.campana_id, m.contacto_id, m.numero_destino, m.destino_jid, m.mensaje, m.mensaje_base,
           m.wa_message_id, m.programado_para, c.zona_horaria, k.estado_mx, k.zona_horaria, m.tipo, m.medio
      FROM mensajes_enviados m
      JOIN campanas c ON c.id = m.campana_id
      LEFT JOIN contactos k ON k.id = m.contacto_id
     WHERE m.agente_id = :agente AND m.estado = 'pendiente' AND c.estado = 'activa'
       AND (m.programado_para IS NULL OR m.programado_para <= :ahora)
"""


def _fila(r: Any) -> FilaDespacho:
    return FilaDespacho(*r)


async def proxima(session: AsyncSession, agente_id: int, ahora: datetime) -> FilaDespacho | None:
    """Peek the agent's next due row (no lock): the dispatcher plans typing and pacing around it."""
    r = (
        await session.execute(
            text(_SELECT_DUE + " ORDER BY m.programado_para NULLS FIRST, m.id LIMIT 1"),
            {"agente": agente_id, "ahora": ahora},
        )
    ).first()
    return _fila(r) if r else None


async def proximo_programado(session: AsyncSession, agente_id: int) -> datetime | None:
    return await session.scalar(
        text(
            """SELECT min(m.programado_para) FROM mensajes_enviados m JOIN campanas c ON c.id = m.campana_id
                WHERE m.agente_id = :agente AND m.estado = 'pendiente' AND c.estado = 'activa'"""
        ),
        {"agente": agente_id},
    )


async def reclamar(session: AsyncSession, agente_id: int, mensaje_id: int, ahora: datetime) -> FilaDespacho | None:
    """Lock that row if it is still due and pending in an active campaign (SKIP LOCKED: never wait)."""
    r = (
        await session.execute(
            text(_SELECT_DUE + " AND m.id = :id FOR UPDATE OF m SKIP LOCKED"),
            {"agente": agente_id, "ahora": ahora, "id": mensaje_id},
        )
    ).first()
    return _fila(r) if r else None


async def marcar(session: AsyncSession, mensaje_id: int, estado: str, desde: tuple[str, ...], **valores: Any) -> bool:
    """Move a row forward only from the states in `desde` (a receipt may already have moved it on)."""
    stmt = (
        update(MensajeEnviado)
        .where(MensajeEnviado.id == mensaje_id, MensajeEnviado.estado.in_(desde))
        .values(estado=estado, **valores)
        .returning(MensajeEnviado.id)
    )
    return (await session.scalar(stmt)) is not None


async def marcar_contactado(session: AsyncSession, contacto_id: int, momento: datetime) -> None:
    """The person got a campaign message: `pendiente` → `contactado`, and the assignment counts as active."""
    await session.execute(
        text(
            "UPDATE contactos SET estado = CASE WHEN estado = 'pendiente' THEN 'contactado' ELSE estado END,"
            " ultima_actividad_at = GREATEST(ultima_actividad_at, :m) WHERE id = :c"
        ),
        {"c": contacto_id, "m": momento},
    )


async def enviados_hoy(session: AsyncSession, agente_id: int, desde: datetime) -> list[datetime]:
    """Moments this number sent campaign messages since `desde` (rebuilds pacing after a restart)."""
    stmt = select(MensajeEnviado.intentado_at).where(
        MensajeEnviado.agente_id == agente_id,
        MensajeEnviado.origen == "campana",
        MensajeEnviado.intentado_at >= desde,
        MensajeEnviado.estado.in_(("enviando", "enviado", "entregado", "leido", "incierto", "fallido")),
    )
    return [m for m in (await session.scalars(stmt)).all() if m is not None]


async def marcar_inciertos(session: AsyncSession, agente_id: int, antes_de: datetime) -> list[tuple[int, int | None]]:
    """Rows left `enviando` by a previous run, with no echo or receipt since: `incierto`, never resent."""
    filas = await session.execute(
        text(
            """UPDATE mensajes_enviados SET estado = 'incierto',
                      detalle_error = 'Sin confirmación tras un reinicio: no se reenvía automáticamente'
                WHERE agente_id = :agente AND estado = 'enviando' AND intentado_at < :antes
            RETURNING id, campana_id"""
        ),
        {"agente": agente_id, "antes": antes_de},
    )
    return [(r[0], r[1]) for r in filas]


async def contar_por_estado(session: AsyncSession, campana_id: int) -> dict[str, int]:
    filas = await session.execute(
        text("SELECT estado, count(*) FROM mensajes_enviados WHERE campana_id = :c GROUP BY estado"),
        {"c": campana_id},
    )
    return {estado: n for estado, n in filas}


async def sincronizar_contadores(session: AsyncSession, campana_id: int, ahora: datetime) -> dict[str, int]:
    """Counters are derived from the rows in the same transaction, so they always agree with them."""
    cuentas = await contar_por_estado(session, campana_id)
    enviados = sum(cuentas.get(e, 0) for e in ESTADOS_ENVIADOS)
    fallidos = cuentas.get("fallido", 0)
    abiertos = cuentas.get("pendiente", 0) + cuentas.get("enviando", 0)
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
