"""HTTP routes: message report (paged and exported), dashboards, supervision snapshot and notices."""

from __future__ import annotations

from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse

from enlace.comun.alcances_token import requiere
from enlace.comun.auditoria import registrar_auditoria
from enlace.dependencias import ActorDep, NucleoDep, SessionBD, ip_cliente
from enlace.reportes import service
from enlace.reportes.exportar import MIME_CSV, MIME_XLSX
from enlace.reportes.schemas import (
    AvisoCrear,
    AvisoEnviado,
    ContadoresHoy,
    EmbudoCampana,
    FilaAgenteDia,
    FilaEquipo,
    PaginaMensajes,
    Snapshot,
)

router = APIRouter(prefix="/api", tags=["reportes"], dependencies=[requiere("reportes")])

AgenteId = Annotated[int | None, Query(alias="agenteId")]
EquipoId = Annotated[int | None, Query(alias="equipoId")]
CampanaId = Annotated[int | None, Query(alias="campanaId")]
Fecha = Annotated[str | None, Query(description="Un día (AAAA-MM-DD) o un rango AAAA-MM-DD..AAAA-MM-DD", max_length=30)]
Dia = Annotated[str | None, Query(max_length=10)]
Texto = Annotated[str | None, Query(max_length=200)]


def _zona(nucleo: NucleoDep) -> ZoneInfo:
    return ZoneInfo(nucleo.settings.zona_horaria)


@router.get("/reportes/mensajes", response_model=PaginaMensajes)
async def reporte_mensajes(
    actor: ActorDep,
    session: SessionBD,
    nucleo: NucleoDep,
    agente_id: AgenteId = None,
    equipo_id: EquipoId = None,
    campana_id: CampanaId = None,
    numero: Texto = None,
    estado: Texto = None,
    fecha: Fecha = None,
    desde: Dia = None,
    hasta: Dia = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limite: int = service.LIMITE_POR_DEFECTO,
) -> PaginaMensajes:
    filtro = await service.construir_filtro(
        session,
        actor,
        _zona(nucleo),
        agente_id=agente_id,
        equipo_id=equipo_id,
        campana_id=campana_id,
        numero=numero,
        estado=estado,
        fecha=fecha,
        desde=desde,
        hasta=hasta,
    )
    return await service.pagina_mensajes(session, actor, filtro, limite, cursor)


@router.get("/reportes/mensajes/exportar", response_class=StreamingResponse)
async def exportar_mensajes(
    request: Request,
    actor: ActorDep,
    session: SessionBD,
    nucleo: NucleoDep,
    formato: Literal["csv", "xlsx"] = "csv",
    agente_id: AgenteId = None,
    equipo_id: EquipoId = None,
    campana_id: CampanaId = None,
    numero: Texto = None,
    estado: Texto = None,
    fecha: Fecha = None,
    desde: Dia = None,
    hasta: Dia = None,
) -> StreamingResponse:
    zona = _zona(nucleo)
    filtro = await service.construir_filtro(
        session,
        actor,
        zona,
        agente_id=agente_id,
        equipo_id=equipo_id,
        campana_id=campana_id,
        numero=numero,
        estado=estado,
        fecha=fecha,
        desde=desde,
        hasta=hasta,
    )
    # Audited before the first byte: the row commits with this request, the body streams afterwards.
    await registrar_auditoria(
        session,
        actor,
        "reportes.exportar",
        objeto_tipo="mensajes_enviados",
        detalle={
            "formato": formato,
            "filtros": {
                k: v
                for k, v in {
                    "agenteId": agente_id,
                    "equipoId": equipo_id,
                    "campanaId": campana_id,
                    "numero": filtro.numero or filtro.numero_parcial,
                    "estado": estado,
                    "fecha": fecha,
                    "desde": desde,
                    "hasta": hasta,
                }.items()
                if v is not None
            },
        },
        ip=ip_cliente(request),
    )
    fecha_archivo = service.dia_local(nucleo.reloj.ahora(), zona).isoformat()
    nombre = f"mensajes-{fecha_archivo}.{formato}"
    return StreamingResponse(
        service.exportar(nucleo.fabrica, actor, filtro, formato, zona),
        media_type=MIME_XLSX if formato == "xlsx" else MIME_CSV,
        headers={"Content-Disposition": f'attachment; filename="{nombre}"', "Cache-Control": "no-store"},
    )


@router.get("/reportes/tablero/agentes", response_model=list[FilaAgenteDia])
async def tablero_agentes(
    actor: ActorDep,
    session: SessionBD,
    nucleo: NucleoDep,
    agente_id: AgenteId = None,
    equipo_id: EquipoId = None,
    fecha: Fecha = None,
    desde: Dia = None,
    hasta: Dia = None,
) -> list[FilaAgenteDia]:
    """Per agent and day: sent, delivered, read, replied, opt-outs, failed, response rate, median reply time."""
    hoy = service.dia_local(nucleo.reloj.ahora(), _zona(nucleo))
    filtro = await service.filtro_tablero(
        session, actor, hoy=hoy, fecha=fecha, desde=desde, hasta=hasta, agente_id=agente_id, equipo_id=equipo_id
    )
    return await service.tablero_agentes(session, actor, filtro)


@router.get("/reportes/tablero/equipos", response_model=list[FilaEquipo])
async def tablero_equipos(
    actor: ActorDep,
    session: SessionBD,
    nucleo: NucleoDep,
    equipo_id: EquipoId = None,
    fecha: Fecha = None,
    desde: Dia = None,
    hasta: Dia = None,
) -> list[FilaEquipo]:
    hoy = service.dia_local(nucleo.reloj.ahora(), _zona(nucleo))
    filtro = await service.filtro_tablero(
        session, actor, hoy=hoy, fecha=fecha, desde=desde, hasta=hasta, agente_id=None, equipo_id=equipo_id
    )
    return await service.tablero_equipos(session, actor, filtro)


@router.get("/reportes/tablero/campanas/{campana_id}", response_model=EmbudoCampana)
async def embudo_campana(campana_id: int, actor: ActorDep, session: SessionBD) -> EmbudoCampana:
    return await service.embudo_campana(session, actor, campana_id)


@router.get("/reportes/tablero/hoy", response_model=ContadoresHoy)
async def contadores_hoy(actor: ActorDep, session: SessionBD, nucleo: NucleoDep) -> ContadoresHoy:
    return await service.contadores_hoy(session, actor, service.dia_local(nucleo.reloj.ahora(), _zona(nucleo)))


@router.get("/supervision/snapshot", response_model=Snapshot)
async def snapshot(actor: ActorDep, session: SessionBD, nucleo: NucleoDep) -> Snapshot:
    """First paint of the supervision panel; a reconnecting client fetches it again, then applies events."""
    return await service.snapshot(session, actor, nucleo.reloj.ahora(), _zona(nucleo))


@router.post("/supervision/avisos", response_model=AvisoEnviado, status_code=202)
async def enviar_aviso(datos: AvisoCrear, actor: ActorDep, session: SessionBD, nucleo: NucleoDep) -> AvisoEnviado:
    salas = await service.enviar_aviso(session, actor, datos, nucleo.reloj.ahora())
    return AvisoEnviado(salas=salas)
