"""Official channel decisions: webhook verification and processing, hand-off of a contact to an agent."""

from __future__ import annotations

import hmac
import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from enlace.agentes.models import Agente
from enlace.carteras.models import Contacto
from enlace.comun.actor import Actor
from enlace.comun.alcance import puede_ver_agente
from enlace.comun.auditoria import registrar_auditoria
from enlace.errores import EntradaInvalida, NoAutenticado, NoEncontrado, Prohibido
from enlace.motores.cloud_api.config import NumeroOficial
from enlace.motores.cloud_api.webhook import Lectura, firma_valida, leer_webhook
from enlace.oficial.schemas import TransferenciaSalida
from enlace.tiempo_real import emitir, salas_de_agente


def verificar_suscripcion(numeros: list[NumeroOficial], modo: str | None, token: str | None) -> bool:
    return (
        modo == "subscribe" and bool(token) and any(hmac.compare_digest(n.verify_token, token or "") for n in numeros)
    )


def validar_firma(numeros: list[NumeroOficial], cuerpo: bytes, cabecera: str | None) -> None:
    """401 when unsigned, 403 when the signature matches no configured app secret. Nothing is parsed before."""
    if not cabecera:
        raise NoAutenticado("Falta la cabecera X-Hub-Signature-256.", codigo="firma_ausente")
    secretos = {n.app_secret for n in numeros if n.firma_webhook and n.app_secret}
    if not any(firma_valida(secreto, cuerpo, cabecera) for secreto in secretos):
        raise Prohibido("La firma X-Hub-Signature-256 no es válida.", codigo="firma_invalida")


def linea_bsp(numeros: list[NumeroOficial], clave: str) -> NumeroOficial:
    """BSPs that forward webhooks unsigned post to a secret URL: the line's verify token, compared in constant time."""
    encontrada = None
    for n in numeros:
        if not n.firma_webhook and hmac.compare_digest(n.verify_token.encode(), clave.encode()):
            encontrada = n
    if encontrada is None:
        raise Prohibido("La URL del webhook no corresponde a ninguna línea de proveedor.", codigo="firma_invalida")
    return encontrada


def leer(numeros: list[NumeroOficial], cuerpo: bytes) -> Lectura:
    try:
        payload = json.loads(cuerpo)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise EntradaInvalida("El cuerpo del webhook no es JSON válido.") from None
    if not isinstance(payload, dict):
        raise EntradaInvalida("El cuerpo del webhook debe ser un objeto JSON.")
    return leer_webhook(payload, {n.phone_number_id: n for n in numeros})


async def transferir_contacto(
    session: AsyncSession, actor: Actor, *, contacto_id: int, agente_id: int, nota: str | None
) -> TransferenciaSalida:
    """Hand a contact (typically one who answered an official-line campaign) to an agent.

    The contact keeps its whole history (messages are tied to the contact); from now on it belongs
    to the agent, who continues the conversation on its own channel.
    """
    if actor.es_agente:
        raise Prohibido("Sólo supervisores y administradores transfieren contactos.")
    contacto = await session.scalar(select(Contacto).where(Contacto.id == contacto_id).with_for_update())
    if contacto is None or not (
        contacto.agente_id is None or await puede_ver_agente(session, actor, contacto.agente_id)
    ):
        raise NoEncontrado("El contacto no existe o no tienes acceso a él.")
    destino = await session.get(Agente, agente_id)
    if destino is None or not await puede_ver_agente(session, actor, agente_id):
        raise NoEncontrado("El agente no existe o no tienes acceso a él.")
    if not destino.activo:
        raise EntradaInvalida(f"agenteId: el agente {agente_id} está inactivo.")
    anterior = contacto.agente_id
    contacto.agente_id = agente_id
    await registrar_auditoria(
        session,
        actor,
        "contacto.transferir",
        objeto_tipo="contacto",
        objeto_id=contacto_id,
        detalle={"de": anterior, "a": agente_id, "nota": nota},
    )
    datos: dict[str, Any] = {"contacto_id": contacto_id, "de": anterior, "a": agente_id}
    salas = await salas_de_agente(session, agente_id)
    if anterior is not None:
        salas += await salas_de_agente(session, anterior)
    emitir(session, "contacto.transferido", datos, salas)
    return TransferenciaSalida(contacto_id=contacto_id, agente_anterior_id=anterior, agente_id=agente_id)
