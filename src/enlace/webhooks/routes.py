"""HTTP routes for CRM webhooks (admins only): subscriptions, delivery log, test and replay."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request

from enlace.comun.alcance import exigir_rol
from enlace.comun.alcances_token import requiere
from enlace.comun.auditoria import registrar_auditoria
from enlace.dependencias import ActorDep, NucleoDep, SessionBD, ip_cliente
from enlace.webhooks import repository as repo
from enlace.webhooks import service
from enlace.webhooks.schemas import (
    EntregaSalida,
    IntentoSalida,
    SuscripcionActualizar,
    SuscripcionCreada,
    SuscripcionCrear,
    SuscripcionSalida,
)

router = APIRouter(prefix="/api", tags=["webhooks"], dependencies=[requiere("webhooks")])


@router.get("/webhooks", response_model=list[SuscripcionSalida])
async def listar(actor: ActorDep, session: SessionBD) -> list[SuscripcionSalida]:
    exigir_rol(actor, "admin")
    return [SuscripcionSalida.model_validate(s) for s in await repo.listar_suscripciones(session)]


@router.post("/webhooks", response_model=SuscripcionCreada, status_code=201)
async def crear(datos: SuscripcionCrear, request: Request, actor: ActorDep, session: SessionBD) -> SuscripcionCreada:
    """Register a CRM URL; the signing secret is returned only in this response."""
    exigir_rol(actor, "admin")
    fila = await service.crear_suscripcion(session, datos)
    await registrar_auditoria(
        session,
        actor,
        "webhooks.crear",
        objeto_tipo="webhook",
        objeto_id=fila.id,
        detalle={"url": fila.url, "eventos": fila.eventos},
        ip=ip_cliente(request),
    )
    return SuscripcionCreada.model_validate(fila)


@router.patch("/webhooks/{suscripcion_id}", response_model=SuscripcionSalida)
async def actualizar(
    suscripcion_id: int, datos: SuscripcionActualizar, request: Request, actor: ActorDep, session: SessionBD
) -> SuscripcionSalida:
    exigir_rol(actor, "admin")
    fila = await service.actualizar_suscripcion(session, suscripcion_id, datos)
    await registrar_auditoria(
        session,
        actor,
        "webhooks.actualizar",
        objeto_tipo="webhook",
        objeto_id=fila.id,
        detalle=datos.model_dump(exclude_none=True),
        ip=ip_cliente(request),
    )
    return SuscripcionSalida.model_validate(fila)


@router.delete("/webhooks/{suscripcion_id}", status_code=204)
async def borrar(suscripcion_id: int, request: Request, actor: ActorDep, session: SessionBD) -> None:
    exigir_rol(actor, "admin")
    await service.borrar_suscripcion(session, suscripcion_id)
    await registrar_auditoria(
        session, actor, "webhooks.borrar", objeto_tipo="webhook", objeto_id=suscripcion_id, ip=ip_cliente(request)
    )


@router.post("/webhooks/{suscripcion_id}/probar", status_code=202)
async def probar(suscripcion_id: int, actor: ActorDep, session: SessionBD, nucleo: NucleoDep) -> dict[str, str]:
    exigir_rol(actor, "admin")
    await service.probar(session, suscripcion_id, nucleo.reloj.ahora())
    return {"estado": "en_cola"}


@router.get("/webhooks/{suscripcion_id}/entregas", response_model=list[EntregaSalida])
async def entregas(
    suscripcion_id: int,
    actor: ActorDep,
    session: SessionBD,
    estado: Literal["pendiente", "entregada", "agotada"] | None = None,
    limite: int = 100,
) -> list[EntregaSalida]:
    """The delivery log, newest first, with every attempt (status, error, duration)."""
    exigir_rol(actor, "admin")
    await service.obtener_suscripcion(session, suscripcion_id)
    filas = await repo.listar_entregas(session, suscripcion_id, estado, max(1, min(limite, 500)))
    intentos = await repo.intentos_de(session, [f.id for f in filas])
    salida = []
    for fila in filas:
        item = EntregaSalida.model_validate(fila)
        item.historial = [IntentoSalida.model_validate(i) for i in intentos.get(fila.id, [])]
        salida.append(item)
    return salida


@router.post("/webhooks/entregas/{entrega_id}/reenviar", response_model=EntregaSalida, status_code=202)
async def reenviar(
    entrega_id: int, request: Request, actor: ActorDep, session: SessionBD, nucleo: NucleoDep
) -> EntregaSalida:
    """Replay a delivery (same bytes and event id, fresh signature); the original stays as it was."""
    exigir_rol(actor, "admin")
    copia = await service.reenviar(session, entrega_id, nucleo.reloj.ahora())
    await registrar_auditoria(
        session,
        actor,
        "webhooks.reenviar",
        objeto_tipo="webhook_entrega",
        objeto_id=entrega_id,
        detalle={"nueva": copia.id},
        ip=ip_cliente(request),
    )
    return EntregaSalida.model_validate(copia)
