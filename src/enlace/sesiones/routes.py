"""HTTP routes: link, pair, stop and read WhatsApp sessions; simulator controls when ENLACE_MOTOR=simulador.

An agent acts only on its own session, a supervisor on its teams' agents, an admin on all (404 otherwise).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from enlace.comun.alcance import exigir_agente, exigir_rol
from enlace.comun.alcances_token import requiere
from enlace.comun.auditoria import registrar_auditoria
from enlace.dependencias import ActorDep, NucleoDep, SessionBD, ip_cliente
from enlace.errores import Conflicto, NoEncontrado, ServicioNoDisponible
from enlace.motores.base import ErrorMotor
from enlace.sesiones import service
from enlace.sesiones.manager import SessionManager
from enlace.sesiones.schemas import (
    CodigoEntrada,
    CodigoSalida,
    ConfirmarCodigoEntrada,
    EscanearEntrada,
    FalloEntrada,
    MensajeSimuladoEntrada,
    MensajeSimuladoSalida,
    RecibidoSalida,
    SesionesEstado,
    SesionSalida,
)
from enlace.settings import Motor as NombreMotor

router = APIRouter(prefix="/api", tags=["sesiones"], dependencies=[requiere("sesiones")])


def _gestor(nucleo: Any) -> SessionManager:
    gestor = getattr(nucleo, "sesiones", None)
    if gestor is None:
        raise ServicioNoDisponible("Las sesiones de WhatsApp no están activas en este servidor.")
    return gestor  # type: ignore[no-any-return]


@router.post("/sesion/conectar/{agente_id}", response_model=SesionSalida)
async def conectar(agente_id: int, actor: ActorDep, session: SessionBD, nucleo: NucleoDep) -> SesionSalida:
    """Start linking (QR or pairing code arrive by socket.io and by polling) or resume without a QR."""
    await exigir_agente(session, actor, agente_id)
    gestor = _gestor(nucleo)
    await gestor.conectar(agente_id)
    return await service.estado_de(session, actor, agente_id, gestor)


@router.post("/sesion/{agente_id}/codigo-emparejamiento", response_model=CodigoSalida)
async def codigo_emparejamiento(
    agente_id: int, datos: CodigoEntrada, actor: ActorDep, session: SessionBD, nucleo: NucleoDep
) -> CodigoSalida:
    await exigir_agente(session, actor, agente_id)
    gestor = _gestor(nucleo)
    try:
        codigo = await gestor.pedir_codigo(agente_id, datos.telefono)
    except ErrorMotor as exc:
        raise Conflicto(str(exc)) from None
    vivo = gestor.vivo(agente_id)
    expira = vivo.codigo_expira if vivo is not None and vivo.codigo == codigo else None
    return CodigoSalida(agente_id=agente_id, codigo=codigo, expira_at=expira)


@router.post("/sesion/desconectar/{agente_id}", response_model=SesionSalida)
async def desconectar(
    agente_id: int,
    request: Request,
    actor: ActorDep,
    session: SessionBD,
    nucleo: NucleoDep,
    cerrar_sesion: bool = False,
) -> SesionSalida:
    """Stop the session keeping its link; `?cerrar_sesion=true` unlinks the phone (a new QR is needed)."""
    await exigir_agente(session, actor, agente_id)
    gestor = _gestor(nucleo)
    await gestor.desconectar(agente_id, cerrar_sesion=cerrar_sesion)
    await registrar_auditoria(
        session,
        actor,
        "sesion.desvincular" if cerrar_sesion else "sesion.desconectar",
        ("agente", agente_id),
        ip=ip_cliente(request),
    )
    return await service.estado_de(session, actor, agente_id, gestor)


@router.get("/sesiones/estado", response_model=SesionesEstado)
async def estado_sesiones(actor: ActorDep, session: SessionBD, nucleo: NucleoDep) -> SesionesEstado:
    return await service.listar(session, actor, getattr(nucleo, "sesiones", None))


@router.get("/sesion/{agente_id}", response_model=SesionSalida)
async def estado_sesion(agente_id: int, actor: ActorDep, session: SessionBD, nucleo: NucleoDep) -> SesionSalida:
    gestor = getattr(nucleo, "sesiones", None)
    salida = await service.estado_de(session, actor, agente_id, gestor)
    if gestor is not None and actor.agente_id == agente_id:
        gestor.tocar(agente_id)  # the agent has the panel open
    return salida


# ---- simulator controls ----------------------------------------------------------------


def _simulador(nucleo: Any) -> Any:
    if nucleo.settings.motor != NombreMotor.simulador:
        raise NoEncontrado("El simulador no está activo (ENLACE_MOTOR=simulador).")
    return nucleo.motor


async def _control(corrutina: Any) -> Any:
    try:
        return await corrutina
    except ErrorMotor as exc:
        raise Conflicto(str(exc)) from None


@router.post("/simulador/{agente_id}/escanear", response_model=SesionSalida)
async def simulador_escanear(
    agente_id: int, datos: EscanearEntrada, actor: ActorDep, session: SessionBD, nucleo: NucleoDep
) -> SesionSalida:
    """The agent's virtual phone scans the QR shown now (or the one given)."""
    await exigir_agente(session, actor, agente_id)
    await _control(_simulador(nucleo).escanear_qr(agente_id, qr=datos.qr, numero=datos.numero))
    return await service.estado_de(session, actor, agente_id, getattr(nucleo, "sesiones", None))


