"""HTTP routes of the inbox: conversations, their messages, 1:1 replies, mark as read."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request

from enlace.comun.alcances_token import requiere
from enlace.conversaciones import service
from enlace.conversaciones.schemas import (
    AlcanceEntrada,
    AlcanceSalida,
    ConversacionSalida,
    LeidaSalida,
    MensajeConversacion,
    ResponderEntrada,
)
from enlace.dependencias import ActorDep, NucleoDep, SessionBD, ip_cliente

router = APIRouter(prefix="/api", tags=["conversaciones"], dependencies=[requiere("conversaciones")])


@router.get("/captura/alcance", response_model=AlcanceSalida)
async def alcance_captura(actor: ActorDep, session: SessionBD, nucleo: NucleoDep) -> AlcanceSalida:
    return await service.alcance(session, actor, nucleo.settings, nucleo.reloj.ahora())


@router.put("/captura/alcance", response_model=AlcanceSalida)
async def fijar_alcance_captura(
    datos: AlcanceEntrada, request: Request, actor: ActorDep, session: SessionBD, nucleo: NucleoDep
) -> AlcanceSalida:
    return await service.fijar_alcance(session, actor, nucleo, datos, ip_cliente(request))


@router.get("/conversaciones", response_model=list[ConversacionSalida])
async def listar_conversaciones(
    actor: ActorDep,
    session: SessionBD,
    agente_id: int | None = None,
    solo_no_leidas: bool = False,
    limite: int = Query(default=50, ge=1, le=200),
    antes: datetime | None = None,
) -> list[ConversacionSalida]:
    return await service.listar(
        session, actor, agente_id=agente_id, solo_no_leidas=solo_no_leidas, limite=limite, antes=antes
    )


@router.get("/conversaciones/{contacto_id}/mensajes", response_model=list[MensajeConversacion])
async def mensajes_conversacion(
    contacto_id: int,
    actor: ActorDep,
    session: SessionBD,
    limite: int = Query(default=100, ge=1, le=500),
    antes: datetime | None = None,
) -> list[MensajeConversacion]:
    return await service.mensajes(session, actor, contacto_id, limite=limite, antes=antes)


@router.post("/conversaciones/{contacto_id}/responder", response_model=MensajeConversacion, status_code=202)
async def responder(
    contacto_id: int,
    datos: ResponderEntrada,
    actor: ActorDep,
    session: SessionBD,
    nucleo: NucleoDep,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> MensajeConversacion:
    """Queue a reply; repeat the request with the same `Idempotency-Key` and it is sent only once."""
    return await service.responder(session, actor, nucleo, contacto_id, datos, idempotency_key)


@router.post("/conversaciones/{contacto_id}/leida", response_model=LeidaSalida)
async def marcar_leida(contacto_id: int, actor: ActorDep, session: SessionBD, nucleo: NucleoDep) -> LeidaSalida:
    return await service.marcar_leida(session, actor, contacto_id, nucleo.reloj.ahora())
