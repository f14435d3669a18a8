"""Inbox decisions: list, read, mark read, and the 1:1 reply (row first, compliance gate, send after commit)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from enlace.captura import repository as repo_captura
from enlace.comun.actor import Actor
from enlace.comun.alcance import exigir_rol, puede_ver_agente
from enlace.comun.auditoria import registrar_auditoria
from enlace.comun.telefonos import jid_para_enviar
from enlace.conversaciones import repository as repo
from enlace.conversaciones.schemas import (
    AlcanceEntrada,
    AlcanceSalida,
    ConversacionSalida,
    LeidaSalida,
    MensajeConversacion,
    ResponderEntrada,
)
from enlace.cumplimiento.puerta import revisar_envio
from enlace.db.sesion import al_confirmar
from enlace.errores import Conflicto, EntradaInvalida, NoEncontrado
from enlace.mensajes.models import MensajeEnviado
from enlace.mensajes.repository import encolar_directo
from enlace.settings import Settings
from enlace.tiempo_real import emitir, salas_de_agente

if TYPE_CHECKING:
    from enlace.carteras.models import Contacto
    from enlace.nucleo import Nucleo

log = structlog.get_logger(__name__)


async def _contacto(session: AsyncSession, actor: Actor, contacto_id: int) -> Contacto:
    contacto = await repo.contacto_visible(session, actor, contacto_id)
    if contacto is None:
        raise NoEncontrado("El contacto no existe o no tienes acceso a su conversación.")
    return contacto


async def listar(
    session: AsyncSession,
    actor: Actor,
    *,
    agente_id: int | None = None,
    solo_no_leidas: bool = False,
    limite: int = 50,
    antes: datetime | None = None,
) -> list[ConversacionSalida]:
    filas = await repo.listar(
        session, actor, agente_id=agente_id, solo_no_leidas=solo_no_leidas, limite=limite, antes=antes
    )
    return [ConversacionSalida.model_validate(f._mapping) for f in filas]


async def mensajes(
    session: AsyncSession, actor: Actor, contacto_id: int, *, limite: int = 100, antes: datetime | None = None
) -> list[MensajeConversacion]:
    contacto = await _contacto(session, actor, contacto_id)
    filas = await repo.mensajes(session, actor, contacto, limite=limite, antes=antes)
    return [MensajeConversacion.model_validate(f._mapping) for f in filas]


async def marcar_leida(session: AsyncSession, actor: Actor, contacto_id: int, ahora: datetime) -> LeidaSalida:
    contacto = await _contacto(session, actor, contacto_id)
    return LeidaSalida(marcados=await repo.marcar_leida(session, actor, contacto, ahora))


AVISOS_ALCANCE = {
    "negocio": (
        "Enlace guarda solo las conversaciones con tus contactos de cartera y con números a los que el sistema "
        "escribió. Tus chats personales no se guardan; solo se cuentan."
    ),
    "todo": (
        "Aviso: la empresa configuró la captura completa. Todos los chats individuales de este número, "
        "incluidos los personales, se guardan en Enlace."
    ),
}


async def alcance(session: AsyncSession, actor: Actor, settings: Settings, ahora: datetime) -> AlcanceSalida:
    guardado = await repo_captura.alcance_guardado(session)
    valor = guardado if guardado in AVISOS_ALCANCE else settings.alcance_captura.value
    zona = ZoneInfo(settings.zona_horaria)
    fuera = await repo.fuera_de_alcance(session, actor, ahora.astimezone(zona).date())
    return AlcanceSalida(alcance=valor, aviso=AVISOS_ALCANCE[valor], fuera_de_alcance_hoy=fuera)  # type: ignore[arg-type]


async def fijar_alcance(
    session: AsyncSession, actor: Actor, nucleo: Nucleo, datos: AlcanceEntrada, ip: str | None
) -> AlcanceSalida:
    """Admins choose the capture scope; audited; this node applies it at once, others within seconds."""
    exigir_rol(actor, "admin")
    anterior = await repo_captura.alcance_guardado(session) or nucleo.settings.alcance_captura.value
    await repo_captura.guardar_alcance(session, datos.alcance, actor.usuario_id)
    await registrar_auditoria(
        session,
        actor,
        "captura.alcance",
        objeto_tipo="ajuste",
        objeto_id=repo_captura.CLAVE_ALCANCE,
        detalle={"antes": anterior, "despues": datos.alcance},
        ip=ip,
    )
    captura = nucleo.captura
    valor = datos.alcance

    async def aplicar() -> None:
        if captura is not None:
            captura.fijar_alcance(valor)

    al_confirmar(session, aplicar)
    return await alcance(session, actor, nucleo.settings, nucleo.reloj.ahora())


async def _agente_que_responde(session: AsyncSession, actor: Actor, contacto: Contacto, pedido: int | None) -> int:
    if actor.es_agente:
        if actor.agente_id is None:
            raise EntradaInvalida("Tu usuario no está ligado a un agente con WhatsApp.")
        if pedido is not None and pedido != actor.agente_id:
            raise NoEncontrado("El agente no existe o no tienes acceso a él.")
        return actor.agente_id
    agente_id = pedido or contacto.agente_id or await repo.agente_de_conversacion(session, actor, contacto.id)
    if agente_id is None:
        raise EntradaInvalida("agente_id: indica por la sesión de qué agente se envía la respuesta.")
    if not await puede_ver_agente(session, actor, agente_id):
        raise NoEncontrado("El agente no existe o no tienes acceso a él.")
    return agente_id


async def _exigir_sesion(nucleo: Nucleo, agente_id: int) -> None:
    """Refuse early when the agent's WhatsApp is not up here (and start it lazily if it can resume)."""
    sesiones = nucleo.sesiones
    if sesiones is None:  # no session manager on this core (CLI, some tests): the send itself will tell
        return
    estado = await sesiones.asegurar(agente_id)
    if estado != "conectada":
        raise Conflicto(
            "La sesión de WhatsApp del agente no está conectada; vuelve a intentarlo cuando esté en línea.",
            codigo="sesion_no_conectada",
        )
    sesiones.tocar(agente_id)


