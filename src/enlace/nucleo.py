"""The running core of one node: settings, clock, database, engine and the domain components.

Engine events enter `recibir_evento` and fan out to the handlers each component registered with
`suscribir`. Components start in order and stop in reverse order.
"""

from __future__ import annotations

import json
import os
import socket
from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import structlog
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from enlace.auth.seguridad import configurar_hilos
from enlace.db.sesion import crear_fabrica, crear_motor_bd, esperar_post_commit
from enlace.motores.base import Evento, Motor
from enlace.reloj import Reloj, RelojAcelerado, RelojReal
from enlace.settings import Motor as NombreMotor
from enlace.settings import Settings

log = structlog.get_logger(__name__)

Manejador = Callable[[Any], Awaitable[None]]


class Componente(Protocol):
    async def iniciar(self) -> None: ...

    async def detener(self) -> None: ...


def reloj_por_defecto(settings: Settings) -> Reloj:
    if settings.motor == NombreMotor.simulador and (settings.sim_velocidad != 1 or settings.sim_inicio is not None):
        return RelojAcelerado(settings.sim_velocidad, settings.sim_inicio)
    return RelojReal()


class Nucleo:
    def __init__(
        self,
        settings: Settings,
        database_url: str,
        *,
        reloj: Reloj | None = None,
        motor: Motor | None = None,
        con_componentes: bool = True,
    ) -> None:
        self.settings = settings
        self.database_url = database_url
        self.reloj: Reloj = reloj or reloj_por_defecto(settings)
        # Logins, tokens and throttling follow the wall clock even when the simulator accelerates time
        # (a 12-hour login must not expire in 72 s at 600x); tests with a manual clock drive both.
        self.reloj_seguridad: Reloj = RelojReal() if isinstance(self.reloj, RelojAcelerado) else self.reloj
        configurar_hilos(settings.hash_hilos)
        self.nodo_id = settings.nodo_id or f"{socket.gethostname()}-{os.getpid()}"
        self.motor_bd: AsyncEngine = crear_motor_bd(database_url)
        self.fabrica: async_sessionmaker[AsyncSession] = crear_fabrica(self.motor_bd, self.reloj)
        self._motor = motor
        self.con_componentes = con_componentes
        self._suscriptores: dict[type, list[Manejador]] = defaultdict(list)
        self.componentes: list[Componente] = []
        self.iniciado = False
        # Domain components, set in `iniciar` (None when con_componentes=False).
        self.sesiones: Any = None  # enlace.sesiones.manager.SessionManager
        self.captura: Any = None  # enlace.captura.service.Captura
        self.despachador: Any = None  # enlace.envios.despachador.Despachador
        self.sio: Any = None  # socket.io server (enlace.api_tiempo_real)
        self.tareas: Any = None  # enlace.tareas.Tareas (background jobs), when components run

    @property
    def motor(self) -> Motor:
        if self._motor is None:
            from enlace.motores.fabrica import crear_motor
            from enlace.oficial.enlaces_motor import enlaces

            self._motor = crear_motor(
                self.settings, self.reloj, self.fabrica, enlaces(self.fabrica, self.settings, self.reloj)
            )
        return self._motor

    def suscribir(self, tipo: type, manejador: Manejador) -> None:
        self._suscriptores[tipo].append(manejador)

    async def recibir_evento(self, evento: Evento) -> None:
        for manejador in self._suscriptores.get(type(evento), ()):
            try:
                await manejador(evento)
            except Exception:
                log.exception("manejador_evento_fallo", evento=type(evento).__name__)

    async def iniciar(self) -> None:
        if self.iniciado:
            return
        if isinstance(self.reloj, RelojAcelerado):
            await self._anclar_reloj(self.reloj)
        if self.con_componentes:
            self._construir_componentes()
            await self.motor.iniciar(self.recibir_evento)
            for componente in self.componentes:
                await componente.iniciar()
        self.iniciado = True
        log.info("nucleo_iniciado", nodo=self.nodo_id, motor=self.settings.motor.value)

    async def _anclar_reloj(self, reloj: RelojAcelerado) -> None:
        """Share one simulated timeline across restarts and nodes (stored in `ajustes`)."""
        from datetime import datetime

        from sqlalchemy import text

        async with self.fabrica() as session:
            fila = await session.scalar(text("SELECT valor FROM ajustes WHERE clave = 'reloj_simulado' FOR UPDATE"))
            if fila and float(fila.get("velocidad", 0)) == reloj.velocidad:
                reloj.anclar(datetime.fromisoformat(fila["inicio"]), float(fila["origen_real"]))
            else:
                valor = {
                    "inicio": reloj.inicio.isoformat(),
                    "origen_real": reloj.origen_real,
                    "velocidad": reloj.velocidad,
                }
                await session.execute(
                    text("""INSERT INTO ajustes (clave, valor) VALUES ('reloj_simulado', CAST(:v AS jsonb))
                            ON CONFLICT (clave) DO UPDATE SET valor = EXCLUDED.valor"""),
                    {"v": json.dumps(valor)},
                )
            await session.commit()

    def _construir_componentes(self) -> None:
        """Each domain adds its component here, in start order."""
        # -- sesiones (SessionManager) --
        from enlace.sesiones.manager import SessionManager

        self.sesiones = SessionManager.desde_nucleo(self)
        self.sesiones.suscribir(self.suscribir)
        self.componentes.append(self.sesiones)
        # -- captura --
        from enlace.captura.service import Captura

        self.captura = Captura(self.fabrica, self.reloj, self.settings, motor=lambda: self.motor)
        self.captura.suscribir_en(self)
        self.componentes.append(self.captura)
        # -- envios (Despachador) --
        from enlace.envios.despachador import Despachador

        self.despachador = Despachador.desde_nucleo(self)
        self.despachador.suscribir(self.suscribir)
        self.componentes.append(self.despachador)
        # -- background jobs: one procrastinate app and worker; each domain registers its queue and jobs --
        from enlace.tareas import Tareas

        self.tareas = Tareas(self.database_url, nodo_id=self.nodo_id)
        # -- webhooks (CRM deliveries: queue `webhooks`) --
        from enlace.webhooks.tasks import ComponenteWebhooks

        self.componentes.append(ComponenteWebhooks(self, self.tareas))
        # -- carteras (large imports, expiry of idle assignments, stalled imports: queue `carteras`) --
        from enlace.carteras import tasks as tareas_carteras

        tareas_carteras.registrar(self.tareas, self)
        # -- cumplimiento (daily retention of message bodies) --
        from enlace.cumplimiento.tasks import ComponenteRetencion

        self.componentes.append(ComponenteRetencion(self))
        # The worker starts last (every job is defined by then) and stops first.
        self.componentes.append(self.tareas)

    async def detener(self) -> None:
        for componente in reversed(self.componentes):
            try:
                await componente.detener()
            except Exception:
                log.exception("componente_no_se_detuvo", componente=type(componente).__name__)
        if self.con_componentes and self._motor is not None and self.iniciado:
            try:
                await self._motor.detener()
            except Exception:
                log.exception("motor_no_se_detuvo")
        await esperar_post_commit()
        await self.motor_bd.dispose()
        self.iniciado = False
        log.info("nucleo_detenido", nodo=self.nodo_id)
