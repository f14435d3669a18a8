"""Builds the configured engine (ENLACE_MOTOR); business code never imports an engine directly."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from enlace.motores.base import Motor
from enlace.reloj import Reloj
from enlace.settings import Motor as NombreMotor
from enlace.settings import Settings

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker


def crear_motor(
    settings: Settings,
    reloj: Reloj,
    fabrica: async_sessionmaker[AsyncSession] | None = None,
    enlaces_oficial: dict[str, Any] | None = None,
) -> Motor:
    """The main engine, wrapped so official lines (settings or `lineas_oficiales`) go to the Cloud API."""
    principal = _crear_principal(settings, reloj, fabrica, enlaces_oficial)
    if settings.motor != NombreMotor.cloud_api and (settings.cloud_numeros.strip() or fabrica is not None):
        from enlace.motores.cloud_api.motor import crear_motor_cloud_api
        from enlace.motores.enrutado import MotorEnrutado

        oficial = crear_motor_cloud_api(settings, reloj, fabrica, **(enlaces_oficial or {}))
        return MotorEnrutado(principal, oficial)  # type: ignore[return-value]
    return principal


def _crear_principal(
    settings: Settings,
    reloj: Reloj,
    fabrica: async_sessionmaker[AsyncSession] | None,
    enlaces_oficial: dict[str, Any] | None = None,
) -> Motor:
    if settings.motor == NombreMotor.simulador:
        from enlace.motores.simulador.motor import crear_motor_simulador

        return crear_motor_simulador(settings, reloj)
    if settings.motor == NombreMotor.baileys:
        from enlace.motores.baileys.motor import crear_motor_baileys

        return crear_motor_baileys(settings, reloj)
    from enlace.motores.cloud_api.motor import crear_motor_cloud_api

    return crear_motor_cloud_api(settings, reloj, fabrica, **(enlaces_oficial or {}))