async def responder(
    session: AsyncSession,
    actor: Actor,
    nucleo: Nucleo,
    contacto_id: int,
    datos: ResponderEntrada,
    clave: str | None = None,
) -> MensajeConversacion:
    """Validate, then queue the reply as an outgoing row due now; the dispatcher sends it after commit.

    It goes through the same path as every other message (claim fenced by the session's lease, the
    compliance gate, suppression re-checked under the phone lock, send with the pre-assigned id), ahead
    of campaign rows and without campaign pacing. With an `Idempotency-Key` (`clave`) a retried request
    returns the row the first one queued and sends nothing more.
    """
    contacto = await _contacto(session, actor, contacto_id)
    agente_id = await _agente_que_responde(session, actor, contacto, datos.agente_id)
    clave = validar_clave_idempotencia(clave)
    if clave is not None:
        previa = await repo.respuesta_por_clave(session, agente_id, clave)
        if previa is not None:
            return _repetida(previa, contacto.id, datos.texto)
    ahora = nucleo.reloj.ahora()
    await _validar_respuesta(session, nucleo, agente_id, contacto, ahora)
    agente = (await repo_captura.agentes(session, [agente_id])).get(agente_id)
    fila_id = await encolar_directo(
        session,
        agente_id=agente_id,
        contacto_id=contacto.id,
        origen="respuesta",
        numero_origen=agente.numero_wa if agente else None,
        numero_destino=contacto.telefono,
        destino_jid=jid_para_enviar(contacto.telefono, await repo.jid_conocido(session, contacto)),
        mensaje=datos.texto,
        tipo="texto",
        wa_message_id=nucleo.motor.nuevo_id_mensaje(agente_id),
        programado_para=ahora,
        clave_idempotencia=clave,
    )
    if fila_id is None:  # the same key committed meanwhile (a concurrent retry): answer with that row
        previa = await repo.respuesta_por_clave(session, agente_id, clave or "")
        if previa is None:
            raise Conflicto("La respuesta se está registrando; vuelve a intentarlo.")
        return _repetida(previa, contacto.id, datos.texto)
    fila = await session.get(MensajeEnviado, fila_id)
    assert fila is not None
    await _anotar_en_bandeja(session, fila, contacto, ahora)
    despachador = nucleo.despachador
    if despachador is not None:
        # This node's loop wakes at once; other nodes get the NOTIFY sent by `encolar_directo`.
        al_confirmar(session, _despertar(despachador, agente_id))
    return _salida(fila, ahora)


