"""Which realtime rooms a user joins on connect (the same scoping as the API's data)."""

from __future__ import annotations

from enlace.comun.actor import Actor


def salas_permitidas(actor: Actor) -> list[str]:
    """The rooms a client joins on connect."""
    if actor.es_admin:
        return ["supervision"]
    if actor.es_supervisor:
        return [f"equipo:{e}" for e in actor.equipo_ids]
    return [f"agente:{actor.agente_id}"] if actor.agente_id is not None else []
