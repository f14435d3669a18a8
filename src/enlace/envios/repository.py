"""SQL of the sending engine: profiles, safety stops, and the dispatcher's claims on the outbox."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from enlace.agentes.models import Agente
from enlace.campanas.models import ParadaSeguridad, PerfilEnvio
from enlace.comun.actor import Actor
from enlace.comun.alcance import condicion_agente
from enlace.mensajes.estados import SALIDOS
from enlace.mensajes.models import MensajeEnviado
from enlace.mensajes.repository import transicionar, transicionar_uno


async def listar_perfiles(session: AsyncSession) -> list[PerfilEnvio]:
    return list((await session.scalars(select(PerfilEnvio).order_by(PerfilEnvio.id))).all())


async def paradas_activas(session: AsyncSession, agente_id: int) -> list[ParadaSeguridad]:
    stmt = select(ParadaSeguridad).where(ParadaSeguridad.agente_id == agente_id, ParadaSeguridad.resuelta_at.is_(None))
    return list((await session.scalars(stmt)).all())


async def levantar_paradas_vencidas(session: AsyncSession, agente_id: int, ahora: datetime) -> list[int]:
    """Resolve the agent's stops whose `hasta` (the end WhatsApp gave, e.g. a timelock's) has passed."""
    stmt = (
        update(ParadaSeguridad)
        .where(
            ParadaSeguridad.agente_id == agente_id,
            ParadaSeguridad.resuelta_at.is_(None),
            ParadaSeguridad.hasta.is_not(None),
            ParadaSeguridad.hasta <= ahora,
        )
        .values(resuelta_at=ahora)
        .returning(ParadaSeguridad.id)
    )
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


async def sesiones_conectadas(session: AsyncSession, nodo_id: int | str) -> list[int]:
    """Agents whose session this node holds and has up (the dispatcher keeps a loop for each)."""
    filas = await session.scalars(
        text("SELECT agente_id FROM sesiones_wa WHERE estado = 'conectada' AND nodo_id = :n"), {"n": nodo_id}
    )
    return list(filas.all())


async def sesion_conectada(session: AsyncSession, agente_id: int, nodo_id: int | str) -> bool:
    estado = await session.scalar(
        text("SELECT estado FROM sesiones_wa WHERE agente_id = :a AND nodo_id = :n"), {"a": agente_id, "n": nodo_id}
    )
    return estado == "conectada"


async def equipo_de_agente(session: AsyncSession, agente_id: int) -> int | None:
    return await session.scalar(select(Agente.equipo_id).where(Agente.id == agente_id))


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
    # The jid WhatsApp's lookup returned for the contact (agent lines; None for official ones).
    jid_resuelto: str | None = None


# Rows sent outside any campaign: an agent's inbox reply, the opt-out confirmation. They are due at once,
# go first, skip campaign pacing, and pass the same gate. A campaign row whose campaign was deleted
# (campana_id set NULL) is none of these and is never sent.
DIRECTAS = "m.campana_id IS NULL AND m.origen IN ('respuesta', 'sistema')"

_SELECT_DUE = """
    SELECT m.id, m.campana_id, m.contacto_id, m.numero_destino, m.destino_jid, m.mensaje, m.mensaje_base,
           m.wa_message_id, m.programado_para, COALESCE(c.zona_horaria, :zona), k.estado_mx, k.zona_horaria,
           m.tipo, m.medio,
           CASE WHEN c.canal = 'oficial' THEN NULL
                ELSE COALESCE(k.telefono_wa,
                              (SELECT p.telefono_wa FROM contactos p WHERE p.telefono = m.numero_destino)) END
      FROM mensajes_enviados m
      LEFT JOIN campanas c ON c.id = m.campana_id
      LEFT JOIN contactos k ON k.id = m.contacto_id
     WHERE m.agente_id = :agente AND m.estado = 'pendiente'
       AND (m.programado_para IS NULL OR m.programado_para <= :ahora)
       AND (c.canal = 'oficial' OR m.contacto_id IS NULL
            OR (k.en_whatsapp AND k.telefono_wa IS NOT NULL AND k.wa_verificado_at >= :vigente))
"""
# ^ An agent line claims a row for a contact only once the contact's number was looked up with WhatsApp
# within the TTL (envios.resolucion) or the person wrote from it (capture stores that jid): campaign rows,
# inbox replies and confirmations alike. A row with no contact (a stranger who wrote) goes to the chat it
# came from.
VIGENCIA_POR_DEFECTO = timedelta(days=30)
_EN_CAMPANA_ACTIVA = " AND c.estado = 'activa'"
_ENVIABLE = f" AND (c.estado = 'activa' OR ({DIRECTAS}))"

# The session's lease, checked in the claiming statement itself: only the node that holds the live lease
# with this fencing token may claim (a node that lost it, or whose token was superseded, claims nothing).
ARRIENDO = """EXISTS (
    SELECT 1 FROM sesiones_wa w
     WHERE w.agente_id = {agente} AND w.nodo_id = :nodo AND w.fencing_token = :token AND w.lease_expira_at > now())"""


def _fila(r: Any) -> FilaDespacho:
    return FilaDespacho(*r)


async def proxima(
    session: AsyncSession, agente_id: int, ahora: datetime, zona: str, *, vigente: datetime | None = None
) -> FilaDespacho | None:
    """Peek the agent's next due row (no lock): replies and confirmations first, then the campaigns'."""
    orden = " ORDER BY m.programado_para NULLS FIRST, m.id LIMIT 1"
    valores = {"agente": agente_id, "ahora": ahora, "zona": zona, "vigente": vigente or ahora - VIGENCIA_POR_DEFECTO}
    for filtro in (f" AND {DIRECTAS}", _EN_CAMPANA_ACTIVA):
        r = (await session.execute(text(_SELECT_DUE + filtro + orden), valores)).first()
        if r is not None:
            return _fila(r)
    return None


async def proximo_programado(session: AsyncSession, agente_id: int) -> datetime | None:
    return await session.scalar(
        text(
            f"""SELECT min(m.programado_para) FROM mensajes_enviados m LEFT JOIN campanas c ON c.id = m.campana_id
                WHERE m.agente_id = :agente AND m.estado = 'pendiente' {_ENVIABLE}"""
        ),
        {"agente": agente_id},
    )


async def arriendo(session: AsyncSession, agente_id: int, nodo_id: str) -> int | None:
    """The fencing token of the agent's session if this node holds its live lease, else None."""
    return await session.scalar(
        text("SELECT fencing_token FROM sesiones_wa WHERE agente_id = :a AND nodo_id = :n AND lease_expira_at > now()"),
        {"a": agente_id, "n": nodo_id},
    )