def validar_clave_idempotencia(clave: str | None) -> str | None:
    if clave is None:
        return None
    if not 1 <= len(clave) <= 100 or not all(33 <= ord(c) <= 126 for c in clave):
        raise EntradaInvalida(
            "Idempotency-Key: usa de 1 a 100 caracteres visibles sin espacios (por ejemplo, un UUID)."
        )
    return clave


def _repetida(previa: MensajeEnviado, contacto_id: int, texto: str) -> MensajeConversacion:
    if previa.contacto_id != contacto_id or previa.mensaje != texto:
        raise EntradaInvalida(
            "Idempotency-Key: esa clave ya se usó para otra respuesta; genera una clave nueva para cada mensaje.",
            codigo="clave_idempotencia_reutilizada",
        )
    return _salida(previa, previa.created_at)


def _salida(fila: MensajeEnviado, momento: datetime) -> MensajeConversacion:
    return MensajeConversacion(
        id=fila.id,
        direccion="saliente",
        agente_id=fila.agente_id,
        wa_message_id=fila.wa_message_id,
        tipo="texto",
        texto=fila.mensaje,
        momento=momento,
        estado=fila.estado,
        origen="respuesta",
    )


async def _validar_respuesta(
    session: AsyncSession, nucleo: Nucleo, agente_id: int, contacto: Contacto, ahora: datetime
) -> None:
    """Refuse at once what the dispatcher would refuse later, so the agent knows now (changes nothing)."""
    bloqueo = await revisar_envio(
        session,
        agente_id=agente_id,
        contacto_id=contacto.id,
        telefono=contacto.telefono,
        campana_id=None,
        zona_horaria=contacto.zona_horaria or nucleo.settings.zona_horaria,
        estado_mx=contacto.estado_mx,
        ahora=ahora,
        es_campana=False,
    )
    if bloqueo is not None:
        raise Conflicto(bloqueo.mensaje, codigo=bloqueo.codigo)
    if await repo.parada_activa(session, agente_id):
        raise Conflicto(
            "Los envíos de este número están detenidos por seguridad; un supervisor debe reanudarlos.",
            codigo="envio_detenido",
        )
    await _exigir_sesion(nucleo, agente_id)


async def _anotar_en_bandeja(session: AsyncSession, fila: MensajeEnviado, contacto: Contacto, ahora: datetime) -> None:
    await repo_captura.actualizar_conversaciones(
        session,
        [
            {
                "agente_id": fila.agente_id,
                "telefono": contacto.telefono,
                "contacto_id": contacto.id,
                "momento": ahora,
                "texto": fila.mensaje,
                "direccion": "saliente",
                "no_leido": False,
            }
        ],
    )
    datos_evento = {
        "id": fila.id,
        "agente_id": fila.agente_id,
        "wa_message_id": fila.wa_message_id,
        "origen": "respuesta",
        "estado": fila.estado,
        "contacto_id": contacto.id,
        "campana_id": None,
        "numero_destino": contacto.telefono,
        "tipo": "texto",
        "momento": ahora.isoformat(),
    }
    emitir(session, "mensaje.enviado", datos_evento, await salas_de_agente(session, fila.agente_id))


def _despertar(despachador: Any, agente_id: int) -> Callable[[], Awaitable[None]]:
    async def despertar() -> None:
        despachador.despertar(agente_id)

    return despertar
