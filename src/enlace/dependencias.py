"""FastAPI dependencies: the request's database session, the core, the authenticated actor."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from enlace.comun.actor import Actor
from enlace.comun.alcances_token import verificar_alcance_token
from enlace.errores import NoAutenticado, Prohibido

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
    # Deny by default: a token reaches only the routes whose declared area its scopes name.
    verificar_alcance_token(actor, request.scope.get("route"), request.method)
    if actor.debe_cambiar_password and request.url.path not in RUTAS_SIN_CAMBIO:
        raise Prohibido(
            "Cambia tu contraseña temporal antes de continuar: es de un solo uso.",
            codigo="cambiar_password",
        )
    return actor


# What a user whose one-time password is still unchanged may do.
RUTAS_SIN_CAMBIO = frozenset({"/api/auth/yo", "/api/auth/password", "/api/auth/logout", "/api/reloj"})


ActorDep = Annotated[Actor, Depends(obtener_actor)]


def ip_cliente(request: Request) -> str | None:
    return request.client.host if request.client else None
