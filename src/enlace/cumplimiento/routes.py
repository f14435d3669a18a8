"""HTTP routes of compliance: suppression list, audit log, consent, ARCO rights and compliance settings."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import Response

from enlace.carteras.models import Contacto
from enlace.comun import horario
from enlace.comun.alcance import exigir_rol, puede_ver_agente
from enlace.comun.alcances_token import requiere
from enlace.comun.auditoria import FiltroAuditoria, listar_auditoria
from enlace.comun.estados_mx import ZONAS
from enlace.cumplimiento import repository as repo
from enlace.cumplimiento import service
from enlace.cumplimiento.ajustes import ajustes_cumplimiento as leer_ajustes
from enlace.cumplimiento.ajustes import cambiar_ajustes as guardar_ajustes
from enlace.cumplimiento.ajustes import como_dict, limites
from enlace.cumplimiento.bajas import clasificar
from enlace.cumplimiento.schemas import (
    ArcoCancelado,
    ArcoEntrada,
    AuditoriaSalida,
    ClasificarEntrada,
    ClasificarSalida,
    ConsentimientoEntrada,
    ConsentimientoSalida,
    HorarioSalida,
    ImportacionSalida,
    PaginaSupresiones,
    RetencionSalida,
    SupresionAgregada,
    SupresionCrear,
    SupresionQuitar,
    SupresionSalida,
    VentanaSalida,
    ZonaEstado,
)
from enlace.dependencias import ActorDep, NucleoDep, SessionBD
from enlace.errores import EntradaInvalida, NoEncontrado

router = APIRouter(prefix="/api", tags=["cumplimiento"], dependencies=[requiere("cumplimiento")])

MAX_ARCHIVO = 50 * 1024 * 1024


@router.get("/supresiones", response_model=PaginaSupresiones)
async def listar_supresiones(
    actor: ActorDep,
    session: SessionBD,
    telefono: str | None = None,
    fuente: str | None = None,
    limite: Annotated[int, Query(ge=1, le=500)] = 100,
    desplazamiento: Annotated[int, Query(ge=0)] = 0,
) -> PaginaSupresiones:
    exigir_rol(actor, "admin")
    filas, total = await repo.listar_supresiones(
        session, telefono=telefono, fuente=fuente, limite=limite, desplazamiento=desplazamiento
    )
    return PaginaSupresiones(total=total, filas=[SupresionSalida.model_validate(f) for f in filas])


@router.post("/supresiones", response_model=SupresionAgregada, status_code=201)
async def agregar_supresion(
    datos: SupresionCrear, actor: ActorDep, session: SessionBD, nucleo: NucleoDep
) -> SupresionAgregada:
    exigir_rol(actor, "admin")
    telefono = service.telefono_canonico(datos.telefono)
    hecho = await service.suprimir(
        session, telefono=telefono, motivo=datos.motivo, fuente="manual", actor=actor, ahora=nucleo.reloj.ahora()
    )
    return SupresionAgregada(
        supresion=SupresionSalida.model_validate(hecho.supresion), nueva=hecho.nueva, cancelados=len(hecho.cancelados)
    )


@router.post("/supresiones/quitar", response_model=SupresionSalida)
async def quitar_supresion(datos: SupresionQuitar, actor: ActorDep, session: SessionBD) -> SupresionSalida:
    exigir_rol(actor, "admin")
    telefono = service.telefono_canonico(datos.telefono)
    fila = await service.quitar_supresion(session, telefono=telefono, motivo=datos.motivo, actor=actor)
    return SupresionSalida.model_validate(fila)


@router.post("/supresiones/importar", response_model=ImportacionSalida)
async def importar_supresiones(
    actor: ActorDep,
    session: SessionBD,
    archivo: Annotated[
        UploadFile | None, File(description="CSV con un número por fila o una columna 'telefono'")
    ] = None,
    fuente: Annotated[str, Form()] = "repep",
    motivo: Annotated[str | None, Form()] = None,
) -> ImportacionSalida:
    exigir_rol(actor, "admin")
    if archivo is None:
        raise EntradaInvalida("archivo: adjunta el CSV de la lista (campo «archivo»).")
    contenido = await archivo.read(MAX_ARCHIVO + 1)
    if len(contenido) > MAX_ARCHIVO:
        raise EntradaInvalida("archivo: supera 50 MB; divídelo en partes.")
    resultado = await service.importar_lista(
        session,
        contenido=contenido,
        fuente=fuente,
        motivo=motivo,
        nombre_archivo=archivo.filename or "lista.csv",
        actor=actor,
    )
    return ImportacionSalida.model_validate(resultado, from_attributes=True)


@router.get("/supresiones/exportar")
async def exportar_supresiones(actor: ActorDep, session: SessionBD, fuente: str | None = None) -> Response:
    exigir_rol(actor, "admin")
    texto = await service.exportar_csv(session, actor=actor, fuente=fuente)
    return Response(
        content=texto.encode("utf-8-sig"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="supresiones.csv"'},
    )


@router.get("/auditoria", response_model=list[AuditoriaSalida])
async def leer_auditoria(
    actor: ActorDep,
    session: SessionBD,
    accion: str | None = None,
    usuario_id: int | None = None,
    objeto_tipo: str | None = None,
    objeto_id: str | None = None,
    desde: datetime | None = None,
    hasta: datetime | None = None,
    antes_de_id: int | None = None,
    limite: Annotated[int, Query(ge=1, le=500)] = 100,
    texto: Annotated[str | None, Query(max_length=200, description="Busca en acción, objeto, detalle y autor")] = None,
    acciones: Annotated[list[str] | None, Query(max_length=100)] = None,
) -> list[AuditoriaSalida]:
    exigir_rol(actor, "admin")
    filtro = FiltroAuditoria(
        accion,
        usuario_id,
        objeto_tipo,
        objeto_id,
        desde,
        hasta,
        antes_de_id,
        limite,
        texto=texto,
        acciones=tuple(a[:60] for a in acciones or ()),
    )
    return [AuditoriaSalida.model_validate(f) for f in await listar_auditoria(session, filtro)]


@router.put("/cumplimiento/consentimiento/{contacto_id}", response_model=ConsentimientoSalida)
async def registrar_consentimiento(
    contacto_id: int, datos: ConsentimientoEntrada, actor: ActorDep, session: SessionBD, nucleo: NucleoDep
) -> ConsentimientoSalida:
    exigir_rol(actor, "admin", "supervisor")
    contacto = await session.get(Contacto, contacto_id)
    # Supervisors only for contacts of their teams' agents; 404 either way (no existence leak).
    if contacto is None or not (actor.es_admin or await puede_ver_agente(session, actor, contacto.agente_id)):
        raise NoEncontrado("El contacto no existe o no tienes acceso a él.")
    contacto = await service.registrar_consentimiento(
        session,
        contacto=contacto,
        fuente=datos.fuente,
        fecha=datos.fecha,
        evidencia=datos.evidencia,
        actor=actor,
        ahora=nucleo.reloj.ahora(),
    )
    return ConsentimientoSalida(
        contacto_id=contacto.id,
        consentimiento_fuente=contacto.consentimiento_fuente,
        consentimiento_at=contacto.consentimiento_at,
        consentimiento_evidencia=contacto.consentimiento_evidencia,
    )


@router.post("/arco/exportar")
async def arco_exportar(datos: ArcoEntrada, actor: ActorDep, session: SessionBD) -> dict[str, Any]:
    exigir_rol(actor, "admin")
    telefono = service.telefono_canonico(datos.telefono)
    return await service.arco_exportar(session, telefono=telefono, actor=actor, canal="api")


@router.post("/arco/cancelar", response_model=ArcoCancelado)
async def arco_cancelar(datos: ArcoEntrada, actor: ActorDep, session: SessionBD) -> ArcoCancelado:
    exigir_rol(actor, "admin")
    telefono = service.telefono_canonico(datos.telefono)
    conteos = await service.arco_cancelar(session, telefono=telefono, actor=actor, canal="api", motivo=datos.motivo)
    return ArcoCancelado(telefono=telefono, **conteos)


@router.get("/cumplimiento/horario", response_model=HorarioSalida)
async def ver_horario(actor: ActorDep, session: SessionBD, nucleo: NucleoDep) -> HorarioSalida:
    """Contact hours and whose time zone counts; company rules every signed-in user may read."""
    ajustes = await leer_ajustes(session)
    ventana = horario.Ventana.de_horas(ajustes.hora_min_contacto, ajustes.hora_max_contacto)
    return HorarioSalida(
        limite=VentanaSalida(
            inicio=horario.texto_hora(horario.MINUTO_INICIO), fin=horario.texto_hora(horario.MINUTO_FIN)
        ),
        ventana=VentanaSalida(inicio=horario.texto_hora(ventana.inicio), fin=horario.texto_hora(ventana.fin)),
        precedencia_zona=["contacto", "estado", "campana"],
        zona_predeterminada=nucleo.settings.zona_horaria,
        zonas_por_estado=[ZonaEstado(estado=estado, zona=zona) for estado, zona in ZONAS.items()],
    )


@router.get("/cumplimiento/ajustes")
async def ver_ajustes(actor: ActorDep, session: SessionBD) -> dict[str, Any]:
    exigir_rol(actor, "admin")
    return {**como_dict(await leer_ajustes(session)), "limites": limites()}


@router.put("/cumplimiento/ajustes")
async def cambiar_ajustes(cambios: dict[str, Any], actor: ActorDep, session: SessionBD) -> dict[str, Any]:
    """Save several settings at once: all accepted or none (422 naming the field).

    The answer is the settings now in force plus `normalizados` (values stored differently from how
    they were sent) and `limites` (the range allowed for each number, floors included).
    """
    exigir_rol(actor, "admin")
    ajustes, normalizados = await guardar_ajustes(session, actor, cambios)
    return {**como_dict(ajustes), "normalizados": normalizados, "limites": limites()}


@router.post("/cumplimiento/retencion", response_model=RetencionSalida)
async def aplicar_retencion(actor: ActorDep, session: SessionBD, nucleo: NucleoDep) -> RetencionSalida:
    exigir_rol(actor, "admin")
    return RetencionSalida(**await service.aplicar_retencion(session, ahora=nucleo.reloj.ahora(), actor=actor))


@router.post("/cumplimiento/clasificar", response_model=ClasificarSalida)
async def probar_clasificador(datos: ClasificarEntrada, actor: ActorDep, request: Request) -> ClasificarSalida:
    """Explain how a reply would be classified (the panel shows it next to each decision)."""
    del actor, request
    r = clasificar(datos.texto)
    return ClasificarSalida(clase=r.clase.value, regla=r.regla, fragmento=r.fragmento, descripcion=r.descripcion)
