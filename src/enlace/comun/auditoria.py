"""Append-only audit log: `registrar_auditoria` for every domain, and the admins' filtered reading."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, Text, cast, column, func, or_, select, table
from sqlalchemy.ext.asyncio import AsyncSession

from enlace.comun.actor import Actor
from enlace.comun.models import Auditoria
from enlace.db.texto import patron, sin_acentos, sin_acentos_sql

# Keys whose values never reach the audit log in clear (secrets, NSS/CURP, message bodies).
_CLAVES_SENSIBLES = ("password", "contrasena", "contraseña", "token", "secreto", "secret", "nss", "curp", "clave")
_CLAVES_CUERPO = ("mensaje", "texto", "cuerpo", "body")


def _limpiar(valor: Any, clave: str = "") -> Any:
    """JSON-safe copy of `valor` with secrets masked and bodies reduced to their length."""
    baja = clave.lower()
    if any(s in baja for s in _CLAVES_SENSIBLES) and valor is not None:
        return "***"
    if baja in _CLAVES_CUERPO and isinstance(valor, str):
        return f"<{len(valor)} caracteres>"
    if isinstance(valor, dict):
        return {str(k): _limpiar(v, str(k)) for k, v in valor.items()}
    if isinstance(valor, list | tuple | set | frozenset):
        return [_limpiar(v) for v in valor]
    # Anything else (datetimes, enums, decimals) through JSON with str as the fallback.
    return json.loads(json.dumps(valor, default=str))


def enmascarar_telefono(telefono: str | None) -> str | None:
    """'+525512345678' → '+52******5678': enough to recognise, not enough to dial."""
    if not telefono:
        return telefono
    if len(telefono) <= 7:
        return "*" * len(telefono)
    return telefono[:3] + "*" * (len(telefono) - 7) + telefono[-4:]


async def registrar_auditoria(
    session: AsyncSession,
    actor: Actor | None,
    accion: str,
    objeto: tuple[str, Any] | None = None,
    detalle: dict[str, Any] | None = None,
    *,
    objeto_tipo: str | None = None,
    objeto_id: Any = None,
    ip: str | None = None,
) -> Auditoria:
    """Append one audit row in the caller's transaction (it commits or rolls back with the action).

    `actor` None or the system actor (usuario_id 0) records the system as the author. The object is
    given either as `objeto=(tipo, id)` or as `objeto_tipo=`/`objeto_id=`.
    """
    if objeto is not None:
        objeto_tipo, objeto_id = objeto
    usuario_id = actor.usuario_id if actor is not None and actor.usuario_id else None
    fila = Auditoria(
        usuario_id=usuario_id,
        accion=accion[:60],
        objeto_tipo=objeto_tipo[:40] if objeto_tipo else None,
        objeto_id=str(objeto_id)[:60] if objeto_id is not None else None,
        detalle=_limpiar(detalle or {}),
        ip=ip,
    )
    session.add(fila)
    await session.flush()
    return fila


@dataclass(frozen=True, slots=True)
class FiltroAuditoria:
    accion: str | None = None  # exact, or a prefix ending in '.' ('supresion.')
    usuario_id: int | None = None
    objeto_tipo: str | None = None
    objeto_id: str | None = None
    desde: datetime | None = None
    hasta: datetime | None = None
    antes_de_id: int | None = None  # keyset pagination: rows older than this id
    limite: int = 100
    # Free text, accent-insensitive: the code, the object, the details, the author's name or login; or any of
    # `acciones` (the panel sends the codes whose Spanish label matches what was typed).
    texto: str | None = None
    acciones: tuple[str, ...] = ()


def consulta_auditoria(filtro: FiltroAuditoria) -> Select[Any]:
    stmt = select(Auditoria)
    if filtro.accion:
        if filtro.accion.endswith("."):
            stmt = stmt.where(Auditoria.accion.startswith(filtro.accion, autoescape=True))
        else:
            stmt = stmt.where(Auditoria.accion == filtro.accion)
    if filtro.usuario_id is not None:
        stmt = stmt.where(Auditoria.usuario_id == filtro.usuario_id)
    if filtro.objeto_tipo:
        stmt = stmt.where(Auditoria.objeto_tipo == filtro.objeto_tipo)
    if filtro.objeto_id:
        stmt = stmt.where(Auditoria.objeto_id == filtro.objeto_id)
    if filtro.desde is not None:
        stmt = stmt.where(Auditoria.created_at >= filtro.desde)
    if filtro.hasta is not None:
        stmt = stmt.where(Auditoria.created_at < filtro.hasta)
    if filtro.antes_de_id is not None:
        stmt = stmt.where(Auditoria.id < filtro.antes_de_id)
    if filtro.texto and filtro.texto.strip():
        buscado = patron(sin_acentos(filtro.texto.strip()))
        # The users table by name only: the audit log sits below the auth domain.
        usuarios = table("usuarios", column("id"), column("nombre"), column("usuario"))
        autores = select(usuarios.c.id).where(
            or_(sin_acentos_sql(usuarios.c.nombre).like(buscado), sin_acentos_sql(usuarios.c.usuario).like(buscado))
        )
        condiciones = [
            sin_acentos_sql(Auditoria.accion).like(buscado),
            sin_acentos_sql(func.coalesce(Auditoria.objeto_tipo, "")).like(buscado),
            sin_acentos_sql(func.coalesce(Auditoria.objeto_id, "")).like(buscado),
            sin_acentos_sql(cast(Auditoria.detalle, Text)).like(buscado),
            Auditoria.usuario_id.in_(autores),
        ]
        if filtro.acciones:
            condiciones.append(Auditoria.accion.in_(filtro.acciones))
        stmt = stmt.where(or_(*condiciones))
    return stmt.order_by(Auditoria.id.desc()).limit(max(1, min(filtro.limite, 500)))


async def listar_auditoria(session: AsyncSession, filtro: FiltroAuditoria) -> list[Auditoria]:
    return list((await session.scalars(consulta_auditoria(filtro))).all())
