"""HTTP routes for templates: CRUD under /api/plantillas and a preview on real contacts."""

from __future__ import annotations

from fastapi import APIRouter, Response

from enlace.comun.alcances_token import requiere
from enlace.dependencias import ActorDep, NucleoDep, SessionBD
from enlace.plantillas import repository as repo
from enlace.plantillas import service
from enlace.plantillas.schemas import PlantillaActualizar, PlantillaCrear, PlantillaSalida, PreviaPeticion, PreviaSalida

router = APIRouter(prefix="/api/plantillas", tags=["plantillas"], dependencies=[requiere("campanas")])


@router.get("", response_model=list[PlantillaSalida])
async def listar(actor: ActorDep, session: SessionBD, activas: bool = False) -> list[PlantillaSalida]:
    return [service.salida(p) for p in await repo.listar(session, actor, solo_activas=activas)]


@router.post("", response_model=PlantillaSalida, status_code=201)
async def crear(datos: PlantillaCrear, actor: ActorDep, session: SessionBD) -> PlantillaSalida:
    return service.salida(await service.crear(session, actor, datos))


@router.post("/previa", response_model=PreviaSalida)
async def previa(datos: PreviaPeticion, actor: ActorDep, session: SessionBD, nucleo: NucleoDep) -> PreviaSalida:
    return await service.previa(session, actor, datos, nucleo.reloj.ahora())


@router.get("/{plantilla_id}", response_model=PlantillaSalida)
async def obtener(plantilla_id: int, actor: ActorDep, session: SessionBD) -> PlantillaSalida:
    return service.salida(await service.obtener(session, actor, plantilla_id))


@router.patch("/{plantilla_id}", response_model=PlantillaSalida)
async def actualizar(
    plantilla_id: int, datos: PlantillaActualizar, actor: ActorDep, session: SessionBD
) -> PlantillaSalida:
    return service.salida(await service.actualizar(session, actor, plantilla_id, datos))


@router.delete("/{plantilla_id}", status_code=204)
async def eliminar(plantilla_id: int, actor: ActorDep, session: SessionBD) -> Response:
    await service.eliminar(session, actor, plantilla_id)
    return Response(status_code=204)
