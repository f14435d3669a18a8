"""Async engine, sessions per request/job, and side effects released only after commit."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import structlog
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import Session

log = structlog.get_logger(__name__)

AccionPostCommit = Callable[[], Awaitable[Any]]
_CLAVE = "enlace_al_confirmar"


def url_async(url: str) -> str:
    """Any PostgreSQL URL → the psycopg 3 async driver URL SQLAlchemy expects."""
    for prefijo in ("postgresql+psycopg://", "postgresql+psycopg2://", "postgresql://", "postgres://"):
        if url.startswith(prefijo):
            return "postgresql+psycopg://" + url[len(prefijo) :]
    return url


def url_libpq(url: str) -> str:
    """A SQLAlchemy URL → a plain libpq URL (psycopg.connect, COPY, procrastinate)."""
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def crear_motor_bd(url: str, **kwargs: Any) -> AsyncEngine:
    opciones: dict[str, Any] = {"pool_size": 10, "max_overflow": 20, "pool_pre_ping": True}
    opciones.update(kwargs)
    return create_async_engine(url_async(url), **opciones)


def crear_fabrica(motor: AsyncEngine, reloj: Any = None) -> async_sessionmaker[AsyncSession]:
    """Sessions bound to `motor`; with `reloj`, new rows get `created_at` from that clock (see below)."""
    info = {CLAVE_RELOJ: reloj} if reloj is not None else {}
    return async_sessionmaker(motor, expire_on_commit=False, info=info)


CLAVE_RELOJ = "enlace_reloj"


@event.listens_for(Session, "before_flush")
def _sellar_creacion(session: Session, _contexto: Any, _instancias: Any) -> None:
    """Stamp `created_at` of new ORM rows with the core's injected clock instead of the database's now().

    With the accelerated simulator the database clock and the domain clock differ by hours; every
    domain time (sent, received, created) must be on one time line for reports and dashboards.
    Rows inserted in bulk with Core set `created_at` themselves.
    """
    reloj = session.info.get(CLAVE_RELOJ)
    if reloj is None:
        return
    ahora = None
    for objeto in session.new:
        if "created_at" in type(objeto).__mapper__.columns and objeto.created_at is None:
            ahora = ahora or reloj.ahora()
            objeto.created_at = ahora


def al_confirmar(session: AsyncSession, accion: AccionPostCommit) -> None:
    """Run `accion()` (a coroutine factory) after this session's transaction commits.

    A rollback discards it. This is how realtime events, webhooks and job enqueues never
    announce something the database did not keep.
    """
    session.sync_session.info.setdefault(_CLAVE, []).append(accion)


def _lanzar_pendientes(sync_session: Session) -> None:
    acciones: list[AccionPostCommit] = sync_session.info.pop(_CLAVE, [])
    if not acciones:
        return
    loop = asyncio.get_running_loop()
    for accion in acciones:
        tarea = loop.create_task(_ejecutar(accion))
        _TAREAS.add(tarea)
        tarea.add_done_callback(_TAREAS.discard)


async def _ejecutar(accion: AccionPostCommit) -> None:
    try:
        await accion()
    except Exception:  # a side effect must never break the caller that already committed
        log.exception("accion_post_commit_fallo")


_TAREAS: set[asyncio.Task[None]] = set()


@event.listens_for(Session, "after_commit")
def _despues_de_commit(sync_session: Session) -> None:
    _lanzar_pendientes(sync_session)


@event.listens_for(Session, "after_soft_rollback")
def _despues_de_rollback(sync_session: Session, _transaccion: Any) -> None:
    sync_session.info.pop(_CLAVE, None)


async def esperar_post_commit() -> None:
    """Wait for the side effects launched so far (tests and graceful shutdown)."""
    while _TAREAS:
        await asyncio.gather(*list(_TAREAS), return_exceptions=True)


@asynccontextmanager
async def transaccion(fabrica: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """A session whose transaction commits on success and rolls back on error (jobs, loops)."""
    async with fabrica() as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise
