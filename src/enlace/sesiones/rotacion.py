"""Re-encrypt every stored WhatsApp auth state under the current key (`enlace rotar-clave`).

It also converts sessions still stored as one blob into one row per key, so an operator can migrate
every session at once instead of waiting for each to be loaded.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from enlace.db.sesion import transaccion
from enlace.sesiones import repository as repo
from enlace.sesiones.cifrado import CredencialesIlegibles, Llavero, contexto_clave
from enlace.sesiones.credenciales import convertir_blob

LOTE = 500


@dataclass(slots=True)
class ResultadoRotacion:
    recifradas: int = 0  # sessions with at least one row re-encrypted (or converted from a blob)
    al_dia: int = 0  # sessions already entirely under the current key
    ilegibles: list[int] = field(default_factory=list)  # agent ids whose rows no configured key opens


async def rotar_claves(fabrica: async_sessionmaker[AsyncSession], llavero: Llavero) -> ResultadoRotacion:
    """Rows are locked batch by batch, so a running server's writes and the rotation never interleave."""
    recifradas: set[int] = set()
    ilegibles: set[int] = set()
    ultimo = 0
    while True:
        async with transaccion(fabrica) as s:
            sesiones = await repo.blobs_legados(s, ultimo, LOTE)
            for fila in sesiones:
                ultimo = fila.id
                if fila.credenciales is None:
                    continue
                try:
                    async with s.begin_nested():
                        await convertir_blob(s, llavero, fila.agente_id, fila.credenciales, fila.clave_id)
                except CredencialesIlegibles:
                    ilegibles.add(fila.agente_id)
                    continue
                recifradas.add(fila.agente_id)
        if len(sesiones) < LOTE:
            break
    despues: tuple[int, str, str] = (0, "", "")
    while True:
        async with transaccion(fabrica) as s:
            filas = await repo.credenciales_a_rotar(s, llavero.actual.id, despues, LOTE)
            for f in filas:
                despues = (f.agente_id, f.tipo, f.ident)
                if f.agente_id in ilegibles:
                    continue
                try:
                    f.clave_id, f.cifrado = llavero.recifrar(
                        f.clave_id, f.cifrado, contexto_clave(f.agente_id, f.tipo, f.ident)
                    )
                except CredencialesIlegibles:
                    ilegibles.add(f.agente_id)
                    continue
                recifradas.add(f.agente_id)
        if len(filas) < LOTE:
            break
    async with fabrica() as s:
        con_filas = await repo.agentes_con_filas(s)
    return ResultadoRotacion(
        recifradas=len(recifradas - ilegibles),
        al_dia=len(con_filas - recifradas - ilegibles),
        ilegibles=sorted(ilegibles),
    )
