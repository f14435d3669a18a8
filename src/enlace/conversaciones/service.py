"""Inbox decisions: list, read, mark read, and the 1:1 reply (row first, compliance gate, send after commit)."""

from __future__ import annotations

import importlib
from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from enlace.auth.actor import Actor
from enlace.auth.alcance import exigir_rol, puede_ver_agente
from enlace.captura import repository as repo_captura
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
from enlace.cumplimiento.auditoria import registrar_auditoria
from enlace.db.sesion import al_confirmar, transaccion
from enlace.errores import Conflicto, EntradaInvalida, NoEncontrado, ServicioNoDisponible
from enlace.mensajes.models import MensajeEnviado
from enlace.mensajes.repository import transicionar_uno
from enlace.motores.base import ErrorMotor
from enlace.settings import Settings
from enlace.tiempo_real import emitir, publicar, salas_de_agente

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


def _puerta() -> Any:
    try:
        return importlib.import_module("enlace.cumplimiento.puerta").revisar_envio
    except (ModuleNotFoundError, AttributeError) as exc:
        # Never send without the compliance gate: refusing is the safe failure.
        raise ServicioNoDisponible(
            "El control de cumplimiento no está disponible; no se puede enviar la respuesta ahora."
        ) from exc


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
    session: AsyncSession, actor: Actor, nucleo: Nucleo, contacto_id: int, datos: ResponderEntrada
) -> MensajeConversacion:
    """Validate, write the row (`enviando`, pre-assigned id), and send through the session after commit.

    The row exists before the send, so a crash between commit and send leaves a row the dispatcher's
    reconciliation turns `incierto` instead of a message nobody recorded.
    """
    contacto = await _contacto(session, actor, contacto_id)
    agente_id = await _agente_que_responde(session, actor, contacto, datos.agente_id)
    ahora = nucleo.reloj.ahora()
    bloqueo = await _puerta()(
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
    await _exigir_sesion(nucleo, agente_id)
    motor = nucleo.motor
    wa_id = motor.nuevo_id_mensaje(agente_id)
    destino = jid_para_enviar(contacto.telefono, await repo.jid_conocido(session, contacto))
    agentes = await repo_captura.agentes(session, [agente_id])
    agente = agentes.get(agente_id)
    fila = MensajeEnviado(
        agente_id=agente_id,
        contacto_id=contacto.id,
        origen="respuesta",
        numero_origen=agente.numero_wa if agente else None,
        numero_destino=contacto.telefono,
        destino_jid=destino,
        mensaje=datos.texto,
        tipo="texto",
        wa_message_id=wa_id,
        estado="enviando",
        intentado_at=ahora,
    )
    session.add(fila)
    await session.flush()
    await repo_captura.actualizar_conversaciones(
        session,
        [
            {
                "agente_id": agente_id,
                "telefono": contacto.telefono,
                "contacto_id": contacto.id,
                "momento": ahora,
                "texto": datos.texto,
                "direccion": "saliente",
                "no_leido": False,
            }
        ],
    )
    salas = await salas_de_agente(session, agente_id)
    datos_evento = {
        "id": fila.id,
        "agente_id": agente_id,
        "wa_message_id": wa_id,
        "origen": "respuesta",
        "estado": "enviando",
        "contacto_id": contacto.id,
        "campana_id": None,
        "numero_destino": contacto.telefono,
        "tipo": "texto",
        "momento": ahora.isoformat(),
    }
    emitir(session, "mensaje.enviado", datos_evento, salas)
    fila_id, texto, telefono = fila.id, datos.texto, contacto.telefono

    async def enviar() -> None:
        await _enviar_respuesta(nucleo, fila_id, agente_id, destino, texto, wa_id, salas, telefono)

    al_confirmar(session, enviar)
    return MensajeConversacion(
        id=fila.id,
        direccion="saliente",
        agente_id=agente_id,
        wa_message_id=wa_id,
        tipo="texto",
        texto=datos.texto,
        momento=ahora,
        estado="enviando",
        origen="respuesta",
    )


async def _enviar_respuesta(
    nucleo: Nucleo,
    fila_id: int,
    agente_id: int,
    destino: str,
    texto_: str,
    wa_id: str,
    salas: list[str],
    telefono: str,
) -> None:
    """After commit: send with the pre-assigned id, then record the outcome (only forward).

    Same protocol as the dispatcher (cumplimiento.puerta.revisar_suprimido): under the phone lock,
    check suppression again, send, commit; an opt-out that committed since the request was accepted
    is honoured, and one arriving now waits for the lock.
    """
    from enlace.cumplimiento.puerta import revisar_suprimido

    try:
        async with transaccion(nucleo.fabrica) as session:
            bloqueo = await revisar_suprimido(session, telefono=telefono, mensaje_id=fila_id)
            if bloqueo is None:
                resultado = await nucleo.motor.enviar_texto(agente_id, destino, texto_, wa_id)
        if bloqueo is not None:
            async with transaccion(nucleo.fabrica) as session:
                movido = await transicionar_uno(
                    session, fila_id, "suprimido", desde=("enviando",), detalle_error=bloqueo.mensaje
                )
            estado = "suprimido" if movido else None
            if estado:
                await publicar(
                    "mensaje.estado",
                    {"id": fila_id, "agente_id": agente_id, "wa_message_id": wa_id, "estado": estado},
                    salas,
                )
            return
    except ErrorMotor as exc:
        log.warning("respuesta_no_enviada", agente_id=agente_id, codigo=exc.codigo, error=str(exc))
        async with transaccion(nucleo.fabrica) as session:
            movido = await transicionar_uno(
                session,
                fila_id,
                "fallido",
                desde=("enviando",),
                fallido_at=nucleo.reloj.ahora(),
                codigo_error=exc.codigo,
                detalle_error=str(exc)[:500],
            )
        estado = "fallido" if movido else None
        if estado:
            await publicar(
                "mensaje.estado",
                {"id": fila_id, "agente_id": agente_id, "wa_message_id": wa_id, "estado": estado},
                salas,
            )
        return
    async with transaccion(nucleo.fabrica) as session:
        await transicionar_uno(session, fila_id, "enviado", enviado_at=resultado.momento)
        estado = await session.scalar(select(MensajeEnviado.estado).where(MensajeEnviado.id == fila_id))
    await publicar(
        "mensaje.estado", {"id": fila_id, "agente_id": agente_id, "wa_message_id": wa_id, "estado": estado}, salas
    )
