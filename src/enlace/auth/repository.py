"""All SQL for users, browser sessions, API tokens and login attempts."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from enlace.agentes.models import Agente, Equipo
from enlace.auth.models import IntentoLogin, SesionUsuario, TokenApi, Usuario


async def usuario_por_nombre(session: AsyncSession, usuario: str) -> Usuario | None:
    return await session.scalar(select(Usuario).where(func.lower(Usuario.usuario) == usuario.lower()))


async def usuario_por_id(session: AsyncSession, usuario_id: int) -> Usuario | None:
    return await session.get(Usuario, usuario_id)


async def agente_de_usuario(session: AsyncSession, usuario_id: int) -> int | None:
    return await session.scalar(select(Agente.id).where(Agente.usuario_id == usuario_id))


async def equipos_de_supervisor(session: AsyncSession, usuario_id: int) -> tuple[int, ...]:
    filas = await session.scalars(select(Equipo.id).where(Equipo.supervisor_id == usuario_id).order_by(Equipo.id))
    return tuple(filas)


async def sesion_por_token(session: AsyncSession, token_hash: str, ahora: datetime) -> SesionUsuario | None:
    return await session.scalar(
        select(SesionUsuario).where(
            SesionUsuario.token_hash == token_hash,
            SesionUsuario.revocada_at.is_(None),
            SesionUsuario.expira_at > ahora,
        )
    )


async def token_por_hash(session: AsyncSession, token_hash: str, ahora: datetime) -> TokenApi | None:
    return await session.scalar(
        select(TokenApi).where(
            TokenApi.token_hash == token_hash,
            TokenApi.revocado_at.is_(None),
            (TokenApi.expira_at.is_(None)) | (TokenApi.expira_at > ahora),
        )
    )


async def revocar_sesion(session: AsyncSession, token_hash: str, ahora: datetime) -> None:
    await session.execute(update(SesionUsuario).where(SesionUsuario.token_hash == token_hash).values(revocada_at=ahora))


async def revocar_sesiones_de(session: AsyncSession, usuario_id: int, ahora: datetime) -> None:
    await session.execute(
        update(SesionUsuario)
        .where(SesionUsuario.usuario_id == usuario_id, SesionUsuario.revocada_at.is_(None))
        .values(revocada_at=ahora)
    )


async def contar_fallos(session: AsyncSession, *, usuario: str, ip: str | None, desde: datetime) -> tuple[int, int]:
    por_usuario = await session.scalar(
        select(func.count()).where(IntentoLogin.usuario == usuario.lower(), IntentoLogin.momento >= desde)
    )
    por_ip = 0
    if ip:
        por_ip = (
            await session.scalar(select(func.count()).where(IntentoLogin.ip == ip, IntentoLogin.momento >= desde)) or 0
        )
    return por_usuario or 0, por_ip


async def registrar_fallo(session: AsyncSession, *, usuario: str, ip: str | None, momento: datetime) -> None:
    session.add(IntentoLogin(usuario=usuario.lower(), ip=ip, momento=momento))


async def limpiar_fallos(session: AsyncSession, usuario: str, antes_de: datetime) -> None:
    await session.execute(delete(IntentoLogin).where(IntentoLogin.usuario == usuario.lower()))
    await session.execute(delete(IntentoLogin).where(IntentoLogin.momento < antes_de - timedelta(days=1)))


async def listar_usuarios(session: AsyncSession) -> list[Usuario]:
    return list(await session.scalars(select(Usuario).order_by(Usuario.id)))


async def contar_admins(session: AsyncSession) -> int:
    return await session.scalar(select(func.count()).where(Usuario.rol == "admin")) or 0


async def listar_tokens(session: AsyncSession, usuario_id: int | None) -> list[TokenApi]:
    stmt = select(TokenApi).order_by(TokenApi.id)
    if usuario_id is not None:
        stmt = stmt.where(TokenApi.usuario_id == usuario_id)
    return list(await session.scalars(stmt))
