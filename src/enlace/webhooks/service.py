"""Webhook decisions: subscriptions, one delivery attempt (signed, logged, never repeated after success), replay."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import datetime

import httpx
import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from enlace.comun.eventos import WebhookPrueba
from enlace.db.sesion import al_confirmar
from enlace.errores import Conflicto, NoEncontrado
from enlace.reloj import Reloj
from enlace.tiempo_real import outbox
from enlace.webhooks import repository as repo
from enlace.webhooks.destinos import DestinoProhibido
from enlace.webhooks.firma import (
    ENCABEZADO_ENTREGA,
    ENCABEZADO_EVENTO,
    MAX_INTENTOS,
    encabezados_firma,
    generar_secreto,
    retraso_reintento,
)
from enlace.webhooks.models import EntregaWebhook, SuscripcionWebhook
from enlace.webhooks.schemas import SuscripcionActualizar, SuscripcionCrear

log = structlog.get_logger(__name__)

TIEMPO_LIMITE_S = 10.0
ENCABEZADO_EVENTO_ID = "X-Enlace-Evento-Id"


@dataclass(frozen=True, slots=True)
class Resultado:
    """What one call to `intentar_entrega` did: entregada | reintentar | agotada | ya_resuelta | no_vence | ocupada."""

    estado: str
    proximo_intento_at: datetime | None = None
    status_http: int | None = None


# ---- subscriptions -------------------------------------------------------------------------------


async def crear_suscripcion(session: AsyncSession, datos: SuscripcionCrear) -> SuscripcionWebhook:
    fila = SuscripcionWebhook(
        url=datos.url, eventos=datos.eventos, descripcion=datos.descripcion, secreto=generar_secreto(), activa=True
    )
    session.add(fila)
    await session.flush()
    return fila


async def actualizar_suscripcion(
    session: AsyncSession, suscripcion_id: int, datos: SuscripcionActualizar
) -> SuscripcionWebhook:
    fila = await obtener_suscripcion(session, suscripcion_id)
    for campo, valor in datos.model_dump(exclude_none=True).items():
        setattr(fila, campo, valor)
    await session.flush()
    return fila


async def borrar_suscripcion(session: AsyncSession, suscripcion_id: int) -> None:
    await session.delete(await obtener_suscripcion(session, suscripcion_id))


async def obtener_suscripcion(session: AsyncSession, suscripcion_id: int) -> SuscripcionWebhook:
    fila = await repo.obtener_suscripcion(session, suscripcion_id)
    if fila is None:
        raise NoEncontrado("La suscripción de webhook no existe.")
    return fila


async def probar(session: AsyncSession, suscripcion_id: int, ahora: datetime) -> None:
    """Queue a `webhook.prueba` delivery for this subscription only (through the same outbox path)."""
    fila = await obtener_suscripcion(session, suscripcion_id)
    if not fila.activa:
        raise Conflicto("La suscripción está desactivada; actívala para probarla.")
    evento_id = str(uuid.uuid4())
    entrega = EntregaWebhook(
        suscripcion_id=fila.id,
        evento="webhook.prueba",
        evento_id=evento_id,
        cuerpo=outbox.cuerpo_evento("webhook.prueba", WebhookPrueba(suscripcion_id=fila.id).datos(), evento_id, ahora),
        estado="pendiente",
        intentos=0,
        proximo_intento_at=ahora,
    )
    session.add(entrega)
    await session.flush()
    _encolar_tras_commit(session, [entrega.id])


def _encolar_tras_commit(session: AsyncSession, ids: list[int]) -> None:
    if outbox.al_crear_entregas is not None:
        encolar = outbox.al_crear_entregas
        al_confirmar(session, lambda: encolar(ids))


async def reenviar(session: AsyncSession, entrega_id: int, ahora: datetime) -> EntregaWebhook:
    """Replay: a new delivery of the same bytes (same event id, so the CRM can tell it is a repeat)."""
    original = await repo.obtener_entrega(session, entrega_id)
    if original is None:
        raise NoEncontrado("La entrega no existe.")
    copia = EntregaWebhook(
        suscripcion_id=original.suscripcion_id,
        evento=original.evento,
        evento_id=original.evento_id,
        cuerpo=original.cuerpo,
        estado="pendiente",
        intentos=0,
        proximo_intento_at=ahora,
        reenvio_de_id=original.id,
    )
    session.add(copia)
    await session.flush()
    _encolar_tras_commit(session, [copia.id])
    return copia


# ---- one delivery attempt ------------------------------------------------------------------------


async def intentar_entrega(
    fabrica: async_sessionmaker[AsyncSession],
    entrega_id: int,
    reloj: Reloj,
    http: httpx.AsyncClient,
) -> Resultado:
    """Try delivery `entrega_id` once, if it is due.

    The row stays locked (FOR UPDATE) from the check to the recorded outcome, so two workers never
    post the same delivery at once, and a delivery marked `entregada` is never posted again.
    """
    async with fabrica() as session:
        reclamada = await repo.reclamar_entrega(session, entrega_id)
        if reclamada is None:
            existe = await repo.existe_entrega(session, entrega_id)
            return Resultado("ocupada" if existe else "ya_resuelta")
        entrega, suscripcion = reclamada
        ahora = reloj.ahora()
        if entrega.estado != "pendiente":
            return Resultado("ya_resuelta")
        if entrega.proximo_intento_at is not None and entrega.proximo_intento_at > ahora:
            return Resultado("no_vence", entrega.proximo_intento_at)
        cuerpo = entrega.cuerpo.encode("utf-8")
        cabeceras = {
            "Content-Type": "application/json",
            "User-Agent": "Enlace-Webhooks/1",
            ENCABEZADO_EVENTO: entrega.evento,
            ENCABEZADO_EVENTO_ID: str(entrega.evento_id),
            ENCABEZADO_ENTREGA: str(entrega.id),
            **encabezados_firma(suscripcion.secreto, cuerpo, ahora),
        }
        status: int | None = None
        error: str | None = None
        inicio = time.perf_counter()  # latency figure for the log, not a domain time
        if not suscripcion.activa:
            error = "la suscripción está desactivada"
        else:
            try:
                respuesta = await http.post(suscripcion.url, content=cuerpo, headers=cabeceras, timeout=TIEMPO_LIMITE_S)
                status = respuesta.status_code
                if not 200 <= status < 300:
                    error = f"el receptor respondió {status}"
            except DestinoProhibido as exc:
                error = str(exc)  # never the resolved address nor anything the destination said
            except httpx.HTTPError as exc:
                error = f"{type(exc).__name__}: {exc}"[:500] or "error de red"
        duracion_ms = int((time.perf_counter() - inicio) * 1000)
        entrega.intentos += 1
        repo.agregar_intento(
            session,
            entrega_id=entrega.id,
            numero=entrega.intentos,
            at=ahora,
            status_http=status,
            error=error,
            duracion_ms=duracion_ms,
        )
        entrega.ultimo_status = status
        entrega.ultimo_error = error
        if error is None:
            entrega.estado = "entregada"
            entrega.entregada_at = ahora
            entrega.proximo_intento_at = None
            resultado = Resultado("entregada", status_http=status)
        elif entrega.intentos >= MAX_INTENTOS or not suscripcion.activa:
            entrega.estado = "agotada"
            entrega.proximo_intento_at = None
            resultado = Resultado("agotada", status_http=status)
        else:
            entrega.proximo_intento_at = ahora + retraso_reintento(entrega.intentos)
            resultado = Resultado("reintentar", entrega.proximo_intento_at, status)
        await session.commit()
    log.info("webhook_intento", entrega=entrega_id, resultado=resultado.estado, status=status, ms=duracion_ms)
    return resultado
