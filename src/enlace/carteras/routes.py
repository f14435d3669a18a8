"""HTTP routes for carteras: upload, import progress and report, pool self-assignment, reassignment, listings."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, File, Form, Query, Request, Response, UploadFile
from fastapi.responses import StreamingResponse

from enlace.carteras import repository as repo
from enlace.carteras import service
from enlace.carteras.models import ImportacionCartera
from enlace.carteras.schemas import (
    MAX_AUTO_ASIGNAR,
    AsignacionSalida,
    AutoAsignar,
    CarteraSalida,
    ContactoSalida,
    ImportacionSalida,
    Pagina,
    PoolSalida,
    ReasignacionSalida,
    Reasignar,
)
from enlace.comun.alcances_token import requiere
from enlace.comun.auditoria import registrar_auditoria
from enlace.dependencias import ActorDep, NucleoDep, SessionBD, ip_cliente
from enlace.errores import EntradaInvalida, NoEncontrado

router = APIRouter(prefix="/api", tags=["carteras"], dependencies=[requiere("carteras")])

PorPagina = Annotated[int, Query(alias="porPagina", ge=1, le=500)]
Pagina_ = Annotated[int, Query(ge=1)]


def _salida_importacion(
    importacion: ImportacionCartera, whatsapp: dict[int, tuple[int, int]] | None = None
) -> ImportacionSalida:
    salida = ImportacionSalida.model_validate(importacion)
    salida.reporte_url = f"/api/cartera/importaciones/{importacion.id}/reporte"
    salida.verificados_whatsapp, salida.sin_whatsapp = (whatsapp or {}).get(importacion.id, (0, 0))
    return salida


@router.post("/cartera/subir", response_model=ImportacionSalida, status_code=201)
async def subir_cartera(
    request: Request,
    actor: ActorDep,
    session: SessionBD,
    nucleo: NucleoDep,
    response: Response,
    nombre: Annotated[str, Form(max_length=200)],
    archivo: Annotated[UploadFile | None, File(description="CSV (UTF-8, Windows-1252...) o XLSX")] = None,
    file: Annotated[UploadFile | None, File(description="Alias de 'archivo'")] = None,
    agente_id: Annotated[int | None, Form(alias="agenteId")] = None,
) -> ImportacionSalida:
    """Import a portfolio file. 201 with the result when done; 202 when it continues in the background."""
    subido = archivo or file
    if subido is None:
        raise EntradaInvalida("archivo: adjunta el archivo CSV o XLSX de la cartera.", campos=["archivo"])
    importacion = await service.subir_cartera(
        session,
        actor,
        archivo=subido.file,
        nombre_archivo=subido.filename or "archivo",
        nombre=nombre,
        agente_id=agente_id,
        database_url=nucleo.database_url,
        settings=nucleo.settings,
        reloj=nucleo.reloj,
        tareas=nucleo.tareas,
    )
    await registrar_auditoria(
        session,
        actor,
        "cartera.subir",
        ("cartera", importacion.cartera_id),
        {"nombre": nombre, "archivo": subido.filename or "archivo"},
        ip=ip_cliente(request),
    )
    if importacion.en_segundo_plano:
        response.status_code = 202
    return _salida_importacion(importacion)


@router.get("/cartera/importaciones", response_model=Pagina[ImportacionSalida])
async def listar_importaciones(
    actor: ActorDep,
    session: SessionBD,
    agente_id: Annotated[int | None, Query(alias="agenteId")] = None,
    pagina: Pagina_ = 1,
    por_pagina: PorPagina = 50,
) -> Pagina[ImportacionSalida]:
    filas, total = await repo.listar_importaciones(
        session, actor, agente_id=agente_id, pagina=pagina, por_pagina=por_pagina
    )
    whatsapp = await repo.conteo_whatsapp(session, [f.id for f in filas])
    return Pagina(
        items=[_salida_importacion(f, whatsapp) for f in filas], total=total, pagina=pagina, por_pagina=por_pagina
    )


@router.get("/cartera/importaciones/{importacion_id}", response_model=ImportacionSalida)
async def obtener_importacion(importacion_id: int, actor: ActorDep, session: SessionBD) -> ImportacionSalida:
    """Progress (0..1) while it runs; counts and the report link when done."""
    importacion = await repo.obtener_importacion(session, actor, importacion_id)
    if importacion is None:
        raise NoEncontrado("La importación no existe o no tienes acceso a ella.")
    return _salida_importacion(importacion, await repo.conteo_whatsapp(session, [importacion.id]))


_SEGURO = re.compile(r"\+?[0-9 ]*")


def _celda(valor: object) -> str:
    """Text for a CSV cell that a spreadsheet will not run as a formula (CSV injection)."""
    texto = "" if valor is None else str(valor)
    if texto[:1] in ("=", "+", "-", "@", "\t", "\r") and not _SEGURO.fullmatch(texto):
        return "'" + texto
    return texto


@router.get("/cartera/importaciones/{importacion_id}/reporte", response_class=StreamingResponse)
async def descargar_reporte(
    importacion_id: int, actor: ActorDep, session: SessionBD, nucleo: NucleoDep
) -> StreamingResponse:
    """Every row of the file and what happened to it, as CSV (UTF-8 with BOM, opens right in Excel)."""
    importacion = await repo.obtener_importacion(session, actor, importacion_id)
    if importacion is None:
        raise NoEncontrado("La importación no existe o no tienes acceso a ella.")
    if importacion.estado != "completada":
        raise EntradaInvalida(f"La importación está {importacion.estado}; el reporte existe cuando termina.")

    async def generar() -> AsyncIterator[bytes]:
        buffer = io.StringIO()
        escritor = csv.writer(buffer)
        escritor.writerow(["fila", "resultado", "campo", "motivo", "telefono"])
        yield "\ufeff".encode() + buffer.getvalue().encode()
        buffer.seek(0)
        buffer.truncate()
        # The request's session closes before streaming starts: read with a session of our own.
        async with nucleo.fabrica() as propia:
            n = 0
            async for fila in repo.filas_reporte(propia, importacion_id):
                escritor.writerow([fila[0], fila[1], fila[2] or "", _celda(fila[3]), _celda(fila[4])])
                n += 1
                if n % 2000 == 0:
                    yield buffer.getvalue().encode()
                    buffer.seek(0)
                    buffer.truncate()
        yield buffer.getvalue().encode()

    nombre = f"reporte-importacion-{importacion_id}.csv"
    return StreamingResponse(
        generar(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{nombre}"'},
    )


@router.get("/cartera/pool", response_model=PoolSalida)
async def pool(actor: ActorDep, session: SessionBD) -> PoolSalida:
    """How many contacts auto-assignment can hand out now (the panel's confirmation states it)."""
    return PoolSalida(disponibles=await service.disponibles_en_pool(session), maximo_por_vez=MAX_AUTO_ASIGNAR)


@router.post("/cartera/auto-asignar", response_model=AsignacionSalida)
async def auto_asignar(
    datos: AutoAsignar, request: Request, actor: ActorDep, session: SessionBD, nucleo: NucleoDep
) -> AsignacionSalida:
    """Take `cantidad` contacts from the company pool; concurrent calls never get the same contact."""
    salida = await service.auto_asignar(
        session, actor, agente_id=datos.agente_id, cantidad=datos.cantidad, ahora=nucleo.reloj.ahora()
    )
    if salida.asignados:
        await registrar_auditoria(
            session,
            actor,
            "cartera.auto_asignar",
            ("cartera", salida.cartera_id),
            {"agente_id": salida.agente_id, "asignados": salida.asignados, "cantidad": datos.cantidad},
            ip=ip_cliente(request),
        )
    return salida


@router.post("/cartera/reasignar", response_model=ReasignacionSalida)
async def reasignar(datos: Reasignar, actor: ActorDep, session: SessionBD, nucleo: NucleoDep) -> ReasignacionSalida:
    """Supervisors/admins: move contacts to another agent, or back to the pool (agenteId null)."""
    return await service.reasignar(
        session, actor, contacto_ids=datos.contacto_ids, agente_id=datos.agente_id, ahora=nucleo.reloj.ahora()
    )


@router.get("/carteras", response_model=Pagina[CarteraSalida])
async def listar_carteras(
    actor: ActorDep,
    session: SessionBD,
    agente_id: Annotated[int | None, Query(alias="agenteId")] = None,
    fuente: str | None = None,
    pagina: Pagina_ = 1,
    por_pagina: PorPagina = 50,
) -> Pagina[CarteraSalida]:
    filas, total = await repo.listar_carteras(
        session, actor, agente_id=agente_id, fuente=fuente, pagina=pagina, por_pagina=por_pagina
    )
    items = []
    for cartera, actuales in filas:
        salida = CarteraSalida.model_validate(cartera)
        salida.contactos_actuales = actuales
        items.append(salida)
    return Pagina(items=items, total=total, pagina=pagina, por_pagina=por_pagina)


@router.get("/carteras/{cartera_id}", response_model=CarteraSalida)
async def obtener_cartera(cartera_id: int, actor: ActorDep, session: SessionBD) -> CarteraSalida:
    encontrada = await repo.obtener_cartera(session, actor, cartera_id)
    if encontrada is None:
        raise NoEncontrado("La cartera no existe o no tienes acceso a ella.")
    salida = CarteraSalida.model_validate(encontrada[0])
    salida.contactos_actuales = encontrada[1]
    return salida


def _salida_contacto(contacto: object, actor: object) -> ContactoSalida:
    salida = ContactoSalida.model_validate(contacto)
    salida.datos_credito = service.datos_para(actor, salida.datos_credito)  # type: ignore[arg-type]
    return salida


@router.get("/contactos", response_model=Pagina[ContactoSalida])
async def listar_contactos(
    actor: ActorDep,
    session: SessionBD,
    cartera_id: Annotated[int | None, Query(alias="carteraId")] = None,
    agente_id: Annotated[int | None, Query(alias="agenteId")] = None,
    estado: str | None = None,
    pool: bool = False,
    q: Annotated[str | None, Query(max_length=100)] = None,
    pagina: Pagina_ = 1,
    por_pagina: PorPagina = 50,
) -> Pagina[ContactoSalida]:
    """Contacts in the caller's scope (agents: their own; supervisors: their teams'; admins: all and the pool)."""
    filas, total = await repo.listar_contactos(
        session,
        actor,
        cartera_id=cartera_id,
        agente_id=agente_id,
        estado=estado,
        pool=pool,
        buscar=q,
        pagina=pagina,
        por_pagina=por_pagina,
    )
    return Pagina(items=[_salida_contacto(c, actor) for c in filas], total=total, pagina=pagina, por_pagina=por_pagina)


@router.get("/contactos/{contacto_id}", response_model=ContactoSalida)
async def obtener_contacto(contacto_id: int, actor: ActorDep, session: SessionBD) -> ContactoSalida:
    contacto = await repo.obtener_contacto(session, actor, contacto_id)
    if contacto is None:
        raise NoEncontrado("El contacto no existe o no tienes acceso a él.")
    return _salida_contacto(contacto, actor)
