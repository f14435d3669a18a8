"""Realtime: socket.io server, rooms and events emitted after commit."""

from enlace.tiempo_real.bus import emitir, publicar, salas_agente, salas_de_agente

__all__ = ["emitir", "publicar", "salas_agente", "salas_de_agente"]
