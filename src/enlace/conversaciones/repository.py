"""All SQL of the inbox, scoped by the actor (an agent sees its own conversations, a supervisor its teams')."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, exists, func, literal, or_, select, true, union_all, update
from sqlalchemy.ext.asyncio import AsyncSession

from enlace.campanas.models import ParadaSeguridad
from enlace.captura.models import ConteoFueraAlcance, Conversacion
from enlace.carteras.models import Contacto, IdentificadorContacto
from enlace.comun.actor import Actor
from enlace.comun.alcance import condicion_agente, puede_ver_agente
from enlace.mensajes.estados import NO_SALIDOS
from enlace.mensajes.models import MensajeEnviado, MensajeRecibido


async def listar(
    session: AsyncSession,
    actor: Actor,
    *,
    agente_id: int | None,
    solo_no_leidas: bool,
    limite: int,
    antes: datetime | None,
) -> list[Any]:
    stmt = (
        select(
            Conversacion.contacto_id,
            Conversacion.agente_id,
            Conversacion.telefono,
            Contacto.nombre,
            Contacto.estado.label("estado_contacto"),
            Conversacion.ultimo_at,
            Conversacion.ultimo_texto,
            Conversacion.ultimo_direccion,
            Conversacion.no_leidos,
        )
        .join(Contacto, Contacto.id == Conversacion.contacto_id)
        .where(condicion_agente(actor, Conversacion.agente_id))
        .order_by(Conversacion.ultimo_at.desc(), Conversacion.id.desc())
        .limit(limite)
    )
    if agente_id is not None:
        stmt = stmt.where(Conversacion.agente_id == agente_id)
    if solo_no_leidas:
        stmt = stmt.where(Conversacion.no_leidos > 0)
    if antes is not None:
        stmt = stmt.where(Conversacion.ultimo_at < antes)
    return list((await session.execute(stmt)).all())


async def contacto_visible(session: AsyncSession, actor: Actor, contacto_id: int) -> Contacto | None:
    """The contact when the actor owns it or has a conversation with it (never leaks existence otherwise)."""
    tiene_conversacion = exists().where(
        Conversacion.contacto_id == Contacto.id, condicion_agente(actor, Conversacion.agente_id)
    )
    return await session.scalar(
        select(Contacto).where(
            Contacto.id == contacto_id, or_(condicion_agente(actor, Contacto.agente_id), tiene_conversacion)
        )
    )


async def agente_de_conversacion(session: AsyncSession, actor: Actor, contacto_id: int) -> int | None:
    """The agent of the actor's most recent conversation with this contact."""
    return await session.scalar(
        select(Conversacion.agente_id)
        .where(Conversacion.contacto_id == contacto_id, condicion_agente(actor, Conversacion.agente_id))
        .order_by(Conversacion.ultimo_at.desc())
        .limit(1)
    )


