"""The compliance gate: the last check before any message to a person leaves, for every agent and engine."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from enlace.carteras.models import Contacto
from enlace.comun.horario import Ventana, revisar_horario, siguiente_permitido, zona_del_contacto
from enlace.cumplimiento.ajustes import AjustesCumplimiento, ajustes_cumplimiento
from enlace.cumplimiento.models import Supresion
from enlace.mensajes.estados import CUENTAN_PARA_TOPE
from enlace.mensajes.models import MensajeEnviado

CodigoBloqueo = Literal["suprimido", "frecuencia", "fuera_de_horario", "no_asignado", "sin_consentimiento"]

# Contact states that mean "never again" even before the suppression row is looked at.
ESTADOS_CONTACTO_VETADOS = ("baja", "anonimizado")


@dataclass(frozen=True, slots=True)
class Bloqueo:
    codigo: CodigoBloqueo
    mensaje: str
    reintentar_en: datetime | None = None  # None: never (suppressed, unassigned, no consent)


def clave_bloqueo(telefono: str) -> int:
    """A stable signed 64-bit key for the phone's advisory lock (same on every node and process)."""
    digest = hashlib.blake2b(f"enlace:telefono:{telefono}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


async def bloquear_telefono(session: AsyncSession, telefono: str) -> None:
    """Serialize everything that decides about one phone until this transaction ends.

    The gate, the pre-send check and an opt-out all take this lock first, so two agents cannot both
    pass the frequency cap for the same person, and an opt-out cannot commit between a check and
    the send it allowed: it waits for that transaction to finish, and everything after it sees it.
    """
    await session.execute(text("SELECT pg_advisory_xact_lock(:clave)"), {"clave": clave_bloqueo(telefono)})


async def bloquear_telefonos(session: AsyncSession, telefonos: list[str]) -> None:
    """Lock several phones in a fixed order (sorted keys), so two callers never deadlock."""
    for clave in sorted({clave_bloqueo(t) for t in telefonos}):
        await session.execute(text("SELECT pg_advisory_xact_lock(:clave)"), {"clave": clave})


async def _supresion(session: AsyncSession, telefono: str) -> Supresion | None:
    return await session.scalar(select(Supresion).where(Supresion.telefono == telefono))


def _bloqueo_suprimido() -> Bloqueo:
    return Bloqueo("suprimido", "El número pidió no ser contactado o está en una lista de exclusión (REPEP/REUS).")


async def revisar_suprimido(session: AsyncSession, *, telefono: str, mensaje_id: int | None = None) -> Bloqueo | None:
    """Suppression only, under the phone lock. The dispatcher calls it right before `engine.send`.

    Protocol: check, send, COMMIT (releasing the lock), then mark `enviado` in the next transaction.
    An opt-out arriving meanwhile waits for the lock, so it commits after the send, never before it.
    Write nothing while holding the lock: the opt-out's transaction (capture's batch) may already hold
    rows a write would need (report counters, campaign rows), and waiting for them would deadlock.
    `mensaje_id` lets exactly the opt-out confirmation of this suppression through.
    """
    await bloquear_telefono(session, telefono)
    supresion = await _supresion(session, telefono)
    if supresion is not None and not (mensaje_id is not None and supresion.confirmacion_mensaje_id == mensaje_id):
        return _bloqueo_suprimido()
    return None


async def _mensajes_en_ventana(
    session: AsyncSession, telefono: str, desde: datetime, excluir_id: int | None
) -> list[datetime]:
    momento = func.coalesce(MensajeEnviado.intentado_at, MensajeEnviado.enviado_at, MensajeEnviado.created_at)
    stmt = (
        select(momento)
        .where(
            MensajeEnviado.numero_destino == telefono,
            MensajeEnviado.origen == "campana",
            MensajeEnviado.estado.in_(sorted(CUENTAN_PARA_TOPE)),
            momento > desde,
        )
        .order_by(momento.desc())
    )
    if excluir_id is not None:
        stmt = stmt.where(MensajeEnviado.id != excluir_id)
    return list((await session.scalars(stmt)).all())


async def revisar_envio(
    session: AsyncSession,
    *,
    agente_id: int,
    contacto_id: int | None,
    telefono: str,
    campana_id: int | None,
    zona_horaria: str,
    estado_mx: str | None,
    ahora: datetime,
    es_campana: bool,
    mensaje_id: int | None = None,
    ventana: Ventana | None = None,
    ajustes: AjustesCumplimiento | None = None,
) -> Bloqueo | None:
    """None when the message may go now; otherwise why not and, when it is a matter of time, until when.

    Call it inside the transaction that claims the row (it takes the phone's advisory lock, released at
    commit), and mark the row `enviando` in that same transaction: a second agent's claim for the same
    number then waits, and once it runs it counts this row toward the frequency cap.
    `mensaje_id` is the row being claimed (excluded from its own cap; lets the opt-out confirmation
    through); `ventana` is the campaign profile's hours, narrowed to the 07:00–22:00 hard limit.
    """
    del campana_id  # the cap is per person across every campaign and agent, not per campaign
    ajustes = ajustes or await ajustes_cumplimiento(session)
    await bloquear_telefono(session, telefono)
    supresion = await _supresion(session, telefono)
    # The opt-out confirmation answers the person's own request: only the hours apply to it.
    confirmacion = supresion is not None and mensaje_id is not None and supresion.confirmacion_mensaje_id == mensaje_id
    if supresion is not None and not confirmacion:
        return _bloqueo_suprimido()

    contacto = await session.get(Contacto, contacto_id) if contacto_id is not None else None
    zona_contacto: str | None = None
    if contacto is not None:
        if contacto.estado in ESTADOS_CONTACTO_VETADOS and not confirmacion:
            return _bloqueo_suprimido()
        estado_mx = estado_mx or contacto.estado_mx
        zona_contacto = contacto.zona_horaria
    if confirmacion:
        es_campana = False
    if es_campana:
        if contacto is None or contacto.agente_id != agente_id:
            return Bloqueo("no_asignado", "El contacto ya no está asignado a este agente.")
        if ajustes.requerir_consentimiento and contacto.consentimiento_at is None:
            return Bloqueo(
                "sin_consentimiento",
                "El contacto no tiene consentimiento registrado y la configuración lo exige para campañas.",
            )

    limites = Ventana.de_horas(ajustes.hora_min_contacto, ajustes.hora_max_contacto).y(ventana)
    tz = zona_del_contacto(zona_contacto, estado_mx, zona_horaria)

    if es_campana:
        dias = timedelta(days=ajustes.frecuencia_dias)
        previos = await _mensajes_en_ventana(session, telefono, ahora - dias, mensaje_id)
        if len(previos) >= ajustes.frecuencia_max_mensajes:
            # The cap frees up when the N-th most recent message leaves the window (0 = never: no campaigns).
            libre = (previos[ajustes.frecuencia_max_mensajes - 1] + dias) if ajustes.frecuencia_max_mensajes else None
            return Bloqueo(
                "frecuencia",
                f"Este número ya recibió {len(previos)} mensaje(s) de campaña en los últimos "
                f"{ajustes.frecuencia_dias} días (máximo {ajustes.frecuencia_max_mensajes}).",
                siguiente_permitido(libre, tz, limites) if libre is not None else None,
            )

    siguiente = revisar_horario(ahora, tz, limites)
    if siguiente is not None:
        local = ahora.astimezone(tz)
        return Bloqueo(
            "fuera_de_horario",
            f"Fuera del horario de contacto ({limites.describir()} hora local del "
            f"destinatario; allá son las {local:%H:%M}).",
            siguiente,
        )
    return None
