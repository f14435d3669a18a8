"""Carteras decisions: who may upload for whom, inline vs background import, pool assignment and expiry."""

from __future__ import annotations

import asyncio
import hashlib
import tempfile
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, Any
from zoneinfo import ZoneInfo

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from enlace.carteras import repository as repo
from enlace.carteras.importador import DestinoImportacion, ErrorImportacion, importar_archivo
from enlace.carteras.lector import OpcionesLectura
from enlace.carteras.models import ImportacionCartera
from enlace.carteras.schemas import AsignacionSalida, ReasignacionSalida
from enlace.comun.actor import Actor
from enlace.comun.alcance import exigir_agente, exigir_rol
from enlace.db.sesion import al_confirmar, url_libpq
from enlace.errores import DemasiadosIntentos, EntradaInvalida, NoEncontrado
from enlace.reloj import Reloj
from enlace.settings import Settings
from enlace.tareas import Tareas

log = structlog.get_logger(__name__)

# Files up to this size are imported during the request; bigger ones become a background job.
UMBRAL_SEGUNDO_PLANO = 4 * 1024 * 1024
MAX_ARCHIVO = 1024 * 1024 * 1024
TAMANO_PARTE = 4 * 1024 * 1024
_BLOQUE = 1024 * 1024


def opciones_de(settings: Settings) -> OpcionesLectura:
    return OpcionesLectura(pais=settings.pais_telefonos, solo_moviles=settings.solo_moviles)


async def resolver_destino(session: AsyncSession, actor: Actor, agente_id: int | None) -> tuple[int | None, str]:
    """(agent who gets the contacts or None for the pool, cartera fuente) for an upload by `actor`."""
    if agente_id is None:
        if actor.es_agente:
            if actor.agente_id is None:
                raise EntradaInvalida("Tu usuario no tiene un agente asociado.")
            return actor.agente_id, "csv_upload"
        if actor.es_admin:
            return None, "pool"
        raise EntradaInvalida("agenteId: indica a qué agente de tu equipo va la cartera.", campos=["agenteId"])
    await exigir_agente(session, actor, agente_id)
    return agente_id, "csv_upload"


def _validar_nombre(nombre: str) -> str:
    limpio = " ".join((nombre or "").split())
    if not limpio:
        raise EntradaInvalida("nombre: ponle un nombre a la cartera.", campos=["nombre"])
    if len(limpio) > 100:
        raise EntradaInvalida("nombre: máximo 100 caracteres.", campos=["nombre"])
    return limpio


def _huella(archivo: IO[bytes]) -> tuple[int, str]:
    archivo.seek(0)
    h = hashlib.sha256()
    tamano = 0
    while bloque := archivo.read(_BLOQUE):
        h.update(bloque)
        tamano += len(bloque)
    archivo.seek(0)
    return tamano, h.hexdigest()


async def validar_cuota(session: AsyncSession, actor: Actor, tamano: int, ahora: datetime, settings: Settings) -> None:
    """Per-user import quotas (failed imports count too): so many files per hour, so many MB per day."""
    por_hora = await repo.importaciones_de_usuario(session, actor.usuario_id, ahora - timedelta(hours=1))
    if por_hora[0] >= settings.importaciones_por_hora:
        raise DemasiadosIntentos(
            f"Llegaste al máximo de {settings.importaciones_por_hora} importaciones por hora. "
            "Espera un poco o pide a un administrador que suba el límite.",
            codigo="cuota_importacion",
            reintentar_en_s=3600,
        )
    _, bytes_dia = await repo.importaciones_de_usuario(session, actor.usuario_id, ahora - timedelta(days=1))
    if bytes_dia + tamano > settings.importacion_mb_por_dia * 1024 * 1024:
        raise DemasiadosIntentos(
            f"Con este archivo superarías los {settings.importacion_mb_por_dia} MB de carteras por día. "
            "Inténtalo mañana o pide a un administrador que suba el límite.",
            codigo="cuota_importacion",
            reintentar_en_s=3600,
        )


