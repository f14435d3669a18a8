"""Re-encrypt every stored WhatsApp auth state under the current key (`enlace rotar-clave`)."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from enlace.db.sesion import transaccion
from enlace.sesiones import repository as repo
from enlace.sesiones.cifrado import CredencialesIlegibles, Llavero, contexto_agente

LOTE = 100


@dataclass(slots=True)
class ResultadoRotacion:
    recifradas: int = 0
    al_dia: int = 0
    ilegibles: list[int] = field(default_factory=list)  # agent ids whose row no configured key opens


async def rotar_claves(fabrica: async_sessionmaker[AsyncSession], llavero: Llavero) -> ResultadoRotacion:
    """Rows are locked batch by batch, so a running server's writes and the rotation never interleave."""
    resultado = ResultadoRotacion()
    ultimo = 0
    while True:
        async with transaccion(fabrica) as s:
            filas = await repo.credenciales_cifradas(s, ultimo, LOTE)
            for fila in filas:
                ultimo = fila.id
                if fila.credenciales is None:
                    continue
                if not llavero.necesita_rotar(fila.clave_id):
                    resultado.al_dia += 1
                    continue
                try:
                    fila.clave_id, fila.credenciales = llavero.recifrar(
                        fila.clave_id or "", fila.credenciales, contexto_agente(fila.agente_id)
                    )
                except CredencialesIlegibles:
                    resultado.ilegibles.append(fila.agente_id)
                    continue
                resultado.recifradas += 1
        if len(filas) < LOTE:
            return resultado
