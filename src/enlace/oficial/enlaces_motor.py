"""The database callbacks the Cloud API engine is built with (it never imports a domain itself)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from enlace.db.sesion import transaccion
from enlace.motores.cloud_api.config import NumeroOficial
from enlace.oficial import eventos, lineas
from enlace.reloj import Reloj
from enlace.sesiones.cifrado import Llavero
from enlace.settings import Settings

log = structlog.get_logger(__name__)


def cargador_lineas(
    fabrica: async_sessionmaker[AsyncSession], settings: Settings, reloj: Reloj
) -> Callable[[], Awaitable[list[NumeroOficial]]]:
    """Enabled lines from `lineas_oficiales`; settings lines are migrated (encrypted) on the first load."""
    llavero = Llavero.desde_settings(settings)

    async def cargar() -> list[NumeroOficial]:
        async with transaccion(fabrica) as s:
            nuevas = await lineas.migrar_desde_settings(s, settings, llavero, reloj.ahora())
            if nuevas:
                log.info("lineas_oficiales_migradas", nuevas=nuevas)
            return await lineas.numeros_activos(s, llavero)

    return cargar


def plantilla_detenida(
    fabrica: async_sessionmaker[AsyncSession], reloj: Reloj
) -> Callable[[int, str, str, int, str], Awaitable[None]]:
    """A send answered «template paused/disabled/missing»: stop the campaigns that use it, with the reason."""

    async def detener(agente_id: int, nombre: str, idioma: str, codigo: int, motivo: str) -> None:
        estado = {132015: "PAUSED", 132016: "DISABLED"}.get(codigo, "REJECTED")
        async with transaccion(fabrica) as s:
            await eventos.aplicar_estado_plantilla(
                s, nombre, idioma, estado, f"código {codigo}: {motivo}", reloj.ahora()
            )

    return detener


def enlaces(fabrica: async_sessionmaker[AsyncSession], settings: Settings, reloj: Reloj) -> dict[str, Any]:
    """What the composition root hands the Cloud API engine."""
    return {
        "plantilla_detenida": plantilla_detenida(fabrica, reloj),
        "cargar_lineas": cargador_lineas(fabrica, settings, reloj),
    }