async def subir_cartera(
    session: AsyncSession,
    actor: Actor,
    *,
    archivo: IO[bytes],
    nombre_archivo: str,
    nombre: str,
    agente_id: int | None,
    database_url: str,
    settings: Settings,
    reloj: Reloj,
    tareas: Tareas | None = None,
) -> ImportacionCartera:
    """Validate the request, then import now (small file) or store the file and enqueue a job (large file)."""
    ahora = reloj.ahora()
    nombre = _validar_nombre(nombre)
    destino_agente, fuente = await resolver_destino(session, actor, agente_id)
    tamano, sha256 = await asyncio.to_thread(_huella, archivo)
    if tamano == 0:
        raise EntradaInvalida("archivo: el archivo está vacío.", campos=["archivo"])
    if tamano > MAX_ARCHIVO:
        raise EntradaInvalida("archivo: el máximo es 1 GB; divide la cartera en varios archivos.", campos=["archivo"])
    await validar_cuota(session, actor, tamano, ahora, settings)
    destino = DestinoImportacion(
        agente_id=destino_agente,
        nombre_cartera=nombre,
        fuente=fuente,
        usuario_id=actor.usuario_id,
        archivo=nombre_archivo or "archivo",
        tamano_bytes=tamano,
        sha256=sha256,
    )
    if tamano <= UMBRAL_SEGUNDO_PLANO:
        try:
            resultado = await asyncio.to_thread(
                importar_archivo, url_libpq(database_url), archivo, destino, ahora=ahora, opciones=opciones_de(settings)
            )
        except ErrorImportacion as error:
            raise EntradaInvalida(
                f"No se importó nada: {error.mensaje}", codigo="archivo_invalido", importacion_id=error.importacion_id
            ) from None
        importacion = await session.get(ImportacionCartera, resultado.importacion_id)
        assert importacion is not None
        return importacion

    importacion = await repo.crear_importacion(
        session,
        agente_id=destino.agente_id,
        usuario_id=destino.usuario_id,
        nombre_cartera=destino.nombre_cartera,
        fuente=destino.fuente,
        archivo=destino.archivo[:255],
        tamano_bytes=tamano,
        sha256=sha256,
        estado="pendiente",
        en_segundo_plano=True,
        created_at=ahora,
    )
    archivo.seek(0)
    parte = 0
    while bloque := await asyncio.to_thread(archivo.read, TAMANO_PARTE):
        await repo.agregar_parte(session, importacion.id, parte, bloque)
        parte += 1
    importacion_id = importacion.id

    async def encolar() -> None:
        from enlace.carteras.tasks import encolar_importacion

        await encolar_importacion(
            importacion_id, tareas=tareas, database_url=database_url, settings=settings, reloj=reloj
        )

    al_confirmar(session, encolar)
    return importacion


def procesar_importacion_guardada(
    conninfo: str, importacion_id: int, *, ahora: datetime, opciones: OpcionesLectura
) -> str:
    """Run a stored (background) import; returns its final estado. Safe to call again (idempotent)."""
    import psycopg

    from enlace.carteras.importador import ProgresoEnBD

    with psycopg.connect(conninfo, autocommit=True) as conexion:
        fila = conexion.execute(
            "SELECT estado, agente_id, nombre_cartera, fuente, usuario_id, archivo, tamano_bytes, sha256 "
            "FROM importaciones_cartera WHERE id = %s",
            (importacion_id,),
        ).fetchone()
        if fila is None:
            return "inexistente"
        estado, agente_id, nombre_cartera, fuente, usuario_id, archivo, tamano, sha256 = fila
        if estado == "completada":
            return str(estado)
        if estado == "fallida":
            # A bad file has its parts deleted; parts still there mean an internal error worth a retry.
            quedan = conexion.execute(
                "SELECT 1 FROM importacion_partes WHERE importacion_id = %s LIMIT 1", (importacion_id,)
            ).fetchone()
            if quedan is None:
                return str(estado)
        with tempfile.TemporaryDirectory(prefix="enlace-importacion-") as tmp:
            ruta = Path(tmp) / "archivo"
            # A server-side cursor: one stored part in memory at a time.
            with psycopg.connect(conninfo) as lectura, lectura.cursor(name="partes") as cursor, ruta.open("wb") as f:
                cursor.itersize = 1
                cursor.execute(
                    "SELECT datos FROM importacion_partes WHERE importacion_id = %s ORDER BY parte", (importacion_id,)
                )
                for (datos,) in cursor:
                    f.write(datos)
            destino = DestinoImportacion(
                agente_id=agente_id,
                nombre_cartera=nombre_cartera,
                fuente=fuente,
                usuario_id=usuario_id,
                archivo=archivo,
                tamano_bytes=tamano,
                sha256=sha256,
            )
            progreso = ProgresoEnBD(conninfo, importacion_id)
            try:
                importar_archivo(
                    conninfo,
                    ruta,
                    destino,
                    ahora=ahora,
                    importacion_id=importacion_id,
                    opciones=opciones,
                    al_progreso=progreso,
                    borrar_partes=True,
                )
            except ErrorImportacion:
                return "fallida"
            finally:
                progreso.cerrar()
    return "completada"


# ---- pool and assignment -------------------------------------------------------------------------------------------


async def _agente_destino(session: AsyncSession, actor: Actor, agente_id: int | None) -> int:
    if agente_id is None:
        if actor.agente_id is None:
            raise EntradaInvalida("agenteId: indica el agente.", campos=["agenteId"])
        return actor.agente_id
    await exigir_agente(session, actor, agente_id)
    return agente_id


