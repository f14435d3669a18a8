"""All SQL for `sesiones_wa`: rows, leases with fencing tokens, scoped reads."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import and_, delete, exists, func, or_, select, text, tuple_, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from enlace.agentes.models import Agente
from enlace.comun.actor import Actor
from enlace.comun.alcance import condicion_agente
from enlace.sesiones.models import CredencialWA, SesionWA

# States after which nobody should resume the session without the agent doing something.
ESTADOS_FINALES = ("sesion_cerrada", "reemplazada")
# The motivo a person's "Desconectar" leaves: not even an active campaign starts the session again.
MOTIVO_DESCONEXION_USUARIO = "Desconectada por el usuario"
# The motivo of an idle stop: such a session comes back by itself when it should listen again.
MOTIVO_INACTIVIDAD = "Detenida por inactividad; se reanuda al volver a trabajar"


async def obtener(session: AsyncSession, agente_id: int) -> SesionWA | None:
    return await session.scalar(select(SesionWA).where(SesionWA.agente_id == agente_id))


async def asegurar_fila(session: AsyncSession, agente_id: int, motor: str) -> None:
    await session.execute(
        insert(SesionWA).values(agente_id=agente_id, motor=motor).on_conflict_do_nothing(index_elements=["agente_id"])
    )


def _vence(lease_s: float) -> Any:
    # Leases run on the database clock: every node (and a restarted, accelerated-clock process) agrees on it.
    return func.now() + timedelta(seconds=lease_s)


def _sin_dueno() -> Any:
    return or_(SesionWA.nodo_id.is_(None), SesionWA.lease_expira_at.is_(None), SesionWA.lease_expira_at < func.now())


async def tomar_lease(
    session: AsyncSession, agente_id: int, nodo_id: str, lease_s: float, motor: str
) -> tuple[int, bytes | None, str | None] | None:
    """Claim the session for `nodo_id` unless another node holds a live lease.

    Returns (new fencing token, encrypted credentials, key id), or None when someone else holds it.
    """
    fila = (
        await session.execute(
            update(SesionWA)
            .where(SesionWA.agente_id == agente_id, or_(_sin_dueno(), SesionWA.nodo_id == nodo_id))
            .values(
                nodo_id=nodo_id,
                lease_expira_at=_vence(lease_s),
                fencing_token=SesionWA.fencing_token + 1,
                motor=motor,
            )
            .returning(SesionWA.fencing_token, SesionWA.credenciales, SesionWA.clave_id)
        )
    ).first()
    return (fila[0], fila[1], fila[2]) if fila else None


async def actualizar_propia(
    session: AsyncSession, agente_id: int, nodo_id: str, token: int, valores: dict[str, Any]
) -> bool:
    """Write only while this node still holds the lease with this token (a fenced write)."""
    resultado = await session.execute(
        update(SesionWA)
        .where(SesionWA.agente_id == agente_id, SesionWA.nodo_id == nodo_id, SesionWA.fencing_token == token)
        .values(**valores)
        .returning(SesionWA.id)
    )
    return resultado.first() is not None


async def actualizar_libre(session: AsyncSession, agente_id: int, valores: dict[str, Any]) -> bool:
    """Write a row no node holds (or whose lease expired): stopping a session nobody runs."""
    resultado = await session.execute(
        update(SesionWA).where(SesionWA.agente_id == agente_id, _sin_dueno()).values(**valores).returning(SesionWA.id)
    )
    return resultado.first() is not None


async def renovar_leases(session: AsyncSession, nodo_id: str, tokens: dict[int, int], lease_s: float) -> set[int]:
    """Extend the leases this node holds; returns the agents whose lease is still ours."""
    if not tokens:
        return set()
    filas = await session.execute(
        update(SesionWA)
        .where(SesionWA.nodo_id == nodo_id, SesionWA.agente_id.in_(list(tokens)))
        .values(lease_expira_at=_vence(lease_s))
        .returning(SesionWA.agente_id, SesionWA.fencing_token)
    )
    return {agente for agente, token in filas.all() if tokens.get(agente) == token}


async def liberar_nodo(
    session: AsyncSession, nodo_id: str, tokens: dict[int, int], valores: dict[str, Any]
) -> list[int]:
    """Release every lease this node holds (graceful shutdown), fenced by token."""
    if not tokens:
        return []
    condiciones = [and_(SesionWA.agente_id == a, SesionWA.fencing_token == t) for a, t in tokens.items()]
    filas = await session.execute(
        update(SesionWA)
        .where(SesionWA.nodo_id == nodo_id, or_(*condiciones))
        .values(nodo_id=None, lease_expira_at=None, **valores)
        .returning(SesionWA.agente_id)
    )
    return [a for (a,) in filas.all()]


async def por_reanudar(session: AsyncSession, nodo_id: str, limite: int) -> list[int]:
    """Sessions that should run but no live node holds: crashed nodes, restarts, active campaigns."""
    if limite <= 0:
        return []
    sin_dueno = or_(_sin_dueno(), SesionWA.nodo_id == nodo_id)
    con_campana = SesionWA.agente_id.in_(_agentes_con_campana_activa())
    filas = await session.scalars(
        select(SesionWA.agente_id)
        .join(Agente, Agente.id == SesionWA.agente_id)
        .where(
            Agente.activo.is_(True),
            con_credenciales(),
            SesionWA.estado.not_in(ESTADOS_FINALES),
            sin_dueno,
            or_(
                SesionWA.reanudar.is_(True),
                and_(con_campana, SesionWA.motivo.is_distinct_from(MOTIVO_DESCONEXION_USUARIO)),
            ),
        )
        .order_by(SesionWA.lease_expira_at.asc().nulls_first(), SesionWA.agente_id)
        .limit(limite)
    )
    return list(filas)


async def detenidas_por_inactividad(session: AsyncSession, limite: int) -> list[int]:
    """Linked sessions stopped by the idle rule that no live node holds (candidates to listen again)."""
    if limite <= 0:
        return []
    filas = await session.scalars(
        select(SesionWA.agente_id)
        .join(Agente, Agente.id == SesionWA.agente_id)
        .where(
            Agente.activo.is_(True),
            con_credenciales(),
            SesionWA.estado == "desconectada",
            SesionWA.motivo == MOTIVO_INACTIVIDAD,
            _sin_dueno(),
        )
        .order_by(SesionWA.agente_id)
        .limit(limite)
    )
    return list(filas)


def _agentes_con_campana_activa() -> Any:
    from enlace.campanas.models import Campana

    return select(Campana.agente_id).where(Campana.estado == "activa")


async def con_campana_activa(session: AsyncSession, agentes: list[int]) -> set[int]:
    if not agentes:
        return set()
    from enlace.campanas.models import Campana

    filas = await session.scalars(
        select(Campana.agente_id).where(Campana.estado == "activa", Campana.agente_id.in_(agentes)).distinct()
    )
    return set(filas)


async def nodos_con_lease(session: AsyncSession) -> list[str]:
    filas = await session.scalars(
        select(SesionWA.nodo_id).where(SesionWA.nodo_id.is_not(None), SesionWA.lease_expira_at >= func.now()).distinct()
    )
    return [n for n in filas if n]


async def expirar_leases(session: AsyncSession, nodos: list[str]) -> int:
    """End the leases of nodes known to be dead (their process is gone), so others resume at once."""
    if not nodos:
        return 0
    filas = await session.execute(
        update(SesionWA).where(SesionWA.nodo_id.in_(nodos)).values(lease_expira_at=None).returning(SesionWA.id)
    )
    return len(filas.all())


async def fijar_numero_agente(session: AsyncSession, agente_id: int, numero: str) -> None:
    await session.execute(update(Agente).where(Agente.id == agente_id).values(numero_wa=numero))


async def listar_con_agentes(session: AsyncSession, actor: Actor) -> list[tuple[Agente, SesionWA | None]]:
    """Every agent the actor may see, with its session row (None when it never linked)."""
    filas = await session.execute(
        select(Agente, SesionWA)
        .outerjoin(SesionWA, SesionWA.agente_id == Agente.id)
        .where(condicion_agente(actor, Agente.id))
        .order_by(Agente.id)
    )
    return [(a, s) for a, s in filas.all()]


async def contar_por_estado(session: AsyncSession, actor: Actor) -> dict[str, int]:
    filas = await session.execute(
        select(SesionWA.estado, func.count())
        .where(condicion_agente(actor, SesionWA.agente_id))
        .group_by(SesionWA.estado)
    )
    return {estado: n for estado, n in filas.all()}


async def blobs_legados(session: AsyncSession, despues_de: int, lote: int) -> list[SesionWA]:
    """Sessions still stored as one blob, locked, in id order (key rotation converts them to rows)."""
    filas = await session.scalars(
        select(SesionWA)
        .where(SesionWA.credenciales.is_not(None), SesionWA.id > despues_de)
        .order_by(SesionWA.id)
        .limit(lote)
        .with_for_update()
    )
    return list(filas)


# ---- credenciales_wa: one encrypted row per auth-state key ---------------------------------------

CREDS = "creds"  # `tipo` of the row holding Baileys' creds (ident '')


def con_credenciales() -> Any:
    """SQL condition: the session has stored credentials (key rows, or a legacy blob not yet converted)."""
    return or_(
        SesionWA.credenciales.is_not(None),
        exists().where(CredencialWA.agente_id == SesionWA.agente_id, CredencialWA.tipo == CREDS),
    )


async def agentes_con_credenciales(session: AsyncSession, agentes: list[int]) -> set[int]:
    if not agentes:
        return set()
    filas = await session.scalars(select(SesionWA.agente_id).where(SesionWA.agente_id.in_(agentes), con_credenciales()))
    return set(filas)


async def lease_vigente(session: AsyncSession, agente_id: int, nodo_id: str, token: int) -> bool:
    """Lock the session row in share mode if this node still holds it with `token`.

    A takeover (`tomar_lease`) updates the row, so it waits for our commit and then bumps the token:
    key rows written under the lock can never land after another node took the session.
    """
    fila = await session.scalar(
        select(SesionWA.id)
        .where(SesionWA.agente_id == agente_id, SesionWA.nodo_id == nodo_id, SesionWA.fencing_token == token)
        .with_for_update(read=True)
    )
    return fila is not None


async def escribir_credenciales(
    session: AsyncSession,
    agente_id: int,
    filas: list[tuple[str, str, str, bytes]],
    borrar: list[tuple[str, str]],
) -> None:
    """Upsert (tipo, ident, clave_id, cifrado) rows and delete (tipo, ident) rows of one agent."""
    if filas:
        sentencia = insert(CredencialWA).values(
            [{"agente_id": agente_id, "tipo": t, "ident": i, "clave_id": k, "cifrado": c} for t, i, k, c in filas]
        )
        await session.execute(
            sentencia.on_conflict_do_update(
                index_elements=[CredencialWA.agente_id, CredencialWA.tipo, CredencialWA.ident],
                set_={
                    "cifrado": sentencia.excluded.cifrado,
                    "clave_id": sentencia.excluded.clave_id,
                    "updated_at": func.now(),
                },
            )
        )
    if borrar:
        await session.execute(
            delete(CredencialWA).where(
                CredencialWA.agente_id == agente_id,
                tuple_(CredencialWA.tipo, CredencialWA.ident).in_(borrar),
            )
        )


async def leer_credenciales(session: AsyncSession, agente_id: int) -> list[tuple[str, str, str, bytes]]:
    filas = await session.execute(
        select(CredencialWA.tipo, CredencialWA.ident, CredencialWA.clave_id, CredencialWA.cifrado).where(
            CredencialWA.agente_id == agente_id
        )
    )
    return [(t, i, k, c) for t, i, k, c in filas.all()]


async def borrar_credenciales(session: AsyncSession, agente_id: int) -> None:
    """The session was logged out or banned: its keys are void (and must not be reused)."""
    await session.execute(delete(CredencialWA).where(CredencialWA.agente_id == agente_id))
    await session.execute(
        update(SesionWA).where(SesionWA.agente_id == agente_id).values(credenciales=None, clave_id=None)
    )


async def credenciales_a_rotar(
    session: AsyncSession, clave_actual: str, despues: tuple[int, str, str], lote: int
) -> list[CredencialWA]:
    """Key rows not under the current encryption key, locked, in primary-key order (key rotation)."""
    filas = await session.scalars(
        select(CredencialWA)
        .where(
            CredencialWA.clave_id != clave_actual,
            tuple_(CredencialWA.agente_id, CredencialWA.tipo, CredencialWA.ident) > despues,
        )
        .order_by(CredencialWA.agente_id, CredencialWA.tipo, CredencialWA.ident)
        .limit(lote)
        .with_for_update()
    )
    return list(filas)


async def agentes_con_filas(session: AsyncSession) -> set[int]:
    filas = await session.scalars(select(CredencialWA.agente_id).where(CredencialWA.tipo == CREDS))
    return set(filas)


# One statement, one round trip: the fence (share lock on the session row, still ours with this token),
# the upserts and the deletes. A takeover updates the row, so it waits for our commit and then bumps the
# token; if it committed first, the locked re-check finds another token and nothing is written.
_GUARDAR_CERCADO = text(
    """
    WITH dueno AS (
        SELECT 1 FROM sesiones_wa
        WHERE agente_id = :agente AND nodo_id = :nodo AND fencing_token = :token
        FOR SHARE
    ), escritas AS (
        INSERT INTO credenciales_wa (agente_id, tipo, ident, clave_id, cifrado)
        SELECT :agente, x.tipo, x.ident, x.clave_id, x.cifrado
        FROM unnest(CAST(:tipos AS text[]), CAST(:idents AS text[]), CAST(:claves AS text[]),
                    CAST(:cifrados AS bytea[])) AS x(tipo, ident, clave_id, cifrado)
        WHERE EXISTS (SELECT 1 FROM dueno)
        ON CONFLICT (agente_id, tipo, ident)
        DO UPDATE SET cifrado = EXCLUDED.cifrado, clave_id = EXCLUDED.clave_id, updated_at = now()
    ), borradas AS (
        DELETE FROM credenciales_wa c
        USING unnest(CAST(:btipos AS text[]), CAST(:bidents AS text[])) AS b(tipo, ident)
        WHERE c.agente_id = :agente AND c.tipo = b.tipo AND c.ident = b.ident AND EXISTS (SELECT 1 FROM dueno)
    )
    SELECT count(*) FROM dueno
    """
)


async def guardar_cercado(
    session: AsyncSession,
    agente_id: int,
    nodo_id: str,
    token: int,
    filas: list[tuple[str, str, str, bytes]],
    borrar: list[tuple[str, str]],
) -> bool:
    """Write one delta's rows only while this node holds the session with `token`; False otherwise."""
    dueno = await session.scalar(
        _GUARDAR_CERCADO,
        {
            "agente": agente_id,
            "nodo": nodo_id,
            "token": token,
            "tipos": [f[0] for f in filas],
            "idents": [f[1] for f in filas],
            "claves": [f[2] for f in filas],
            "cifrados": [f[3] for f in filas],
            "btipos": [b[0] for b in borrar],
            "bidents": [b[1] for b in borrar],
        },
    )
    return bool(dueno)
