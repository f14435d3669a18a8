"""A session's Baileys auth state as one encrypted row per key: load (converting legacy blobs), store deltas.

The engine reports every change as a delta (`{"creds": ...}` and/or `{"keys": {tipo: {id: valor | None}}}`);
`guardar` writes exactly the rows the delta names (None deletes the row) in one fenced transaction, so
the cost of a change is the number of keys it touches, never the size of the state. Sessions stored
before this (one blob in `sesiones_wa.credenciales`) become rows the first time they are loaded.
"""

from __future__ import annotations

from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from enlace.sesiones import repository as repo
from enlace.sesiones.cifrado import Llavero, contexto_agente, contexto_clave

log = structlog.get_logger(__name__)


def filas_de_delta(
    llavero: Llavero, agente_id: int, delta: dict[str, Any]
) -> tuple[list[tuple[str, str, str, bytes]], list[tuple[str, str]]]:
    """The rows to upsert (encrypted) and the rows to delete for one engine delta."""
    filas: list[tuple[str, str, str, bytes]] = []
    borrar: list[tuple[str, str]] = []
    creds = delta.get("creds")
    if creds is not None:
        clave_id, cifrado = llavero.cifrar(creds, contexto_clave(agente_id, repo.CREDS, ""))
        filas.append((repo.CREDS, "", clave_id, cifrado))
    for tipo, valores in (delta.get("keys") or {}).items():
        if tipo == repo.CREDS:
            continue  # a signal key type can never be named like the creds row
        for ident, valor in (valores or {}).items():
            if valor is None:
                borrar.append((tipo, ident))
            else:
                clave_id, cifrado = llavero.cifrar(valor, contexto_clave(agente_id, tipo, ident))
                filas.append((tipo, ident, clave_id, cifrado))
    return filas, borrar


async def guardar(
    s: AsyncSession, llavero: Llavero, agente_id: int, nodo_id: str, token: int, delta: dict[str, Any]
) -> bool:
    """Store one delta if this node still holds the session; False (nothing written) when it lost it."""
    filas, borrar = filas_de_delta(llavero, agente_id, delta)
    return await repo.guardar_cercado(s, agente_id, nodo_id, token, filas, borrar)


async def cargar(
    s: AsyncSession, llavero: Llavero, agente_id: int, blob: bytes | None, blob_clave_id: str | None
) -> dict[str, Any] | None:
    """The stored state `{creds, keys}` (None when the session was never linked).

    A legacy blob is converted to rows in the caller's transaction (and cleared), so the session
    resumes without a new QR. Raises `CredencialesIlegibles` when no configured key opens a row.
    """
    if blob is not None:
        await convertir_blob(s, llavero, agente_id, blob, blob_clave_id)
    estado: dict[str, Any] = {"creds": None, "keys": {}}
    for tipo, ident, clave_id, cifrado in await repo.leer_credenciales(s, agente_id):
        valor = llavero.descifrar_valor(clave_id, cifrado, contexto_clave(agente_id, tipo, ident))
        if tipo == repo.CREDS:
            estado["creds"] = valor
        else:
            estado["keys"].setdefault(tipo, {})[ident] = valor
    return estado if estado["creds"] is not None else None


async def convertir_blob(
    s: AsyncSession, llavero: Llavero, agente_id: int, blob: bytes, blob_clave_id: str | None
) -> int:
    """One-blob state → one row per key, in the caller's transaction; returns the rows written."""
    estado = llavero.descifrar(blob_clave_id or "", blob, contexto_agente(agente_id))
    filas, _ = filas_de_delta(llavero, agente_id, {"creds": estado.get("creds"), "keys": estado.get("keys") or {}})
    await repo.borrar_credenciales(s, agente_id)
    for inicio in range(0, len(filas), 1000):
        await repo.escribir_credenciales(s, agente_id, filas[inicio : inicio + 1000], [])
    log.info("credenciales_convertidas_a_filas", agente_id=agente_id, filas=len(filas))
    return len(filas)