# Names the system gives carteras carry the time people read on the panel: Mexico City's, not UTC.
ZONA_PANEL = ZoneInfo("America/Mexico_City")


async def disponibles_en_pool(session: AsyncSession) -> int:
    """How many pool contacts auto-assignment could hand out now (free, contactable, not suppressed)."""
    return await repo.contar_pool_disponible(session)


async def auto_asignar(
    session: AsyncSession, actor: Actor, *, agente_id: int | None, cantidad: int, ahora: datetime
) -> AsignacionSalida:
    """Hand `cantidad` free, unsuppressed pool contacts to one agent as a new cartera (never to two agents)."""
    destino = await _agente_destino(session, actor, agente_id)
    cartera = await repo.crear_cartera(
        session,
        agente_id=destino,
        nombre=f"Auto-asignación {ahora.astimezone(ZONA_PANEL):%d/%m/%Y %H:%M}",
        fuente="auto_asignacion",
        creada_por=actor.usuario_id,
    )
    ids = await repo.tomar_del_pool(session, agente_id=destino, cartera_id=cartera.id, cantidad=cantidad, ahora=ahora)
    if not ids:
        await repo.borrar_cartera(session, cartera.id)
        return AsignacionSalida(
            cartera_id=None,
            agente_id=destino,
            asignados=0,
            solicitados=cantidad,
            mensaje="El pool no tiene contactos disponibles en este momento.",
        )
    await repo.fijar_total(session, cartera.id, len(ids))
    mensaje = (
        f"Se asignaron {len(ids)} contactos."
        if len(ids) == cantidad
        else (f"Solo había {len(ids)} contactos disponibles en el pool; se asignaron todos.")
    )
    log.info("auto_asignacion", agente_id=destino, cartera_id=cartera.id, asignados=len(ids))
    return AsignacionSalida(
        cartera_id=cartera.id, agente_id=destino, asignados=len(ids), solicitados=cantidad, mensaje=mensaje
    )


async def reasignar(
    session: AsyncSession, actor: Actor, *, contacto_ids: Sequence[int], agente_id: int | None, ahora: datetime
) -> ReasignacionSalida:
    """Supervisors and admins move contacts to another agent (a new 'manual' cartera) or back to the pool."""
    exigir_rol(actor, "admin", "supervisor")
    ids = sorted(set(contacto_ids))
    if agente_id is not None:
        await exigir_agente(session, actor, agente_id)
    en_alcance = await repo.contactos_en_alcance(session, actor, ids)
    if len(en_alcance) != len(ids):
        faltan = sorted(set(ids) - set(en_alcance))[:10]
        raise NoEncontrado(f"Contactos inexistentes o fuera de tu alcance: {', '.join(map(str, faltan))}.")
    cartera_id = None
    if agente_id is not None:
        cartera = await repo.crear_cartera(
            session,
            agente_id=agente_id,
            nombre=f"Reasignación {ahora.astimezone(ZONA_PANEL):%d/%m/%Y %H:%M}",
            fuente="manual",
            creada_por=actor.usuario_id,
        )
        cartera_id = cartera.id
    movidos = await repo.mover_contactos(session, ids, agente_id=agente_id, cartera_id=cartera_id, ahora=ahora)
    if cartera_id is not None:
        await repo.fijar_total(session, cartera_id, movidos)
    return ReasignacionSalida(cartera_id=cartera_id, agente_id=agente_id, reasignados=movidos)


async def expirar_asignaciones(session: AsyncSession, *, ahora: datetime, dias: int) -> int:
    """Self-assigned contacts with no activity for `dias` days go back to the pool; returns how many."""
    devueltos = await repo.expirar_asignaciones(session, limite=ahora - timedelta(days=dias))
    if devueltos:
        log.info("asignaciones_expiradas", devueltos=len(devueltos))
    return len(devueltos)


# ---- presentation --------------------------------------------------------------------------------------------------

_SENSIBLES = ("nss", "curp")


def enmascarar(valor: Any) -> Any:
    """'12345678901' → '*******8901': enough to tell records apart, not enough to use them."""
    if not isinstance(valor, str) or len(valor) <= 4:
        return "****" if valor else valor
    return "*" * (len(valor) - 4) + valor[-4:]


def datos_para(actor: Actor, datos: dict[str, Any]) -> dict[str, Any]:
    """`datos_credito` as `actor` may see it: agents never get NSS or CURP in clear."""
    if not actor.es_agente or not any(k in datos for k in _SENSIBLES):
        return datos
    return {k: (enmascarar(v) if k in _SENSIBLES else v) for k, v in datos.items()}
