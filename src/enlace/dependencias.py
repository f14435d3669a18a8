"""FastAPI dependencies: the request's database session, the core, the authenticated actor."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from enlace.comun.actor import Actor
from enlace.errores import NoAutenticado

if TYPE_CHECKING:
    from enlace.nucleo import Nucleo


def obtener_nucleo(request: Request) -> Nucleo:
    return request.app.state.nucleo  # type: ignore[no-any-return]


async def obtener_session(request: Request) -> AsyncIterator[AsyncSession]:
    """The request owns the transaction: commit when the route returns, roll back on error."""
    async with request.app.state.nucleo.fabrica() as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise


# scope="function": commit before the response is sent, so a client never reads stale data.
SessionBD = Annotated[AsyncSession, Depends(obtener_session, scope="function")]
NucleoDep = Annotated["Nucleo", Depends(obtener_nucleo)]


async def obtener_actor(request: Request, session: SessionBD) -> Actor:
    # The auth domain's `autenticar_peticion`, set by the app factory (enlace.api): this core module
    # is below every domain and must not import one (import-linter contract in pyproject.toml).
    autenticar = request.app.state.autenticar
    actor = await autenticar(session, request)
    if actor is None:
        raise NoAutenticado("Tu sesión no es válida o expiró. Inicia sesión de nuevo.")
    return actor


ActorDep = Annotated[Actor, Depends(obtener_actor)]


def ip_cliente(request: Request) -> str | None:
    return request.client.host if request.client else None
