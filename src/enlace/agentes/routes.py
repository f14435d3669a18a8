"""HTTP routes for agents (scoped list) and teams (admins manage)."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import select

from enlace.agentes import repository as repo
from enlace.agentes.models import Equipo
from enlace.agentes.schemas import AgenteActualizar, AgenteSalida, EquipoActualizar, EquipoCrear, EquipoSalida
from enlace.comun.alcance import exigir_rol
from enlace.comun.alcances_token import requiere
from enlace.comun.auditoria import registrar_auditoria
from enlace.dependencias import ActorDep, SessionBD
from enlace.errores import Conflicto, EntradaInvalida, NoEncontrado

router = APIRouter(prefix="/api", tags=["agentes"], dependencies=[requiere("agentes")])


@router.get("/agentes", response_model=list[AgenteSalida])
async def listar_agentes(actor: ActorDep, session: SessionBD, equipo_id: int | None = None) -> list[AgenteSalida]:
    return [AgenteSalida.model_validate(a) for a in await repo.listar_agentes(session, actor, equipo_id)]


@router.get("/agentes/{agente_id}", response_model=AgenteSalida)
async def obtener_agente(agente_id: int, actor: ActorDep, session: SessionBD) -> AgenteSalida:
    agente = await repo.obtener_agente(session, actor, agente_id)
    if agente is None:
        raise NoEncontrado("El agente no existe o no tienes acceso a él.")
    return AgenteSalida.model_validate(agente)


@router.patch("/agentes/{agente_id}", response_model=AgenteSalida)
async def actualizar_agente(
    agente_id: int, datos: AgenteActualizar, actor: ActorDep, session: SessionBD
) -> AgenteSalida:
    exigir_rol(actor, "admin")
    agente = await repo.obtener_agente(session, actor, agente_id)
    if agente is None:
        raise NoEncontrado("El agente no existe.")
    if datos.equipo_id is not None:
        if await session.get(Equipo, datos.equipo_id) is None:
            raise EntradaInvalida(f"equipo_id: el equipo {datos.equipo_id} no existe.")
        agente.equipo_id = datos.equipo_id
    if datos.activo is not None:
        agente.activo = datos.activo
    await registrar_auditoria(
        session,
        actor,
        "agente.actualizar",
        objeto_tipo="agente",
        objeto_id=agente.id,
        detalle=datos.model_dump(exclude_none=True),
    )
    return AgenteSalida.model_validate(agente)


@router.get("/equipos", response_model=list[EquipoSalida])
async def listar_equipos(actor: ActorDep, session: SessionBD) -> list[EquipoSalida]:
    return [EquipoSalida.model_validate(e) for e in await repo.listar_equipos(session, actor)]


async def _validar_supervisor(session: SessionBD, supervisor_id: int | None) -> None:
    if supervisor_id is None:
        return
    if await repo.rol_de_usuario(session, supervisor_id) != "supervisor":
        raise EntradaInvalida(f"supervisor_id: el usuario {supervisor_id} no existe o no es supervisor.")


@router.post("/equipos", response_model=EquipoSalida, status_code=201)
async def crear_equipo(datos: EquipoCrear, actor: ActorDep, session: SessionBD) -> EquipoSalida:
    exigir_rol(actor, "admin")
    if await session.scalar(select(Equipo.id).where(Equipo.nombre == datos.nombre)):
        raise Conflicto(f"Ya existe un equipo llamado «{datos.nombre}».")
    await _validar_supervisor(session, datos.supervisor_id)
    equipo = Equipo(nombre=datos.nombre, supervisor_id=datos.supervisor_id)
    session.add(equipo)
    await session.flush()
    await registrar_auditoria(
        session, actor, "equipo.crear", objeto_tipo="equipo", objeto_id=equipo.id, detalle=datos.model_dump()
    )
    return EquipoSalida.model_validate(equipo)


@router.patch("/equipos/{equipo_id}", response_model=EquipoSalida)
async def actualizar_equipo(
    equipo_id: int, datos: EquipoActualizar, actor: ActorDep, session: SessionBD
) -> EquipoSalida:
    exigir_rol(actor, "admin")
    equipo = await session.get(Equipo, equipo_id)
    if equipo is None:
        raise NoEncontrado("El equipo no existe.")
    await _validar_supervisor(session, datos.supervisor_id)
    if datos.nombre is not None:
        equipo.nombre = datos.nombre
    if datos.supervisor_id is not None:
        equipo.supervisor_id = datos.supervisor_id
    await registrar_auditoria(
        session,
        actor,
        "equipo.actualizar",
        objeto_tipo="equipo",
        objeto_id=equipo.id,
        detalle=datos.model_dump(exclude_none=True),
    )
    return EquipoSalida.model_validate(equipo)
