"""All report SQL: the keyset-paged message history, rollup dashboards and the supervision snapshot."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, and_, func, literal, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from enlace.agentes.models import Agente, Equipo
from enlace.campanas.models import Campana, ParadaSeguridad
from enlace.comun.actor import Actor
from enlace.comun.alcance import condicion_agente
from enlace.db.texto import patron
from enlace.mensajes.models import MensajeEnviado
from enlace.reportes.models import RespuestaContada, ResumenDiario
from enlace.sesiones.models import SesionWA


@dataclass(slots=True)
class FiltroMensajes:
    agente_id: int | None = None
    equipo_id: int | None = None
    campana_id: int | None = None
    numero: str | None = None
    numero_parcial: str | None = None  # digits found anywhere in the number («551234»)
    estados: tuple[str, ...] = ()
    desde: datetime | None = None  # inclusive, UTC
    hasta: datetime | None = None  # exclusive, UTC


@dataclass(slots=True)
class FiltroTablero:
    desde: date
    hasta: date  # inclusive
    agente_id: int | None = None
    equipo_id: int | None = None
    campana_id: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


# The time a message row is filed under, the same one the dashboards use (`reportes_dia` in 0007):
# when it was sent; if it never was, when it failed; if neither, when it was queued (created).
MOMENTO_REPORTE = func.coalesce(MensajeEnviado.enviado_at, MensajeEnviado.fallido_at, MensajeEnviado.created_at)

COLUMNAS_MENSAJE = (
    MensajeEnviado.id,
    MensajeEnviado.agente_id,
    Agente.nombre.label("agente_nombre"),
    MensajeEnviado.campana_id,
    MensajeEnviado.contacto_id,
    MensajeEnviado.origen,
    MensajeEnviado.numero_origen,
    MensajeEnviado.numero_destino,
    MensajeEnviado.mensaje,
    MensajeEnviado.tipo,
    MensajeEnviado.estado,
    MensajeEnviado.wa_message_id,
    MensajeEnviado.created_at,
    MensajeEnviado.enviado_at,
    MensajeEnviado.entregado_at,
    MensajeEnviado.leido_at,
    MensajeEnviado.fallido_at,
    MensajeEnviado.codigo_error,
    MOMENTO_REPORTE.label("fecha_reporte"),
)


def consulta_mensajes(actor: Actor, filtro: FiltroMensajes) -> Select[Any]:
    """Messages the actor may see matching `filtro`, newest first by report time, then id (a total order).

    `desde`/`hasta` apply to the report time (`MOMENTO_REPORTE`), so a campaign sent over several days
    is filed under the days it was sent, exactly as the dashboards count it.
    """
    m = MensajeEnviado
    stmt: Any = select(*COLUMNAS_MENSAJE).join(Agente, Agente.id == m.agente_id)
    stmt = stmt.where(condicion_agente(actor, m.agente_id))
    if filtro.agente_id is not None:
        stmt = stmt.where(m.agente_id == filtro.agente_id)
    if filtro.equipo_id is not None:
        stmt = stmt.where(m.agente_id.in_(select(Agente.id).where(Agente.equipo_id == filtro.equipo_id)))
    if filtro.campana_id is not None:
        stmt = stmt.where(m.campana_id == filtro.campana_id)
    if filtro.numero is not None:
        stmt = stmt.where(m.numero_destino == filtro.numero)
    if filtro.numero_parcial:
        stmt = stmt.where(m.numero_destino.like(patron(filtro.numero_parcial)))
    if filtro.estados:
        stmt = stmt.where(m.estado.in_(filtro.estados))
    if filtro.desde is not None:
        stmt = stmt.where(MOMENTO_REPORTE >= filtro.desde)
    if filtro.hasta is not None:
        stmt = stmt.where(MOMENTO_REPORTE < filtro.hasta)
        # Index help: a row is never sent before it is created, so its creation is before `hasta` too.
        stmt = stmt.where(m.created_at < filtro.hasta)
    ordenada: Select[Any] = stmt.order_by(MOMENTO_REPORTE.desc(), m.id.desc())
    return ordenada


async def pagina_mensajes(
    session: AsyncSession, actor: Actor, filtro: FiltroMensajes, limite: int, despues_de: tuple[datetime, int] | None
) -> Sequence[Any]:
    """One page (limite + 1 rows, so the caller knows whether another page exists)."""
    stmt = consulta_mensajes(actor, filtro)
    if despues_de is not None:
        m = MensajeEnviado
        stmt = stmt.where(tuple_(MOMENTO_REPORTE, m.id) < tuple_(literal(despues_de[0]), literal(despues_de[1])))
    return (await session.execute(stmt.limit(limite + 1))).all()


async def flujo_mensajes(
    session: AsyncSession, actor: Actor, filtro: FiltroMensajes, maximo: int, lote: int = 2000
) -> AsyncIterator[list[tuple[Any, ...]]]:
    """Every matching row, in batches, through a server-side cursor (exports): memory holds one batch."""
    stmt = consulta_mensajes(actor, filtro).limit(maximo).execution_options(yield_per=lote)
    resultado = await session.stream(stmt)
    async for particion in resultado.partitions(lote):
        yield [tuple(f) for f in particion]


# ---- dashboards over the rollup ------------------------------------------------------------------

_SUMAS = (
    func.coalesce(func.sum(ResumenDiario.enviados), 0).label("enviados"),
    func.coalesce(func.sum(ResumenDiario.entregados), 0).label("entregados"),
    func.coalesce(func.sum(ResumenDiario.leidos), 0).label("leidos"),
    func.coalesce(func.sum(ResumenDiario.respondidos), 0).label("respondidos"),
    func.coalesce(func.sum(ResumenDiario.bajas), 0).label("bajas"),
    func.coalesce(func.sum(ResumenDiario.fallidos), 0).label("fallidos"),
)


def _condiciones_resumen(actor: Actor, filtro: FiltroTablero, tabla: Any) -> list[Any]:
    condiciones = [condicion_agente(actor, tabla.agente_id), tabla.dia >= filtro.desde, tabla.dia <= filtro.hasta]
    if filtro.agente_id is not None:
        condiciones.append(tabla.agente_id == filtro.agente_id)
    if filtro.equipo_id is not None:
        condiciones.append(tabla.agente_id.in_(select(Agente.id).where(Agente.equipo_id == filtro.equipo_id)))
    if filtro.campana_id is not None:
        condiciones.append(tabla.campana_id == filtro.campana_id)
    return condiciones


async def tablero_agentes_dia(session: AsyncSession, actor: Actor, filtro: FiltroTablero) -> list[dict[str, Any]]:
    """Per agent and day: counters from the rollup, median reply time from the counted replies."""
    r, rc = ResumenDiario, RespuestaContada
    sumas = (
        select(r.agente_id, r.dia, *_SUMAS)
        .where(*_condiciones_resumen(actor, filtro, r))
        .group_by(r.agente_id, r.dia)
        .subquery()
    )
    medianas = (
        select(
            rc.agente_id,
            rc.dia,
            func.percentile_cont(0.5).within_group(rc.segundos).label("mediana"),
        )
        .where(*_condiciones_resumen(actor, filtro, rc), rc.segundos.is_not(None))
        .group_by(rc.agente_id, rc.dia)
        .subquery()
    )
    stmt = (
        select(sumas, Agente.nombre.label("agente_nombre"), Agente.equipo_id, medianas.c.mediana)
        .join(Agente, Agente.id == sumas.c.agente_id)
        .outerjoin(medianas, and_(medianas.c.agente_id == sumas.c.agente_id, medianas.c.dia == sumas.c.dia))
        .order_by(sumas.c.dia, Agente.nombre, sumas.c.agente_id)
    )
    return [dict(f._mapping) for f in (await session.execute(stmt)).all()]


async def tablero_equipos(session: AsyncSession, actor: Actor, filtro: FiltroTablero) -> list[dict[str, Any]]:
    r, rc = ResumenDiario, RespuestaContada
    sumas = (
        select(Agente.equipo_id, func.count(func.distinct(r.agente_id)).label("agentes"), *_SUMAS)
        .join(Agente, Agente.id == r.agente_id)
        .where(*_condiciones_resumen(actor, filtro, r), Agente.equipo_id.is_not(None))
        .group_by(Agente.equipo_id)
        .subquery()
    )
    medianas = (
        select(Agente.equipo_id, func.percentile_cont(0.5).within_group(rc.segundos).label("mediana"))
        .join(Agente, Agente.id == rc.agente_id)
        .where(*_condiciones_resumen(actor, filtro, rc), rc.segundos.is_not(None))
        .group_by(Agente.equipo_id)
        .subquery()
    )
    stmt = (
        select(sumas, Equipo.nombre.label("equipo_nombre"), medianas.c.mediana)
        .join(Equipo, Equipo.id == sumas.c.equipo_id)
        .outerjoin(medianas, medianas.c.equipo_id == sumas.c.equipo_id)
        .order_by(Equipo.nombre)
    )
    return [dict(f._mapping) for f in (await session.execute(stmt)).all()]


async def totales(session: AsyncSession, actor: Actor, filtro: FiltroTablero) -> dict[str, Any]:
    r, rc = ResumenDiario, RespuestaContada
    fila = (await session.execute(select(*_SUMAS).where(*_condiciones_resumen(actor, filtro, r)))).one()
    mediana = await session.scalar(
        select(func.percentile_cont(0.5).within_group(rc.segundos)).where(
            *_condiciones_resumen(actor, filtro, rc), rc.segundos.is_not(None)
        )
    )
    return {**dict(fila._mapping), "mediana": mediana}


async def campana_visible(session: AsyncSession, actor: Actor, campana_id: int) -> Campana | None:
    return await session.scalar(
        select(Campana).where(Campana.id == campana_id, condicion_agente(actor, Campana.agente_id))
    )


async def embudo_campana(session: AsyncSession, campana_id: int) -> tuple[dict[str, Any], dict[str, int]]:
    r, rc = ResumenDiario, RespuestaContada
    fila = (await session.execute(select(*_SUMAS).where(r.campana_id == campana_id))).one()
    mediana = await session.scalar(
        select(func.percentile_cont(0.5).within_group(rc.segundos)).where(
            rc.campana_id == campana_id, rc.segundos.is_not(None)
        )
    )
    por_estado = (
        await session.execute(
            select(MensajeEnviado.estado, func.count())
            .where(MensajeEnviado.campana_id == campana_id)
            .group_by(MensajeEnviado.estado)
        )
    ).all()
    sin_acuse = await session.scalar(
        select(func.count()).where(
            MensajeEnviado.campana_id == campana_id,
            MensajeEnviado.estado == "enviado",
            MensajeEnviado.sin_acuse_at.is_not(None),
        )
    )
    return {**dict(fila._mapping), "mediana": mediana, "sin_acuse": sin_acuse or 0}, {e: n for e, n in por_estado}


# ---- supervision snapshot ---------------------------------------------------------------------------


async def agentes_con_sesion(session: AsyncSession, actor: Actor) -> list[Any]:
    stmt = (
        select(Agente, SesionWA)
        .outerjoin(SesionWA, SesionWA.agente_id == Agente.id)
        .where(condicion_agente(actor, Agente.id))
        .order_by(Agente.nombre, Agente.id)
    )
    return list((await session.execute(stmt)).all())


async def contadores_dia_por_agente(session: AsyncSession, actor: Actor, dia: date) -> dict[int, dict[str, Any]]:
    filtro = FiltroTablero(desde=dia, hasta=dia)
    return {f["agente_id"]: f for f in await tablero_agentes_dia(session, actor, filtro)}


async def campanas_activas(session: AsyncSession, actor: Actor) -> list[Campana]:
    stmt = (
        select(Campana)
        .where(Campana.estado.in_(("activa", "pausada", "programada")), condicion_agente(actor, Campana.agente_id))
        .order_by(Campana.id)
    )
    return list((await session.scalars(stmt)).all())


async def paradas_activas(session: AsyncSession, actor: Actor) -> list[ParadaSeguridad]:
    stmt = (
        select(ParadaSeguridad)
        .where(ParadaSeguridad.resuelta_at.is_(None), condicion_agente(actor, ParadaSeguridad.agente_id))
        .order_by(ParadaSeguridad.created_at.desc())
    )
    return list((await session.scalars(stmt)).all())


async def agentes_de_equipo(session: AsyncSession, equipo_id: int) -> list[int]:
    return list((await session.scalars(select(Agente.id).where(Agente.equipo_id == equipo_id))).all())
