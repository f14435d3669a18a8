"""HTTP routes of the official channel: Meta's webhook (verification + signed events) and hand-off."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from fastapi.responses import PlainTextResponse

from enlace.comun.alcance import exigir_rol
from enlace.comun.alcances_token import requiere
from enlace.dependencias import ActorDep, NucleoDep, SessionBD
from enlace.errores import Prohibido
from enlace.motores.cloud_api.config import leer_numeros
from enlace.oficial import service
from enlace.oficial.schemas import NumeroOficialSalida, Transferencia, TransferenciaSalida, WebhookSalida

router = APIRouter(prefix="/api", tags=["oficial"], dependencies=[requiere("oficial")])


@router.get("/webhooks/whatsapp", response_class=PlainTextResponse)
async def verificar_webhook(
    nucleo: NucleoDep,
    modo: str | None = Query(default=None, alias="hub.mode"),
    token: str | None = Query(default=None, alias="hub.verify_token"),
    reto: str | None = Query(default=None, alias="hub.challenge"),
) -> PlainTextResponse:
    """Meta's subscription handshake: echo hub.challenge when the verify token matches."""
    if not service.verificar_suscripcion(leer_numeros(nucleo.settings), modo, token):
        raise Prohibido("El token de verificación no coincide.", codigo="verificacion_invalida")
    return PlainTextResponse(reto or "")


@router.post("/webhooks/whatsapp", response_model=WebhookSalida)
async def recibir_webhook(request: Request, nucleo: NucleoDep) -> WebhookSalida:
    """Signed events from the Cloud API; written by the capture service before answering 200."""
    numeros = leer_numeros(nucleo.settings)
    cuerpo = await request.body()
    service.validar_firma(numeros, cuerpo, request.headers.get("x-hub-signature-256"))
    lectura = service.leer(numeros, cuerpo)
    eventos = service.con_ids_propios(lectura)
    if nucleo.captura is not None:
        # Synchronous: Meta retries a webhook until it gets 200, so answer only once it is committed.
        await nucleo.captura.procesar(eventos)
    else:
        for evento in eventos:
            await nucleo.recibir_evento(evento)
    return WebhookSalida(recibidos=len(eventos), ignorados=len(lectura.numeros_desconocidos))


@router.get("/oficial/numeros", response_model=list[NumeroOficialSalida])
async def listar_numeros(actor: ActorDep, nucleo: NucleoDep) -> list[NumeroOficialSalida]:
    exigir_rol(actor, "admin")
    return [
        NumeroOficialSalida(agente_id=n.agente_id, phone_number_id=n.phone_number_id, numero=n.numero)
        for n in leer_numeros(nucleo.settings)
    ]


@router.post("/oficial/transferir", response_model=TransferenciaSalida)
async def transferir(datos: Transferencia, actor: ActorDep, session: SessionBD) -> TransferenciaSalida:
    """Hand a contact to an agent; the conversation continues on the agent's channel, same history."""
    return await service.transferir_contacto(
        session, actor, contacto_id=datos.contactoId, agente_id=datos.agenteId, nota=datos.nota
    )
