"""SQL for carteras, contactos, imports and assignment, scoped by the actor (the COPY path is in importador)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, delete, func, insert, literal_column, or_, select, text, true
from sqlalchemy.ext.asyncio import AsyncSession

from enlace.carteras.models import Cartera, Contacto, ImportacionCartera, ImportacionFila, ImportacionParte
from enlace.comun.actor import Actor
from enlace.comun.alcance import condicion_agente
from enlace.db.texto import digitos_de_busqueda, patron, sin_acentos, sin_acentos_sql

# States a contact can be handed out from the pool in (not opted out, not erased, not a declared "no").
ESTADOS_ASIGNABLES = ("pendiente", "contactado", "respondio", "interesado")


def _alcance_con_pool(actor: Actor, columna_agente: Any) -> ColumnElement[bool]:
    """Agent data in the actor's scope; rows without an agent (the pool) only for admins."""
    if actor.es_admin:
        return true()
    return and_(columna_agente.is_not(None), condicion_agente(actor, columna_agente))


async def _paginar(session: AsyncSession, stmt: Select[Any], pagina: int, por_pagina: int) -> tuple[list[Any], int]:
    total = await session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    filas = (await session.execute(stmt.limit(por_pagina).offset((pagina - 1) * por_pagina))).all()
    return list(filas), int(total)


# ---- imports -----------------------------------------------------------------------------------------------------


async def importaciones_de_usuario(session: AsyncSession, usuario_id: int, desde: datetime) -> tuple[int, int]:
    """How many imports `usuario_id` started since `desde`, and their total bytes."""
    fila = (
        await session.execute(
            select(func.count(), func.coalesce(func.sum(ImportacionCartera.tamano_bytes), 0)).where(
                ImportacionCartera.usuario_id == usuario_id, ImportacionCartera.created_at >= desde
            )
        )
    ).one()
    return int(fila[0]), int(fila[1])


async def crear_importacion(session: AsyncSession, **valores: Any) -> ImportacionCartera:
    fila = ImportacionCartera(**valores)
    session.add(fila)
    await session.flush()
    return fila


async def guardar_partes(session: AsyncSession, importacion_id: int, partes: Sequence[bytes]) -> None:
    if partes:
        await session.execute(
            insert(ImportacionParte),
            [{"importacion_id": importacion_id, "parte": i, "datos": datos} for i, datos in enumerate(partes)],
        )


async def agregar_parte(session: AsyncSession, importacion_id: int, parte: int, datos: bytes) -> None:
    await session.execute(insert(ImportacionParte).values(importacion_id=importacion_id, parte=parte, datos=datos))


async def obtener_importacion(session: AsyncSession, actor: Actor, importacion_id: int) -> ImportacionCartera | None:
    return await session.scalar(
        select(ImportacionCartera).where(ImportacionCartera.id == importacion_id, _alcance_importacion(actor))
    )


def _alcance_importacion(actor: Actor) -> ColumnElement[bool]:
    # The uploader always sees its own imports (an admin's pool upload, a supervisor's upload for an agent).
    return or_(
        _alcance_con_pool(actor, ImportacionCartera.agente_id), ImportacionCartera.usuario_id == actor.usuario_id
    )


async def listar_importaciones(
    session: AsyncSession, actor: Actor, *, agente_id: int | None, pagina: int, por_pagina: int
) -> tuple[list[ImportacionCartera], int]:
    stmt = select(ImportacionCartera).where(_alcance_importacion(actor)).order_by(ImportacionCartera.id.desc())
    if agente_id is not None:
        stmt = stmt.where(ImportacionCartera.agente_id == agente_id)
    filas, total = await _paginar(session, stmt, pagina, por_pagina)
    return [f[0] for f in filas], total


async def conteo_whatsapp(session: AsyncSession, importacion_ids: Sequence[int]) -> dict[int, tuple[int, int]]:
    """Per import: (contacts looked up with WhatsApp, contacts not on WhatsApp)."""
    if not importacion_ids:
        return {}
    filas = await session.execute(
        select(
            Contacto.importacion_id,
            func.count().filter(Contacto.en_whatsapp.is_not(None)),
            func.count().filter(Contacto.en_whatsapp.is_(False)),
        )
        .where(Contacto.importacion_id.in_(list(importacion_ids)))
        .group_by(Contacto.importacion_id)
    )
    return {f[0]: (int(f[1]), int(f[2])) for f in filas if f[0] is not None}


