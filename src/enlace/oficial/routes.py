"""HTTP routes of the official channel: Meta's webhook, the lines admins manage, prices, costs and hand-off."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

import httpx
from fastapi import APIRouter, Query, Request
from fastapi.responses import PlainTextResponse
from sqlalchemy import select

from enlace.campanas.models import ParadaSeguridad
from enlace.captura.service import TIPOS_EVENTO
from enlace.comun.alcance import exigir_rol
from enlace.comun.alcances_token import requiere
from enlace.db.sesion import al_confirmar, transaccion
from enlace.dependencias import ActorDep, NucleoDep, SessionBD
from enlace.errores import Prohibido
from enlace.motores.base import Evento
from enlace.motores.cloud_api.config import NumeroOficial
from enlace.motores.cloud_api.webhook import Lectura
from enlace.oficial import admin, eventos, lineas, service
from enlace.oficial.schemas import (
    CostosSalida,
    HistorialSalida,
    LineaActualizar,
    LineaCrear,
    LineaSalida,
    NumeroOficialSalida,
    SincronizacionSalida,
    Tarifa,
    Transferencia,
    TransferenciaSalida,
    WebhookSalida,
)
from enlace.sesiones.cifrado import Llavero

router = APIRouter(prefix="/api", tags=["oficial"], dependencies=[requiere("oficial")])


def _llavero(nucleo: Any) -> Llavero:
    llavero = getattr(nucleo, "_llavero_oficial", None)
    if llavero is None:
        llavero = Llavero.desde_settings(nucleo.settings)
        nucleo._llavero_oficial = llavero
    return llavero


async def _numeros(nucleo: Any) -> list[NumeroOficial]:
    async with nucleo.fabrica() as s:
        return await lineas.todos_los_numeros(s, _llavero(nucleo), nucleo.settings)


def _recargar_motor(session: Any, nucleo: Any) -> None:
    """After commit, the running engine serves the new set of lines (no restart)."""
    oficial = getattr(getattr(nucleo, "_motor", None), "oficial", None)
    if oficial is not None and hasattr(oficial, "recargar_desde_bd"):
        al_confirmar(session, oficial.recargar_desde_bd)


async def _parar(nucleo: Any) -> Any:
    despachador = nucleo.despachador

    async def parar(s: Any, agente_id: int, motivo: str, detalle: str) -> None:
        if despachador is not None:
            await despachador.parar(s, agente_id, motivo, detalle)
            return
        existente = await s.scalar(
            select(ParadaSeguridad.id).where(
                ParadaSeguridad.agente_id == agente_id,
                ParadaSeguridad.motivo == motivo,
                ParadaSeguridad.resuelta_at.is_(None),
            )
        )
        if existente is None:
            s.add(ParadaSeguridad(agente_id=agente_id, motivo=motivo, detalle=detalle))

    return parar


async def _procesar(nucleo: Any, lectura: Lectura) -> int:
    """Capture first (messages, receipts), then the official facts, then line stops; all before the 200."""
    async with transaccion(nucleo.fabrica) as s:
        eventos_captura: list[Evento] = await eventos.con_ids_propios(s, lectura)
    if nucleo.captura is not None:
        # Synchronous: Meta retries a webhook until it gets 200, so answer only once it is committed.
        await nucleo.captura.procesar(eventos_captura)
    else:
        for evento in eventos_captura:
            await nucleo.recibir_evento(evento)
    async with transaccion(nucleo.fabrica) as s:
        await eventos.aplicar_lectura(s, lectura, nucleo.reloj.ahora(), await _parar(nucleo))
    for evento in lectura.de_linea:
        if not isinstance(evento, TIPOS_EVENTO):
            await nucleo.recibir_evento(evento)
    return len(eventos_captura) + len(lectura.cuenta)


@router.get("/webhooks/whatsapp", response_class=PlainTextResponse)
async def verificar_webhook(
    nucleo: NucleoDep,
    modo: str | None = Query(default=None, alias="hub.mode"),
    token: str | None = Query(default=None, alias="hub.verify_token"),
    reto: str | None = Query(default=None, alias="hub.challenge"),
) -> PlainTextResponse:
    """Meta's subscription handshake: echo hub.challenge when the verify token matches."""
    if not service.verificar_suscripcion(await _numeros(nucleo), modo, token):
        raise Prohibido("El token de verificación no coincide.", codigo="verificacion_invalida")
    return PlainTextResponse(reto or "")


@router.post("/webhooks/whatsapp", response_model=WebhookSalida)
async def recibir_webhook(request: Request, nucleo: NucleoDep) -> WebhookSalida:
    """Signed events from the Cloud API; written by the capture service before answering 200."""
    numeros = await _numeros(nucleo)
    cuerpo = await request.body()
    service.validar_firma(numeros, cuerpo, request.headers.get("x-hub-signature-256"))
    lectura = service.leer([n for n in numeros if n.firma_webhook], cuerpo)
    recibidos = await _procesar(nucleo, lectura)
    return WebhookSalida(recibidos=recibidos, ignorados=len(lectura.numeros_desconocidos))