async def reclamar(
    session: AsyncSession,
    agente_id: int,
    mensaje_id: int,
    ahora: datetime,
    zona: str,
    nodo_id: str,
    token: int,
    *,
    vigente: datetime | None = None,
) -> FilaDespacho | None:
    """Lock that row if it is still due, sendable and this node holds the lease (SKIP LOCKED: never wait)."""
    r = (
        await session.execute(
            text(
                _SELECT_DUE
                + _ENVIABLE
                + " AND m.id = :id AND "
                + ARRIENDO.format(agente="m.agente_id")
                + " FOR UPDATE OF m SKIP LOCKED"
            ),
            {
                "agente": agente_id,
                "ahora": ahora,
                "id": mensaje_id,
                "zona": zona,
                "nodo": nodo_id,
                "token": token,
                "vigente": vigente or ahora - VIGENCIA_POR_DEFECTO,
            },
        )
    ).first()
    return _fila(r) if r else None


async def marcar_enviando(
    session: AsyncSession,
    mensaje_id: int,
    nodo_id: str,
    token: int,
    *,
    intentado_at: datetime,
    mensaje: str,
    destino_jid: str | None = None,
) -> bool:
    """The claim itself: `pendiente` → `enviando`, in the same statement as the lease's fencing check."""
    arriendo_vigente = text(ARRIENDO.format(agente="mensajes_enviados.agente_id")).bindparams(nodo=nodo_id, token=token)
    movidos = await transicionar(
        session,
        "enviando",
        ids=[mensaje_id],
        desde=("pendiente",),
        donde=arriendo_vigente,  # type: ignore[arg-type]
        intentado_at=intentado_at,
        mensaje=mensaje,
        # The row records where it goes: the jid WhatsApp's lookup returned for the number.
        **({"destino_jid": destino_jid} if destino_jid else {}),
    )
    return bool(movidos)


async def arriendo_vigente(session: AsyncSession, agente_id: int, nodo_id: str, token: int) -> bool:
    """Right before handing a claimed row to the engine: does this node still hold the lease?"""
    return bool(
        await session.scalar(
            text("SELECT " + ARRIENDO.format(agente=":agente")),
            {"agente": agente_id, "nodo": nodo_id, "token": token},
        )
    )


async def marcar(session: AsyncSession, mensaje_id: int, estado: str, desde: tuple[str, ...], **valores: Any) -> bool:
    """Move a row only from the states in `desde` (a receipt may already have moved it on)."""
    return await transicionar_uno(session, mensaje_id, estado, desde=desde, **valores)


async def reprogramar(session: AsyncSession, mensaje_id: int, hasta: datetime, *, detalle: str | None = None) -> None:
    """A pending row waits until `hasta` (recipient's hours, frequency cap): same row, same id, later."""
    valores: dict[str, Any] = {"programado_para": hasta}
    if detalle is not None:
        valores["detalle_error"] = detalle
    await session.execute(
        update(MensajeEnviado)
        .where(MensajeEnviado.id == mensaje_id, MensajeEnviado.estado == "pendiente")
        .values(**valores)
        .execution_options(synchronize_session=False)
    )


async def filas_enviando(session: AsyncSession, agente_id: int, antes_de: datetime) -> list[Any]:
    """The agent's rows claimed before `antes_de` and still `enviando` (crash recovery)."""
    filas = await session.execute(
        text(
            "SELECT id, campana_id, destino_jid, numero_destino, wa_message_id, intentado_at FROM mensajes_enviados"
            " WHERE agente_id = :a AND estado = 'enviando' AND intentado_at < :i"
        ),
        {"a": agente_id, "i": antes_de},
    )
    return list(filas.all())


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
        MensajeEnviado.estado.in_(sorted(SALIDOS)),
    )
    return [m for m in (await session.scalars(stmt)).all() if m is not None]


async def marcar_inciertos(session: AsyncSession, agente_id: int, antes_de: datetime) -> list[tuple[int, int | None]]:
    """Rows left `enviando` by a previous run, with no echo or receipt since: `incierto`, never resent."""
    movidos = await transicionar(
        session,
        "incierto",
        desde=("enviando",),
        donde=and_(MensajeEnviado.agente_id == agente_id, MensajeEnviado.intentado_at < antes_de),
        detalle_error="Sin confirmación tras un reinicio: no se reenvía automáticamente",
    )
    return [(m.id, m.campana_id) for m in movidos]
