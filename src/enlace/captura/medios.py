"""Media metadata of captured messages and the optional download to a directory, which never blocks capture."""

from __future__ import annotations

import asyncio
import mimetypes
import os
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import structlog

from enlace.motores.base import Medio, TipoContenido

log = structlog.get_logger(__name__)

TIPOS_CON_MEDIO = {
    TipoContenido.imagen,
    TipoContenido.video,
    TipoContenido.audio,
    TipoContenido.documento,
    TipoContenido.sticker,
}
MAX_BYTES_MEDIO = 100 * 1024 * 1024  # WhatsApp documents top out at 100 MB (2 GB on newer clients: not kept)

_SEGURO = re.compile(r"[^A-Za-z0-9_-]")
_EXTENSION = re.compile(r"^\.[A-Za-z0-9]{1,8}$")


def metadatos(medio: Medio | None, tipo: str) -> dict[str, Any] | None:
    """The JSON stored in the `medio` column: type, mime, size, file name and the engine's reference."""
    if medio is None:
        return None
    datos: dict[str, Any] = {"tipo": str(tipo)}
    if medio.mime:
        datos["mime"] = medio.mime[:120]
    if medio.tamano is not None and medio.tamano >= 0:
        datos["tamano"] = int(medio.tamano)
    if medio.nombre_archivo:
        datos["nombre_archivo"] = medio.nombre_archivo[:255]
    if medio.referencia:
        datos["referencia"] = medio.referencia
    return datos


def extension(mime: str | None, nombre_archivo: str | None) -> str:
    """A safe file extension: from the original name when sane, else from the mime type, else `.bin`."""
    if nombre_archivo:
        ext = Path(nombre_archivo).suffix
        if _EXTENSION.match(ext):
            return ext.lower()
    if mime:
        base = mime.split(";", 1)[0].strip().lower()
        especiales = {"audio/ogg": ".ogg", "image/webp": ".webp", "image/jpeg": ".jpg", "video/mp4": ".mp4"}
        adivinada = especiales.get(base) or mimetypes.guess_extension(base)
        if adivinada and _EXTENSION.match(adivinada):
            return adivinada
    return ".bin"


def ruta_medio(directorio: Path, agente_id: int, wa_message_id: str, momento: datetime, medio: Medio) -> Path:
    """Where a message's media goes: <dir>/<agente>/<YYYY-MM-DD>/<id>.<ext>; ids are sanitized (no traversal)."""
    nombre = _SEGURO.sub("_", wa_message_id)[:120] or "medio"
    return (
        directorio
        / str(int(agente_id))
        / momento.strftime("%Y-%m-%d")
        / f"{nombre}{extension(medio.mime, medio.nombre_archivo)}"
    )


def _escribir(ruta: Path, contenido: bytes) -> None:
    ruta.parent.mkdir(parents=True, exist_ok=True)
    temporal = ruta.with_name(ruta.name + ".parcial")
    with open(temporal, "wb") as f:
        f.write(contenido)
    os.replace(temporal, ruta)  # atomic: a reader never sees half a file


@dataclass(frozen=True, slots=True)
class SolicitudMedio:
    tabla: str  # "mensajes_recibidos" | "mensajes_enviados"
    agente_id: int
    wa_message_id: str
    momento: datetime
    medio: Medio


Obtener = Callable[[int, str], Awaitable[bytes]]
Registrar = Callable[[SolicitudMedio, str], Awaitable[None]]


class DescargadorMedios:
    """Downloads media in the background with a bounded queue; when full, requests are dropped and counted.

    Capture only calls `solicitar` (never awaits a download). `obtener(agente_id, referencia)` fetches
    the bytes from the engine; `registrar(solicitud, ruta)` stores the path in the message row.
    """

    def __init__(
        self,
        directorio: Path,
        obtener: Obtener,
        registrar: Registrar,
        *,
        max_cola: int = 1000,
        trabajadores: int = 2,
    ) -> None:
        self.directorio = directorio
        self._obtener = obtener
        self._registrar = registrar
        self._cola: asyncio.Queue[SolicitudMedio] = asyncio.Queue(maxsize=max_cola)
        self._n = trabajadores
        self._tareas: list[asyncio.Task[None]] = []
        self.descartados = 0
        self.descargados = 0
        self.fallidos = 0

    def iniciar(self) -> None:
        if not self._tareas:
            self._tareas = [asyncio.create_task(self._trabajar(), name=f"medios-{i}") for i in range(self._n)]

    async def detener(self) -> None:
        for t in self._tareas:
            t.cancel()
        await asyncio.gather(*self._tareas, return_exceptions=True)
        self._tareas = []

    async def vaciar(self) -> None:
        await self._cola.join()

    def solicitar(self, solicitud: SolicitudMedio) -> bool:
        """Queue a download without waiting; False when there is nothing to fetch or the queue is full."""
        if not solicitud.medio.referencia:
            return False
        if solicitud.medio.tamano is not None and solicitud.medio.tamano > MAX_BYTES_MEDIO:
            return False
        try:
            self._cola.put_nowait(solicitud)
        except asyncio.QueueFull:
            self.descartados += 1
            log.warning("medio_descartado_cola_llena", agente_id=solicitud.agente_id)
            return False
        return True

    async def _trabajar(self) -> None:
        while True:
            solicitud = await self._cola.get()
            try:
                await self._descargar(solicitud)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.fallidos += 1
                log.warning("medio_no_descargado", agente_id=solicitud.agente_id, error=repr(exc))
            finally:
                self._cola.task_done()

    async def _descargar(self, solicitud: SolicitudMedio) -> None:
        assert solicitud.medio.referencia is not None
        contenido = await self._obtener(solicitud.agente_id, solicitud.medio.referencia)
        if len(contenido) > MAX_BYTES_MEDIO:
            raise ValueError("medio demasiado grande")
        ruta = ruta_medio(
            self.directorio, solicitud.agente_id, solicitud.wa_message_id, solicitud.momento, solicitud.medio
        )
        await asyncio.to_thread(_escribir, ruta, contenido)
        await self._registrar(solicitud, str(ruta))
        self.descargados += 1
