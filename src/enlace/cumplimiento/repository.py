"""All SQL of compliance: suppression rows, cancelling pending messages, ARCO reads and erasure, retention."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, delete, func, null, or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from enlace.carteras.models import Contacto, IdentificadorContacto
from enlace.cumplimiento.models import Supresion
from enlace.mensajes.estados import CANCELABLES, FINALES
from enlace.mensajes.models import EventoEntrega, MensajeEnviado, MensajeRecibido
from enlace.mensajes.repository import transicionar

# JSONB columns: Python None would store JSON 'null'; erasing means SQL NULL.
# A suppression cancels what has not started; rows already claimed are handled by the pre-send check.


async def supresion_por_telefono(session: AsyncSession, telefono: str) -> Supresion | None:
    return await session.scalar(select(Supresion).where(Supresion.telefono == telefono))


async def insertar_supresion(session: AsyncSession, valores: dict[str, Any]) -> Supresion | None:
    """Insert unless the phone is already suppressed (the first reason is kept). None when it existed."""
    stmt = insert(Supresion).values(**valores).on_conflict_do_nothing(index_elements=[Supresion.telefono])
    nuevo_id = await session.scalar(stmt.returning(Supresion.id))
    return await session.get(Supresion, nuevo_id) if nuevo_id is not None else None


async def insertar_supresiones(session: AsyncSession, filas: Sequence[dict[str, Any]]) -> list[str]:
    """Bulk insert; returns the phones that were new."""
    if not filas:
        return []
    stmt = insert(Supresion).values(list(filas)).on_conflict_do_nothing(index_elements=[Supresion.telefono])
    return list((await session.scalars(stmt.returning(Supresion.telefono))).all())


async def borrar_supresion(session: AsyncSession, telefono: str) -> Supresion | None:
    fila = await supresion_por_telefono(session, telefono)
    if fila is not None:
        await session.delete(fila)
        await session.flush()
    return fila


async def cancelar_pendientes(
    session: AsyncSession, telefonos: Sequence[str], motivo: str, *, excepto_id: int | None = None
) -> list[tuple[int, int | None, int]]:
    """Cancel every pending row to these phones, any agent and campaign: [(id, campana_id, agente_id)].

    Rows locked right now are skipped, not waited for: a dispatcher that holds one is claiming it and
    waits for the phone's advisory lock, which the caller holds; waiting here would deadlock. That
    claim then sees the suppression and marks the row `suprimido`, so nothing escapes either way.
    """
    if not telefonos:
        return []
    candidatos = select(MensajeEnviado.id).where(
        MensajeEnviado.numero_destino.in_(list(telefonos)), MensajeEnviado.estado.in_(sorted(CANCELABLES))
    )
    if excepto_id is not None:
        candidatos = candidatos.where(MensajeEnviado.id != excepto_id)
    candidatos = candidatos.with_for_update(skip_locked=True)
    movidos = await transicionar(
        session,
        "cancelado",
        desde=CANCELABLES,
        donde=MensajeEnviado.id.in_(candidatos.scalar_subquery()),
        detalle_error=motivo,
    )
    return [(m.id, m.campana_id, m.agente_id) for m in movidos]


async def marcar_contactos(
    session: AsyncSession,
    telefonos: Sequence[str],
    estado: str,
    *,
    salvo: Sequence[str] = (),
    solo_desde: Sequence[str] = (),
) -> list[tuple[int, int | None]]:
    """Set `estado` on the contacts with these phones: [(id, agente_id)] of those changed.

    `salvo`: leave contacts in these states alone; `solo_desde`: change only contacts in these states.
    """
    if not telefonos:
        return []
    stmt = (
        update(Contacto)
        .where(Contacto.telefono.in_(list(telefonos)))
        .values(estado=estado)
        .returning(Contacto.id, Contacto.agente_id)
    )
    if salvo:
        stmt = stmt.where(Contacto.estado.not_in(list(salvo)))
    if solo_desde:
        stmt = stmt.where(Contacto.estado.in_(list(solo_desde)))
    return [(f[0], f[1]) for f in (await session.execute(stmt)).all()]


async def guardar_clasificacion(session: AsyncSession, mensaje_recibido_id: int, clase: str, regla: str) -> None:
    # Through the ORM object: capture's session may hold the same row, and must see the decision.
    fila = await session.get(MensajeRecibido, mensaje_recibido_id)
    if fila is not None:
        fila.clasificacion, fila.regla = clase, regla[:80]
        await session.flush()


def consulta_supresiones(telefono: str | None, fuente: str | None) -> Select[Any]:
    stmt = select(Supresion)
    if telefono:
        stmt = stmt.where(Supresion.telefono.contains(telefono, autoescape=True))
    if fuente:
        stmt = stmt.where(Supresion.fuente == fuente)
    return stmt


async def listar_supresiones(
    session: AsyncSession, *, telefono: str | None, fuente: str | None, limite: int, desplazamiento: int
) -> tuple[list[Supresion], int]:
    base = consulta_supresiones(telefono, fuente)
    total = await session.scalar(select(func.count()).select_from(base.subquery())) or 0
    filas = await session.scalars(base.order_by(Supresion.id.desc()).limit(limite).offset(desplazamiento))
    return list(filas.all()), int(total)


async def todas_las_supresiones(session: AsyncSession, fuente: str | None) -> list[Supresion]:
    return list((await session.scalars(consulta_supresiones(None, fuente).order_by(Supresion.id))).all())


def _filas(resultado: Any) -> int:
    """Rows an UPDATE/DELETE touched (a CursorResult's rowcount)."""
    return int(getattr(resultado, "rowcount", 0) or 0)


# ---- ARCO --------------------------------------------------------------------------------------


async def contactos_de_telefono(session: AsyncSession, telefono: str) -> list[Contacto]:
    return list((await session.scalars(select(Contacto).where(Contacto.telefono == telefono))).all())


async def identificadores_de(session: AsyncSession, contacto_ids: Sequence[int]) -> list[IdentificadorContacto]:
    if not contacto_ids:
        return []
    stmt = select(IdentificadorContacto).where(IdentificadorContacto.contacto_id.in_(list(contacto_ids)))
    return list((await session.scalars(stmt)).all())


def _de_la_persona_enviados(telefono: str, contacto_ids: Sequence[int]) -> Any:
    condiciones = [MensajeEnviado.numero_destino == telefono]
    if contacto_ids:
        condiciones.append(MensajeEnviado.contacto_id.in_(list(contacto_ids)))
    return or_(*condiciones)


def _de_la_persona_recibidos(telefono: str, contacto_ids: Sequence[int]) -> Any:
    condiciones = [MensajeRecibido.numero_origen == telefono]
    if contacto_ids:
        condiciones.append(MensajeRecibido.contacto_id.in_(list(contacto_ids)))
    return or_(*condiciones)


async def mensajes_enviados_de(
    session: AsyncSession, telefono: str, contacto_ids: Sequence[int]
) -> list[MensajeEnviado]:
    stmt = select(MensajeEnviado).where(_de_la_persona_enviados(telefono, contacto_ids)).order_by(MensajeEnviado.id)
    return list((await session.scalars(stmt)).all())


async def mensajes_recibidos_de(
    session: AsyncSession, telefono: str, contacto_ids: Sequence[int]
) -> list[MensajeRecibido]:
    stmt = select(MensajeRecibido).where(_de_la_persona_recibidos(telefono, contacto_ids)).order_by(MensajeRecibido.id)
    return list((await session.scalars(stmt)).all())


async def eventos_de(session: AsyncSession, mensaje_ids: Sequence[int]) -> list[EventoEntrega]:
    if not mensaje_ids:
        return []
    stmt = select(EventoEntrega).where(EventoEntrega.mensaje_id.in_(list(mensaje_ids))).order_by(EventoEntrega.id)
    return list((await session.scalars(stmt)).all())


async def anonimizar_persona(session: AsyncSession, telefono: str, contacto_ids: Sequence[int]) -> dict[str, int]:
    """Erase the person's data everywhere it is stored; rows stay (counts and reports keep adding up)."""
    enviados = await session.execute(
        update(MensajeEnviado)
        .where(_de_la_persona_enviados(telefono, contacto_ids))
        .values(mensaje=None, numero_destino=None, destino_jid=None, medio=null())
    )
    recibidos = await session.execute(
        update(MensajeRecibido)
        .where(_de_la_persona_recibidos(telefono, contacto_ids))
        .values(mensaje=None, numero_origen=None, chat_jid=None, medio=null())
    )
    identificadores = 0
    if contacto_ids:
        borrados = await session.execute(
            delete(IdentificadorContacto).where(IdentificadorContacto.contacto_id.in_(list(contacto_ids)))
        )
        identificadores = _filas(borrados)
    for contacto_id in contacto_ids:
        await session.execute(
            update(Contacto)
            .where(Contacto.id == contacto_id)
            .values(
                nombre=None,
                # The phone column is unique and required: a placeholder that can never be dialled.
                telefono=f"anonimo-{contacto_id}",
                telefono_wa=None,
                estado_mx=None,
                zona_horaria=None,
                datos_credito={},
                estado="anonimizado",
                consentimiento_fuente=None,
                consentimiento_at=None,
                consentimiento_evidencia=None,
            )
        )
    return {
        "contactos": len(contacto_ids),
        "identificadores": identificadores,
        "mensajes_enviados": _filas(enviados),
        "mensajes_recibidos": _filas(recibidos),
    }


# ---- retention ---------------------------------------------------------------------------------


async def borrar_cuerpos_antiguos(session: AsyncSession, antes_de: datetime, lote: int) -> tuple[int, int]:
    """Clear at most `lote` bodies older than `antes_de` in each table: (sent, received) cleared."""
    ids_enviados = (
        select(MensajeEnviado.id)
        .where(
            MensajeEnviado.created_at < antes_de,
            or_(MensajeEnviado.mensaje.is_not(None), MensajeEnviado.medio.is_not(None)),
            MensajeEnviado.estado.in_(sorted(FINALES)),
        )
        .limit(lote)
        .scalar_subquery()
    )
    enviados = await session.execute(
        update(MensajeEnviado)
        .where(MensajeEnviado.id.in_(ids_enviados))
        .values(mensaje=None, medio=null())
        .execution_options(synchronize_session=False)
    )
    ids_recibidos = (
        select(MensajeRecibido.id)
        .where(
            MensajeRecibido.recibido_at < antes_de,
            or_(MensajeRecibido.mensaje.is_not(None), MensajeRecibido.medio.is_not(None)),
        )
        .limit(lote)
        .scalar_subquery()
    )
    recibidos = await session.execute(
        update(MensajeRecibido)
        .where(MensajeRecibido.id.in_(ids_recibidos))
        .values(mensaje=None, medio=null())
        .execution_options(synchronize_session=False)
    )
    return _filas(enviados), _filas(recibidos)
