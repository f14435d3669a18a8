"""A TCP proxy on loopback that can cut every connection through it (a database outage, on demand)."""

from __future__ import annotations

import asyncio
import contextlib


class ProxyTCP:
    """Forwards 127.0.0.1:<puerto> to a destination; `cortar()` drops all connections and refuses new ones."""

    def __init__(self, host_destino: str, puerto_destino: int) -> None:
        self.host_destino = host_destino
        self.puerto_destino = puerto_destino
        self.abierto = True
        self.cortes = 0
        self._servidor: asyncio.Server | None = None
        self._escritores: set[asyncio.StreamWriter] = set()
        self._tareas: set[asyncio.Task[None]] = set()

    async def iniciar(self) -> int:
        self._servidor = await asyncio.start_server(self._atender, "127.0.0.1", 0)
        return int(self._servidor.sockets[0].getsockname()[1])

    async def cortar(self) -> None:
        """Like the database host going away: established connections reset, new ones refused."""
        self.abierto = False
        self.cortes += 1
        for escritor in list(self._escritores):
            escritor.transport.abort()
        self._escritores.clear()

    def reanudar(self) -> None:
        self.abierto = True

    async def detener(self) -> None:
        await self.cortar()
        if self._servidor is not None:
            self._servidor.close()
            await self._servidor.wait_closed()
        for tarea in list(self._tareas):
            tarea.cancel()
        await asyncio.gather(*self._tareas, return_exceptions=True)

    async def _atender(self, lector: asyncio.StreamReader, escritor: asyncio.StreamWriter) -> None:
        if not self.abierto:
            escritor.transport.abort()
            return
        try:
            lector_bd, escritor_bd = await asyncio.open_connection(self.host_destino, self.puerto_destino)
        except OSError:
            escritor.transport.abort()
            return
        self._escritores.update({escritor, escritor_bd})
        ida = asyncio.create_task(self._copiar(lector, escritor_bd))
        vuelta = asyncio.create_task(self._copiar(lector_bd, escritor))
        self._tareas.update({ida, vuelta})
        await asyncio.gather(ida, vuelta, return_exceptions=True)
        self._tareas.difference_update({ida, vuelta})
        for w in (escritor, escritor_bd):
            self._escritores.discard(w)
            with contextlib.suppress(Exception):
                w.transport.abort()

    async def _copiar(self, lector: asyncio.StreamReader, escritor: asyncio.StreamWriter) -> None:
        try:
            while self.abierto:
                datos = await lector.read(65536)
                if not datos or not self.abierto:
                    break
                escritor.write(datos)
                await escritor.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            with contextlib.suppress(Exception):
                escritor.transport.abort()
