"""HTTP routes for campaigns, as in the original document: /api/campana, /api/campana/iniciar, estado."""

from __future__ import annotations

from fastapi import APIRouter, Request

from enlace.campanas import repository as repo
from enlace.campanas import service
from enlace.campanas.schemas import (
    CampanaCambioEstado,
    CampanaCrear,
    CampanaEstado,
    CampanaIniciar,
    CampanaSalida,
    InicioSalida,
    LanzamientoPrevia,
)
from enlace.comun.alcances_token import requiere
from enlace.comun.auditoria import registrar_auditoria
from enlace.db.sesion import al_confirmar
from enlace.dependencias import ActorDep, NucleoDep, SessionBD, ip_cliente

router = APIRouter(prefix="/api", tags=["campañas"], dependencies=[requiere("campanas")])


def _despertar(nucleo: object, agente_id: int):  # type: ignore[no-untyped-def]
    async def accion() -> None:
        despachador = getattr(nucleo, "despachador", None)
        if despachador is not None:
            despachador.despertar(agente_id)

    return accion


@router.get("/campanas", response_model=list[CampanaSalida])
async def listar(actor: ActorDep, session: SessionBD, agente_id: int | None = None) -> list[CampanaSalida]:
    return [CampanaSalida.model_validate(c) for c in await repo.listar(session, actor, agente_id)]


@router.post("/campana", response_model=CampanaSalida, status_code=201)
async def crear(datos: CampanaCrear, actor: ActorDep, session: SessionBD, nucleo: NucleoDep) -> CampanaSalida:
    return CampanaSalida.model_validate(await service.crear(session, actor, datos, ahora=nucleo.reloj.ahora()))


@router.get("/campana/{campana_id}/previa-lanzamiento", response_model=LanzamientoPrevia)
async def previa_lanzamiento(
    campana_id: int, actor: ActorDep, session: SessionBD, nucleo: NucleoDep, plantilla_id: int | None = None
) -> LanzamientoPrevia:
    """What «Lanzar» would queue right now (the same selection and rendering, nothing written)."""
    return await service.previa_lanzamiento(session, actor, campana_id, plantilla_id, nucleo.reloj.ahora())


@router.post("/campana/iniciar", response_model=InicioSalida)
async def iniciar(
    datos: CampanaIniciar, request: Request, actor: ActorDep, session: SessionBD, nucleo: NucleoDep
) -> InicioSalida:
    salida = await service.iniciar(
        session, actor, datos, ahora=nucleo.reloj.ahora(), nuevo_id=nucleo.motor.nuevo_id_mensaje
    )
    await registrar_auditoria(
        session,
        actor,
        "campana.iniciar",
        ("campana", salida.campana.id),
        {"nombre": salida.campana.nombre, "mensajes": salida.mensajes, "omitidos": len(salida.omitidos)},
        ip=ip_cliente(request),
    )
    al_confirmar(session, _despertar(nucleo, salida.campana.agente_id))
    return salida


ACCION_ESTADO = {"pausada": "campana.pausar", "activa": "campana.reanudar", "cancelada": "campana.cancelar"}


@router.patch("/campana/{campana_id}/estado", response_model=CampanaSalida)
async def cambiar_estado(
    campana_id: int,
    datos: CampanaCambioEstado,
    request: Request,
    actor: ActorDep,
    session: SessionBD,
    nucleo: NucleoDep,
) -> CampanaSalida:
    campana = await service.cambiar_estado(session, actor, campana_id, datos, nucleo.reloj.ahora())
    await registrar_auditoria(
        session,
        actor,
        ACCION_ESTADO[datos.estado],
        ("campana", campana.id),
        {"nombre": campana.nombre},
        ip=ip_cliente(request),
    )
    al_confirmar(session, _despertar(nucleo, campana.agente_id))
    return CampanaSalida.model_validate(campana)


@router.get("/campana/{campana_id}/estado", response_model=CampanaEstado)
async def estado(campana_id: int, actor: ActorDep, session: SessionBD, nucleo: NucleoDep) -> CampanaEstado:
    return await service.estado(session, actor, campana_id, nucleo.reloj.ahora())