async def mensajes(
    session: AsyncSession, actor: Actor, contacto: Contacto, *, limite: int, antes: datetime | None
) -> list[Any]:
    """Both directions of the chat with the contact, newest `limite` first, returned oldest first.

    Whoever owns the contact now (in the actor's scope) sees its whole history, across the lines
    that talked to it — an official-line campaign handed to an agent, or a reassignment. Otherwise
    the actor sees only the messages of agents in its scope.
    """
    propio = actor.es_admin or (
        contacto.agente_id is not None and await puede_ver_agente(session, actor, contacto.agente_id)
    )
    alcance_enviados = true() if propio else condicion_agente(actor, MensajeEnviado.agente_id)
    alcance_recibidos = true() if propio else condicion_agente(actor, MensajeRecibido.agente_id)
    enviados = select(
        MensajeEnviado.id,
        literal("saliente").label("direccion"),
        MensajeEnviado.agente_id,
        MensajeEnviado.wa_message_id,
        MensajeEnviado.tipo,
        MensajeEnviado.mensaje.label("texto"),
        MensajeEnviado.medio,
        func.coalesce(MensajeEnviado.enviado_at, MensajeEnviado.intentado_at, MensajeEnviado.created_at).label(
            "momento"
        ),
        MensajeEnviado.estado,
        MensajeEnviado.origen,
        MensajeEnviado.campana_id,
        literal(None).label("editado_at"),
        literal(None).label("borrado_at"),
    ).where(
        or_(MensajeEnviado.contacto_id == contacto.id, MensajeEnviado.numero_destino == contacto.telefono),
        MensajeEnviado.estado.not_in(sorted(NO_SALIDOS)),
        alcance_enviados,
    )
    recibidos = select(
        MensajeRecibido.id,
        literal("entrante").label("direccion"),
        MensajeRecibido.agente_id,
        MensajeRecibido.wa_message_id,
        MensajeRecibido.tipo,
        MensajeRecibido.mensaje.label("texto"),
        MensajeRecibido.medio,
        MensajeRecibido.recibido_at.label("momento"),
        literal(None).label("estado"),
        literal(None).label("origen"),
        MensajeRecibido.campana_id,
        MensajeRecibido.editado_at,
        MensajeRecibido.borrado_at,
    ).where(
        or_(MensajeRecibido.contacto_id == contacto.id, MensajeRecibido.numero_origen == contacto.telefono),
        alcance_recibidos,
    )
    if antes is not None:
        enviados = enviados.where(
            func.coalesce(MensajeEnviado.enviado_at, MensajeEnviado.intentado_at, MensajeEnviado.created_at) < antes
        )
        recibidos = recibidos.where(MensajeRecibido.recibido_at < antes)
    union = union_all(enviados, recibidos).subquery()
    stmt = select(union).order_by(union.c.momento.desc(), union.c.id.desc()).limit(limite)
    filas = list((await session.execute(stmt)).all())
    filas.reverse()
    return filas


async def marcar_leida(session: AsyncSession, actor: Actor, contacto: Contacto, ahora: datetime) -> int:
    resultado = await session.execute(
        update(MensajeRecibido)
        .where(
            or_(MensajeRecibido.contacto_id == contacto.id, MensajeRecibido.numero_origen == contacto.telefono),
            MensajeRecibido.leido_por_agente_at.is_(None),
            condicion_agente(actor, MensajeRecibido.agente_id),
        )
        .values(leido_por_agente_at=ahora)
        .execution_options(synchronize_session=False)
    )
    await session.execute(
        update(Conversacion)
        .where(
            or_(Conversacion.contacto_id == contacto.id, Conversacion.telefono == contacto.telefono),
            condicion_agente(actor, Conversacion.agente_id),
        )
        .values(no_leidos=0)
        .execution_options(synchronize_session=False)
    )
    return int(resultado.rowcount or 0)  # type: ignore[attr-defined]


async def jid_conocido(session: AsyncSession, contacto: Contacto) -> str | None:
    """The WhatsApp id this contact is known to use: resolved by a number check or seen in a message."""
    if contacto.telefono_wa:
        return contacto.telefono_wa
    return await session.scalar(
        select(IdentificadorContacto.valor)
        .where(and_(IdentificadorContacto.contacto_id == contacto.id, IdentificadorContacto.tipo == "wa_jid"))
        .order_by(IdentificadorContacto.id.desc())
        .limit(1)
    )


async def fuera_de_alcance(session: AsyncSession, actor: Actor, dia: date) -> int:
    total = await session.scalar(
        select(func.coalesce(func.sum(ConteoFueraAlcance.entrantes + ConteoFueraAlcance.salientes), 0)).where(
            ConteoFueraAlcance.dia == dia, condicion_agente(actor, ConteoFueraAlcance.agente_id)
        )
    )
    return int(total or 0)


async def respuesta_por_clave(session: AsyncSession, agente_id: int, clave: str) -> MensajeEnviado | None:
    """The reply an earlier request with this Idempotency-Key queued through this number."""
    return await session.scalar(
        select(MensajeEnviado).where(MensajeEnviado.agente_id == agente_id, MensajeEnviado.clave_idempotencia == clave)
    )


async def parada_activa(session: AsyncSession, agente_id: int) -> bool:
    """A safety stop holds this number's sending (the dispatcher would not send the reply)."""
    return bool(
        await session.scalar(
            select(exists().where(ParadaSeguridad.agente_id == agente_id, ParadaSeguridad.resuelta_at.is_(None)))
        )
    )
