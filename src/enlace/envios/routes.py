"""HTTP routes: sending profiles (/api/perfiles-envio) and safety stops (/api/envios/paradas)."""

from __future__ import annotations

from fastapi import APIRouter

from enlace.comun.alcances_token import requiere
from enlace.db.sesion import al_confirmar
from enlace.dependencias import ActorDep, NucleoDep, SessionBD
from enlace.envios import repository as repo
from enlace.envios import service
from enlace.envios.schemas import ParadaSalida, PerfilActualizar, PerfilCrear, PerfilSalida

router = APIRouter(prefix="/api", tags=["envíos"], dependencies=[requiere("campanas")])


@router.get("/perfiles-envio", response_model=list[PerfilSalida])
async def listar_perfiles(actor: ActorDep, session: SessionBD) -> list[PerfilSalida]:
    del actor  # every user may read the profiles (they pick one for a campaign)
    return [PerfilSalida.model_validate(p) for p in await repo.listar_perfiles(session)]


@router.post("/perfiles-envio", response_model=PerfilSalida, status_code=201)
async def crear_perfil(datos: PerfilCrear, actor: ActorDep, session: SessionBD) -> PerfilSalida:
    return PerfilSalida.model_validate(await service.crear_perfil(session, actor, datos))


@router.patch("/perfiles-envio/{perfil_id}", response_model=PerfilSalida)
async def actualizar_perfil(
    perfil_id: int, datos: PerfilActualizar, actor: ActorDep, session: SessionBD
) -> PerfilSalida:
    return PerfilSalida.model_validate(await service.actualizar_perfil(session, actor, perfil_id, datos))


@router.get("/envios/paradas", response_model=list[ParadaSalida])
async def listar_paradas(actor: ActorDep, session: SessionBD, activas: bool = True) -> list[ParadaSalida]:
    return [ParadaSalida.model_validate(p) for p in await repo.listar_paradas(session, actor, activas=activas)]


@router.post("/envios/paradas/{parada_id}/reanudar", response_model=ParadaSalida)
async def reanudar(parada_id: int, actor: ActorDep, session: SessionBD, nucleo: NucleoDep) -> ParadaSalida:
    despachador = getattr(nucleo, "despachador", None)
    parada = await service.resolver_parada(session, actor, parada_id, nucleo.reloj.ahora(), despachador)
    agente_id = parada.agente_id

    async def despertar() -> None:
        if despachador is not None:
            despachador.despertar(agente_id)

    al_confirmar(session, despertar)
    return ParadaSalida.model_validate(parada)