async def filas_reporte(session: AsyncSession, importacion_id: int) -> AsyncIterator[Sequence[Any]]:
    """Every row of an import's report in file order: accepted contacts plus the stored non-accepted rows."""
    aceptados: Any = select(
        Contacto.fila_origen.label("fila"),
        # A contact WhatsApp's lookup found not to be on WhatsApp shows as such (it will never get a message).
        case(
            (Contacto.en_whatsapp.is_(False), literal_column("'sin_whatsapp'")), else_=literal_column("'aceptado'")
        ).label("resultado"),
        literal_column("NULL::varchar").label("campo"),
        literal_column("NULL::text").label("motivo"),
        Contacto.telefono.label("telefono"),
    ).where(Contacto.importacion_id == importacion_id)
    otros = select(
        ImportacionFila.fila,
        ImportacionFila.resultado,
        ImportacionFila.campo,
        ImportacionFila.motivo,
        ImportacionFila.telefono,
    ).where(ImportacionFila.importacion_id == importacion_id)
    union = aceptados.union_all(otros).subquery()
    stmt = select(union).order_by(union.c.fila)
    resultado = await session.stream(stmt.execution_options(yield_per=5000))
    async for particion in resultado.partitions():
        for fila in particion:
            yield fila


# ---- carteras & contactos ----------------------------------------------------------------------------------------


async def listar_carteras(
    session: AsyncSession, actor: Actor, *, agente_id: int | None, fuente: str | None, pagina: int, por_pagina: int
) -> tuple[list[tuple[Cartera, int]], int]:
    actuales = select(func.count()).select_from(Contacto).where(Contacto.cartera_id == Cartera.id).scalar_subquery()
    stmt = (
        select(Cartera, actuales.label("actuales"))
        .where(_alcance_con_pool(actor, Cartera.agente_id))
        .order_by(Cartera.id.desc())
    )
    if agente_id is not None:
        stmt = stmt.where(Cartera.agente_id == agente_id)
    if fuente is not None:
        stmt = stmt.where(Cartera.fuente == fuente)
    filas, total = await _paginar(session, stmt, pagina, por_pagina)
    return [(f[0], int(f[1])) for f in filas], total


async def obtener_cartera(session: AsyncSession, actor: Actor, cartera_id: int) -> tuple[Cartera, int] | None:
    actuales = select(func.count()).select_from(Contacto).where(Contacto.cartera_id == cartera_id).scalar_subquery()
    fila = (
        await session.execute(
            select(Cartera, actuales).where(Cartera.id == cartera_id, _alcance_con_pool(actor, Cartera.agente_id))
        )
    ).first()
    return (fila[0], int(fila[1])) if fila else None


async def listar_contactos(
    session: AsyncSession,
    actor: Actor,
    *,
    cartera_id: int | None,
    agente_id: int | None,
    estado: str | None,
    pool: bool,
    buscar: str | None,
    pagina: int,
    por_pagina: int,
) -> tuple[list[Contacto], int]:
    stmt = select(Contacto).where(_alcance_con_pool(actor, Contacto.agente_id)).order_by(Contacto.id)
    if pool:
        stmt = stmt.where(Contacto.agente_id.is_(None))
    if cartera_id is not None:
        stmt = stmt.where(Contacto.cartera_id == cartera_id)
    if agente_id is not None:
        stmt = stmt.where(Contacto.agente_id == agente_id)
    if estado is not None:
        stmt = stmt.where(Contacto.estado == estado)
    if buscar and buscar.strip():
        # Names without accents («nunez» → Núñez); a query of digits also matches inside the number («55 1234»).
        condiciones = [sin_acentos_sql(Contacto.nombre).like(patron(sin_acentos(buscar.strip())))]
        digitos = digitos_de_busqueda(buscar)
        if digitos:
            condiciones.append(Contacto.telefono.like(patron(digitos)))
        stmt = stmt.where(or_(*condiciones))
    filas, total = await _paginar(session, stmt, pagina, por_pagina)
    return [f[0] for f in filas], total


async def obtener_contacto(session: AsyncSession, actor: Actor, contacto_id: int) -> Contacto | None:
    return await session.scalar(
        select(Contacto).where(Contacto.id == contacto_id, _alcance_con_pool(actor, Contacto.agente_id))
    )


async def crear_cartera(
    session: AsyncSession, *, agente_id: int | None, nombre: str, fuente: str, creada_por: int | None
) -> Cartera:
    cartera = Cartera(agente_id=agente_id, nombre=nombre, fuente=fuente, total_contactos=0, creada_por=creada_por)
    session.add(cartera)
    await session.flush()
    return cartera


async def borrar_cartera(session: AsyncSession, cartera_id: int) -> None:
    await session.execute(delete(Cartera).where(Cartera.id == cartera_id))


# ---- assignment ----------------------------------------------------------------------------------------------------

_SQL_AUTO_ASIGNAR = text(
    """
    WITH elegidos AS (
        SELECT c.id
        FROM contactos c
        WHERE c.agente_id IS NULL
          AND c.estado = ANY(:estados)
          AND NOT EXISTS (SELECT 1 FROM supresiones s WHERE s.telefono = c.telefono)
        ORDER BY c.id
        LIMIT :cantidad
        FOR UPDATE SKIP LOCKED
    )
    UPDATE contactos c
    SET agente_id = :agente, cartera_id = :cartera, asignado_at = :ahora, ultima_actividad_at = NULL
    FROM elegidos e
    WHERE c.id = e.id AND c.agente_id IS NULL
    RETURNING c.id
    """
)