@router.post("/simulador/{agente_id}/confirmar-codigo", response_model=SesionSalida)
async def simulador_confirmar_codigo(
    agente_id: int, datos: ConfirmarCodigoEntrada, actor: ActorDep, session: SessionBD, nucleo: NucleoDep
) -> SesionSalida:
    """The agent types the pairing code on the virtual phone."""
    await exigir_agente(session, actor, agente_id)
    await _control(_simulador(nucleo).confirmar_codigo(agente_id, datos.codigo))
    return await service.estado_de(session, actor, agente_id, getattr(nucleo, "sesiones", None))


@router.post("/simulador/{agente_id}/fallo", status_code=204)
async def simulador_fallo(
    agente_id: int, datos: FalloEntrada, actor: ActorDep, session: SessionBD, nucleo: NucleoDep
) -> None:
    """Inject a failure: drop, logout, replaced, restriction 463, ban, capping warning, send errors."""
    await exigir_agente(session, actor, agente_id)
    await _control(
        _simulador(nucleo).inyectar_fallo(
            agente_id,
            datos.tipo,
            codigo=datos.codigo,
            caida_s=datos.caida_s,
            duracion_s=datos.duracion_s,
            nivel=datos.nivel,
            veces=datos.veces,
            excepcion=datos.excepcion,
            cupo=datos.cupo,
        )
    )


@router.post("/simulador/{agente_id}/telefono", response_model=MensajeSimuladoSalida)
async def simulador_escribir_en_telefono(
    agente_id: int, datos: MensajeSimuladoEntrada, actor: ActorDep, session: SessionBD, nucleo: NucleoDep
) -> MensajeSimuladoSalida:
    """The agent types a message on the phone itself (captured as origen=telefono)."""
    await exigir_agente(session, actor, agente_id)
    wa_id = await _control(_simulador(nucleo).escribir_desde_telefono(agente_id, datos.telefono, datos.texto))
    return MensajeSimuladoSalida(wa_message_id=wa_id)


@router.post("/simulador/{agente_id}/recibir", response_model=MensajeSimuladoSalida)
async def simulador_recibir(
    agente_id: int, datos: MensajeSimuladoEntrada, actor: ActorDep, session: SessionBD, nucleo: NucleoDep
) -> MensajeSimuladoSalida:
    """A virtual person writes to the agent's number."""
    await exigir_agente(session, actor, agente_id)
    wa_id = await _control(_simulador(nucleo).recibir_de(agente_id, datos.telefono, datos.texto))
    return MensajeSimuladoSalida(wa_message_id=wa_id)


@router.get("/simulador/ledger", response_model=list[RecibidoSalida])
async def simulador_ledger(
    actor: ActorDep, nucleo: NucleoDep, telefono: str | None = None, limite: int = 1000
) -> list[RecibidoSalida]:
    """What the virtual phones received (admins; demos and end-to-end checks)."""
    exigir_rol(actor, "admin")
    ledger = _simulador(nucleo).ledger
    entradas = ledger.de(telefono) if telefono else ledger.todas()
    return [
        RecibidoSalida(
            telefono=e.telefono,
            wa_message_id=e.wa_message_id,
            texto=e.texto,
            momento=e.momento,
            agente_id=e.agente_id,
            origen=e.origen,
        )
        for e in entradas[-max(1, min(limite, 10000)) :]
    ]
