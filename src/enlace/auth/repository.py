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


async def revocar_sesiones_de(
    session: AsyncSession, usuario_id: int, ahora: datetime, *, salvo: str | None = None
) -> None:
    """Revoke every live browser session of the user, except the one whose token hash is `salvo`."""
    stmt = update(SesionUsuario).where(SesionUsuario.usuario_id == usuario_id, SesionUsuario.revocada_at.is_(None))
    if salvo is not None:
        stmt = stmt.where(SesionUsuario.token_hash != salvo)
    await session.execute(stmt.values(revocada_at=ahora))


async def bloquear_usuario_login(session: AsyncSession, usuario: str) -> None:
    """Serialize login attempts for one user name until the transaction ends (counting is then exact)."""
    await session.execute(select(func.pg_advisory_xact_lock(func.hashtextextended("login:" + usuario.lower(), 0))))


async def fallos_recientes(session: AsyncSession, *, usuario: str, ip: str | None, desde: datetime) -> list[datetime]:
    """This user's failures from this address since `desde`, newest first."""
    condicion_ip = IntentoLogin.ip == ip if ip else IntentoLogin.ip.is_(None)
    filas = await session.scalars(
        select(IntentoLogin.momento)
        .where(IntentoLogin.usuario == usuario.lower(), condicion_ip, IntentoLogin.momento >= desde)
        .order_by(IntentoLogin.momento.desc(), IntentoLogin.id.desc())
    )
    return list(filas)


async def fallos_de_ip(session: AsyncSession, ip: str, desde: datetime) -> int:
    """Confirmed failures from `ip` (any user): attempts still being verified do not count."""
    return (
        await session.scalar(
            select(func.count()).where(
                IntentoLogin.ip == ip, IntentoLogin.momento >= desde, IntentoLogin.pendiente.is_(False)
            )
        )
        or 0
    )


async def registrar_intento(session: AsyncSession, *, usuario: str, ip: str | None, momento: datetime) -> int:
    """An attempt about to be verified; it counts as a failure for this user and address until cleared."""
    fila = IntentoLogin(usuario=usuario.lower(), ip=ip, momento=momento, pendiente=True)
    session.add(fila)
    await session.flush()
    return fila.id


async def confirmar_fallo(session: AsyncSession, intento_id: int) -> None:
    await session.execute(update(IntentoLogin).where(IntentoLogin.id == intento_id).values(pendiente=False))


async def limpiar_fallos(session: AsyncSession, usuario: str, ip: str | None, ahora: datetime, intento_id: int) -> None:
    """After a good login: forget this address's failures for the user (others' stay) and old rows."""
    condicion_ip = IntentoLogin.ip == ip if ip else IntentoLogin.ip.is_(None)
    await session.execute(
        delete(IntentoLogin).where(
            (IntentoLogin.id == intento_id) | ((IntentoLogin.usuario == usuario.lower()) & condicion_ip)
        )
    )
    await session.execute(delete(IntentoLogin).where(IntentoLogin.momento < ahora - timedelta(days=1)))


async def listar_usuarios(session: AsyncSession) -> list[Usuario]:
    return list(await session.scalars(select(Usuario).order_by(Usuario.id)))


async def contar_admins(session: AsyncSession) -> int:
    return await session.scalar(select(func.count()).where(Usuario.rol == "admin")) or 0


async def listar_tokens(session: AsyncSession, usuario_id: int | None) -> list[TokenApi]:
    stmt = select(TokenApi).order_by(TokenApi.id)
    if usuario_id is not None:
        stmt = stmt.where(TokenApi.usuario_id == usuario_id)
    return list(await session.scalars(stmt))


async def equipos_de_agente(session: AsyncSession, usuario_id: int) -> list[int]:
    """The team of the agent linked to this user (empty when it has none)."""
    equipo = await session.scalar(select(Agente.equipo_id).where(Agente.usuario_id == usuario_id))
    return [equipo] if equipo is not None else []