async def contar_pool_disponible(session: AsyncSession) -> int:
    r = await session.scalar(
        text(
            "SELECT count(*) FROM contactos c WHERE c.agente_id IS NULL AND c.estado = ANY(:estados) "
            "AND NOT EXISTS (SELECT 1 FROM supresiones s WHERE s.telefono = c.telefono)"
        ),
        {"estados": list(ESTADOS_ASIGNABLES)},
    )
    return int(r or 0)


async def tomar_del_pool(
    session: AsyncSession, *, agente_id: int, cartera_id: int, cantidad: int, ahora: datetime
) -> list[int]:
    """Give `cantidad` free pool contacts to the agent; concurrent callers skip each other's locked rows."""
    filas = await session.execute(
        _SQL_AUTO_ASIGNAR,
        {
            "estados": list(ESTADOS_ASIGNABLES),
            "cantidad": cantidad,
            "agente": agente_id,
            "cartera": cartera_id,
            "ahora": ahora,
        },
    )
    return [f[0] for f in filas]


async def fijar_total(session: AsyncSession, cartera_id: int, total: int) -> None:
    await session.execute(
        text("UPDATE carteras SET total_contactos = :t WHERE id = :id"), {"t": total, "id": cartera_id}
    )


async def contactos_en_alcance(session: AsyncSession, actor: Actor, ids: Sequence[int]) -> list[int]:
    """Which of `ids` exist and belong to an agent the actor may manage (pool contacts: admins only)."""
    filas = await session.scalars(
        select(Contacto.id).where(Contacto.id.in_(list(ids)), _alcance_con_pool(actor, Contacto.agente_id))
    )
    return list(filas)


async def mover_contactos(
    session: AsyncSession, ids: Sequence[int], *, agente_id: int | None, cartera_id: int | None, ahora: datetime
) -> int:
    resultado = await session.execute(
        text(
            """
            UPDATE contactos
            SET agente_id = :agente, cartera_id = :cartera,
                asignado_at = CASE WHEN CAST(:agente AS integer) IS NULL THEN NULL ELSE CAST(:ahora AS timestamptz) END,
                ultima_actividad_at = NULL
            WHERE id = ANY(:ids)
            """
        ),
        {"agente": agente_id, "cartera": cartera_id, "ahora": ahora, "ids": list(ids)},
    )
    return int(resultado.rowcount or 0)  # type: ignore[attr-defined]


async def expirar_asignaciones(session: AsyncSession, *, limite: datetime) -> list[int]:
    """Return to the pool self-assigned contacts with no activity (no message either way) since `limite`."""
    filas = await session.execute(
        text(
            """
            UPDATE contactos c
            SET agente_id = NULL, cartera_id = NULL, asignado_at = NULL
            FROM carteras k
            WHERE c.cartera_id = k.id
              AND k.fuente = 'auto_asignacion'
              AND c.agente_id IS NOT NULL
              AND c.asignado_at < :limite
              AND (c.ultima_actividad_at IS NULL OR c.ultima_actividad_at < :limite)
              AND NOT EXISTS (
                  SELECT 1 FROM mensajes_enviados m
                  WHERE m.contacto_id = c.id AND coalesce(m.enviado_at, m.created_at) >= :limite
              )
              AND NOT EXISTS (
                  SELECT 1 FROM mensajes_recibidos r WHERE r.contacto_id = c.id AND r.recibido_at >= :limite
              )
            RETURNING c.id
            """
        ),
        {"limite": limite},
    )
    return [f[0] for f in filas]


async def rescatar_importacion(
    session: AsyncSession, importacion_id: int, *, corridas: int, maximo: int, ahora: datetime
) -> bool:
    """An import whose worker died mid-file: True to run it again from the start, False when given up.

    The import writes its contacts in one transaction, so a dead worker left none of them; only the
    progress figure shows how far it got. After `maximo` runs it is marked `fallida` with the reason.
    """
    fila = await session.scalar(
        select(ImportacionCartera).where(ImportacionCartera.id == importacion_id).with_for_update()
    )
    if fila is None:
        return False
    if fila.estado in ("completada", "fallida"):
        return True  # the rerun sees the final state and returns at once (it is idempotent)
    porcentaje = round((fila.progreso or 0.0) * 100)
    if corridas >= maximo:
        fila.estado = "fallida"
        fila.error = (
            f"El proceso que importaba el archivo se detuvo {corridas} veces sin terminar (la última al "
            f"{porcentaje} %). No se importó ningún contacto. Vuelve a subir el archivo; si vuelve a pasar, "
            "divídelo en archivos más pequeños."
        )
        fila.terminada_at = ahora
        await session.execute(delete(ImportacionParte).where(ImportacionParte.importacion_id == importacion_id))
        return False
    fila.estado = "pendiente"
    fila.progreso = 0.0
    fila.error = (
        f"El proceso que importaba el archivo se detuvo al {porcentaje} %; se reanuda desde el principio "
        "(no se había guardado ningún contacto)."
    )
    return True
