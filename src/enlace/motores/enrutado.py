"""Routes each agent's session to its engine: official lines to the Cloud API, the rest to the main engine."""

from __future__ import annotations

from typing import Any

from enlace.motores.base import Motor, OpcionesInicio, ReceptorEventos, ResultadoEnvio

_PROPIOS = frozenset({"principal", "oficial", "nombre"})


class MotorEnrutado:
    """One `Motor` for the core whose calls go to the official engine for its lines (hybrid model)."""

    def __init__(self, principal: Motor, oficial: Any) -> None:
        self.principal = principal
        self.oficial = oficial
        # Lines are added from the panel at any time, so every core is wrapped; the stored engine name
        # (`sesiones_wa.motor`) stays the main engine's.
        self.nombre = principal.nombre

    def __getattr__(self, nombre: str) -> Any:
        """Engine-specific extras (the simulator's QR scan, ledger...) are the main engine's."""
        return getattr(self.principal, nombre)

    def __setattr__(self, nombre: str, valor: Any) -> None:
        # Only the router's own three attributes live here; anything else set on "the engine" (tests swap
        # the simulator's receiver) belongs to the main engine, so the wrapper stays transparent.
        if nombre in _PROPIOS:
            object.__setattr__(self, nombre, valor)
        else:
            setattr(self.principal, nombre, valor)

    def _de(self, agente_id: int) -> Any:
        return self.oficial if agente_id in self.oficial.numeros else self.principal

    def es_oficial(self, agente_id: int) -> bool:
        return agente_id in self.oficial.numeros

    async def iniciar(self, receptor: ReceptorEventos) -> None:
        await self.principal.iniciar(receptor)
        await self.oficial.iniciar(receptor)

    async def detener(self) -> None:
        await self.oficial.detener()
        await self.principal.detener()

    async def iniciar_sesion(self, agente_id: int, opciones: OpcionesInicio) -> None:
        await self._de(agente_id).iniciar_sesion(agente_id, opciones)

    async def pedir_codigo_emparejamiento(self, agente_id: int, telefono: str) -> str:
        return await self._de(agente_id).pedir_codigo_emparejamiento(agente_id, telefono)  # type: ignore[no-any-return]

    async def detener_sesion(self, agente_id: int) -> None:
        await self._de(agente_id).detener_sesion(agente_id)

    async def cerrar_sesion(self, agente_id: int) -> None:
        await self._de(agente_id).cerrar_sesion(agente_id)

    async def enviar_texto(self, agente_id: int, destino_jid: str, texto: str, wa_message_id: str) -> ResultadoEnvio:
        return await self._de(agente_id).enviar_texto(agente_id, destino_jid, texto, wa_message_id)  # type: ignore[no-any-return]

    async def enviar_plantilla(self, agente_id: int, destino_jid: str, **kwargs: Any) -> ResultadoEnvio:
        return await self.oficial.enviar_plantilla(agente_id, destino_jid, **kwargs)  # type: ignore[no-any-return]

    async def presencia(self, agente_id: int, destino_jid: str, estado: str) -> None:
        await self._de(agente_id).presencia(agente_id, destino_jid, estado)

    async def consultar_numero(self, agente_id: int, telefonos: list[str]) -> dict[str, str | None]:
        return await self._de(agente_id).consultar_numero(agente_id, telefonos)  # type: ignore[no-any-return]

    def nuevo_id_mensaje(self, agente_id: int) -> str:
        return self._de(agente_id).nuevo_id_mensaje(agente_id)  # type: ignore[no-any-return]