@router.post("/webhooks/whatsapp/bsp/{clave}", response_model=WebhookSalida)
async def recibir_webhook_bsp(clave: str, request: Request, nucleo: NucleoDep) -> WebhookSalida:
    """A BSP (360dialog) forwards Cloud API payloads unsigned: the secret URL names and authenticates the line."""
    linea = service.linea_bsp(await _numeros(nucleo), clave)
    lectura = service.leer([linea], await request.body())
    recibidos = await _procesar(nucleo, lectura)
    return WebhookSalida(recibidos=recibidos, ignorados=len(lectura.numeros_desconocidos))


@router.get("/oficial/numeros", response_model=list[NumeroOficialSalida])
async def listar_numeros(actor: ActorDep, nucleo: NucleoDep) -> list[NumeroOficialSalida]:
    exigir_rol(actor, "admin")
    return [
        NumeroOficialSalida(agente_id=n.agente_id, phone_number_id=n.phone_number_id, numero=n.numero)
        for n in await _numeros(nucleo)
    ]


# ---- lines ---------------------------------------------------------------------------------------------


@router.get("/oficial/lineas", response_model=list[LineaSalida])
async def listar_lineas(actor: ActorDep, session: SessionBD) -> list[LineaSalida]:
    return await admin.listar(session, actor)


@router.post("/oficial/lineas", response_model=LineaSalida, status_code=201)
async def crear_linea(datos: LineaCrear, actor: ActorDep, session: SessionBD, nucleo: NucleoDep) -> LineaSalida:
    linea = await admin.crear(
        session, actor, datos, _llavero(nucleo), nucleo.reloj.ahora(), permitir_local=not nucleo.settings.es_produccion
    )
    _recargar_motor(session, nucleo)
    return await admin.salida(session, linea)


@router.patch("/oficial/lineas/{linea_id}", response_model=LineaSalida)
async def actualizar_linea(
    linea_id: int, datos: LineaActualizar, actor: ActorDep, session: SessionBD, nucleo: NucleoDep
) -> LineaSalida:
    linea = await admin.actualizar(
        session,
        actor,
        linea_id,
        datos,
        _llavero(nucleo),
        nucleo.reloj.ahora(),
        permitir_local=not nucleo.settings.es_produccion,
    )
    _recargar_motor(session, nucleo)
    return await admin.salida(session, linea)


@router.post("/oficial/lineas/{linea_id}/verificar", response_model=LineaSalida)
async def verificar_linea(linea_id: int, actor: ActorDep, session: SessionBD, nucleo: NucleoDep) -> LineaSalida:
    linea = await admin.verificar(session, actor, linea_id, _llavero(nucleo), nucleo.reloj.ahora())
    return await admin.salida(session, linea)


@router.get("/oficial/lineas/{linea_id}/historial", response_model=list[HistorialSalida])
async def historial_linea(linea_id: int, actor: ActorDep, session: SessionBD) -> list[HistorialSalida]:
    return await admin.historial(session, actor, linea_id)


# ---- prices, costs, templates ----------------------------------------------------------------------------


@router.get("/oficial/tarifas", response_model=list[Tarifa])
async def listar_tarifas(actor: ActorDep, session: SessionBD) -> list[Tarifa]:
    return await admin.tarifas(session, actor)


@router.put("/oficial/tarifas", response_model=list[Tarifa])
async def fijar_tarifas(datos: list[Tarifa], actor: ActorDep, session: SessionBD, nucleo: NucleoDep) -> list[Tarifa]:
    return await admin.fijar_tarifas(session, actor, datos, nucleo.reloj.ahora())


@router.get("/oficial/costos", response_model=CostosSalida)
async def costos(
    actor: ActorDep,
    session: SessionBD,
    por: Literal["campana", "mes"] = "campana",
    desde: datetime | None = None,
    hasta: datetime | None = None,
) -> CostosSalida:
    return await admin.costos(session, actor, por=por, desde=desde, hasta=hasta)


@router.post("/oficial/plantillas/sincronizar", response_model=SincronizacionSalida)
async def sincronizar_plantillas(actor: ActorDep, session: SessionBD, nucleo: NucleoDep) -> SincronizacionSalida:
    """Refresh every official template's review status from Meta (besides the webhooks)."""
    numeros = await _numeros(nucleo)
    async with httpx.AsyncClient(timeout=httpx.Timeout(15.0)) as cliente:
        return await admin.sincronizar_plantillas(session, actor, numeros, nucleo.reloj.ahora(), cliente)


# ---- hand-off ----------------------------------------------------------------------------------------------


@router.post("/oficial/transferir", response_model=TransferenciaSalida)
async def transferir(datos: Transferencia, actor: ActorDep, session: SessionBD) -> TransferenciaSalida:
    """Hand a contact to an agent; the conversation continues on the agent's channel, same history."""
    return await service.transferir_contacto(
        session, actor, contacto_id=datos.contactoId, agente_id=datos.agenteId, nota=datos.nota
    )
