"""Sending profiles (admins edit them) and safety stops (supervisors resume them)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from enlace.campanas.models import ParadaSeguridad, PerfilEnvio
from enlace.campanas.ritmo import PERFIL_ORIGINAL, ErrorPerfil, PerfilRitmo
from enlace.comun.actor import Actor
from enlace.comun.alcance import exigir_rol
from enlace.envios import repository as repo
from enlace.envios.schemas import PerfilActualizar, PerfilCrear
from enlace.errores import Conflicto, EntradaInvalida, NoEncontrado


def validar_config(config: dict) -> dict:  # type: ignore[type-arg]
    """Missing keys take the original table's value; the stored config is always complete and valid."""
    completa = PERFIL_ORIGINAL.a_config() | config
    try:
        return PerfilRitmo.desde_config(completa).a_config()
    except ErrorPerfil as exc:
        raise EntradaInvalida(f"config.{exc.campo}: {exc.mensaje}", campos=[f"config.{exc.campo}"]) from exc


async def _unico_por_defecto(session: AsyncSession, perfil: PerfilEnvio) -> None:
    if perfil.por_defecto:
        await session.execute(update(PerfilEnvio).where(PerfilEnvio.id != perfil.id).values(por_defecto=False))


async def crear_perfil(session: AsyncSession, actor: Actor, datos: PerfilCrear) -> PerfilEnvio:
    exigir_rol(actor, "admin")
    perfil = PerfilEnvio(
        nombre=datos.nombre.strip(), config=validar_config(datos.config), por_defecto=datos.por_defecto
    )
    session.add(perfil)
    try:
        await session.flush()
    except Exception as exc:  # unique name
        raise Conflicto(f"Ya existe un perfil llamado «{datos.nombre}».") from exc
    await _unico_por_defecto(session, perfil)
    return perfil


async def actualizar_perfil(
    session: AsyncSession, actor: Actor, perfil_id: int, datos: PerfilActualizar
) -> PerfilEnvio:
    exigir_rol(actor, "admin")
    perfil = await session.get(PerfilEnvio, perfil_id)
    if perfil is None:
        raise NoEncontrado("El perfil de envío no existe.")
    if datos.nombre is not None:
        perfil.nombre = datos.nombre.strip()
    if datos.config is not None:
        perfil.config = validar_config(datos.config)
    if datos.por_defecto is not None:
        perfil.por_defecto = datos.por_defecto
    await session.flush()
    await _unico_por_defecto(session, perfil)
    return perfil


async def resolver_parada(
    session: AsyncSession, actor: Actor, parada_id: int, ahora: datetime, despachador: object | None
) -> ParadaSeguridad:
    exigir_rol(actor, "admin", "supervisor")
    parada = await repo.obtener_parada(session, actor, parada_id)
    if parada is None:
        raise NoEncontrado("La parada no existe o no tienes acceso a ella.")
    if parada.resuelta_at is not None:
        return parada
    if despachador is not None:
        await despachador.reanudar(session, parada.agente_id, (parada.motivo,), actor.usuario_id)  # type: ignore[attr-defined]
    else:
        await repo.resolver_paradas(session, parada.agente_id, (parada.motivo,), ahora, actor.usuario_id)
    await session.refresh(parada)
    return parada
