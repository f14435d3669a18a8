"""The authenticated actor every service and repository call is scoped by."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Actor:
    usuario_id: int
    rol: str  # admin | supervisor | agente
    nombre: str = ""
    agente_id: int | None = None  # for agents: their `agentes` row
    equipo_ids: tuple[int, ...] = ()  # for supervisors: the teams they lead
    alcances: tuple[str, ...] = field(default=())  # API token scopes; empty = session (all of the role)
    via_token: bool = False
    debe_cambiar_password: bool = False  # the one-time password: only "me", logout and the change itself

    @property
    def es_admin(self) -> bool:
        return self.rol == "admin"

    @property
    def es_supervisor(self) -> bool:
        return self.rol == "supervisor"

    @property
    def es_agente(self) -> bool:
        return self.rol == "agente"


SISTEMA = Actor(usuario_id=0, rol="admin", nombre="sistema")
