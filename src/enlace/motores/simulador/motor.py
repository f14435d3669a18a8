"""The `simulador` engine: agents' sessions on the virtual network, plus the controls a demo or test uses.

Controls (not part of `Motor`): scan the QR, type the pairing code, inject failures, type on the agent's
phone, make a virtual person write. The API exposes them under `/api/simulador/...` only when
`ENLACE_MOTOR=simulador`.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

import structlog

from enlace.motores.base import (
    ClaseDesconexion,
    ErrorMotor,
    Evento,
    EventoCapping,
    EventoCodigoEmparejamiento,
    EventoConectado,
    EventoCredenciales,
    EventoDesconectado,
    EventoQR,
    EventoRestriccion,
    Medio,
    NivelCapping,
    OpcionesInicio,
    ReceptorEventos,
    ResultadoEnvio,
    SesionNoDisponible,
    TipoContenido,
)
from enlace.motores.simulador.ledger import Ledger
from enlace.motores.simulador.perfiles import numero_de_agente, telefono_canonico
from enlace.motores.simulador.red import (
    Cuenta,
    NotificacionToken,
    RedVirtual,
    Socket,
    codigo_emparejamiento,
    credenciales_iniciales,
    id_mensaje_web,
    qr_para,
    token_vencido,
)
from enlace.reloj import Reloj
from enlace.settings import Settings

log = structlog.get_logger(__name__)

VIDA_PRIMER_QR_S = 60
VIDA_QR_S = 20
MAX_QRS = 6  # then the link attempt times out (408), as WhatsApp Web does
# The WhatsApp Web version this client speaks (Baileys' built-in one unless the session is given another).
VERSION_WEB = (2, 3000, 1027934701)


class EstadoSocket(StrEnum):
    inactivo = "inactivo"
    esperando_qr = "esperando_qr"
    conectando = "conectando"
    conectado = "conectado"


class Fallo(StrEnum):
    desconexion = "desconexion"  # network drop (transient): the session must be started again
    cierre = "cierre"  # logged out from the phone (401)
    reemplazo = "reemplazo"  # another WhatsApp Web took the session (440)
    restriccion = "restriccion"  # 463: the account may not start new chats for a while
    bloqueo = "bloqueo"  # 403: the number is banned
    capping = "capping"  # new-chat quota warning
    cupo = "cupo"  # WhatsApp caps how many new chats the account may start (`cupo` = how many are left)
    error_envio = "error_envio"  # the next send(s) fail


@dataclass(slots=True, eq=False)
class _FalloEnvio:
    codigo: int | None
    excepcion: bool


@dataclass(slots=True, eq=False)
class _Sesion:
    agente_id: int
    estado: EstadoSocket = EstadoSocket.inactivo
    generacion: int = 0
    creds: dict[str, Any] | None = None
    cuenta: Cuenta | None = None
    qr: str | None = None
    qr_expira: datetime | None = None
    codigo: str | None = None
    telefono_codigo: str | None = None
    vinculo_expira: datetime | None = None  # when the current link attempt times out (408)
    tarea: asyncio.Task[None] | None = None
    fallos_envio: list[_FalloEnvio] = field(default_factory=list)
    presencias: dict[str, str] = field(default_factory=dict)
    # The client's trusted-contact tokens (auth-state keys `tctoken`, stored by the core like any key).
    tokens: dict[str, dict[str, Any]] = field(default_factory=dict)
    version: tuple[int, int, int] = VERSION_WEB


class MotorSimulador:
    """A node's engine on a virtual network (its own, or one shared with other nodes)."""

    nombre = "simulador"

    def __init__(
        self,
        reloj: Reloj,
        *,
        red: RedVirtual | None = None,
        semilla: int = 7,
        auto_escanear: bool = False,
        auto_escanear_s: float = 3.0,
        ruta_ledger: Path | str | None = None,
    ) -> None:
        self.reloj = reloj
        self._red_propia = red is None
        self.red = red or RedVirtual(reloj, semilla=semilla, ledger=Ledger(ruta_ledger))
        self.auto_escanear = auto_escanear
        self.auto_escanear_s = auto_escanear_s
        self._receptor: ReceptorEventos | None = None
        self._sesiones: dict[int, _Sesion] = {}
        self._viejas: set[asyncio.Task[None]] = set()

    @property
    def ledger(self) -> Ledger:
        return self.red.ledger

    # ---- Motor ------------------------------------------------------------------------------

    async def iniciar(self, receptor: ReceptorEventos) -> None:
        self._receptor = receptor

    async def detener(self) -> None:
        for agente_id in list(self._sesiones):
            await self.detener_sesion(agente_id)
        # Shutting down: now the sleeping session tasks may be cancelled.
        viejas = [t for t in self._viejas if not t.done() and t is not asyncio.current_task()]
        for tarea in viejas:
            tarea.cancel()
        await asyncio.gather(*viejas, return_exceptions=True)
        if self._red_propia:
            await self.red.cerrar()

    async def iniciar_sesion(self, agente_id: int, opciones: OpcionesInicio) -> None:
        s = self._sesiones.setdefault(agente_id, _Sesion(agente_id))
        self._cerrar_socket(s)  # like Baileys: end() the old socket before building a new one
        s.generacion += 1
        gen = s.generacion
        creds = (opciones.credenciales or {}).get("creds") or None
        llaves = (opciones.credenciales or {}).get("keys") or {}
        s.tokens = {jid: dict(v) for jid, v in (llaves.get("tctoken") or {}).items() if isinstance(v, dict)}
        version = opciones.extra.get("version_web")
        s.version = tuple(version) if version else VERSION_WEB  # type: ignore[assignment]
        if creds and creds.get("registered"):
            s.creds = creds
            s.estado = EstadoSocket.conectando
            s.tarea = self._tarea(self._reanudar(s, gen, creds))
            await asyncio.sleep(0)
            return
        s.creds = creds if creds and "noiseKey" in creds else credenciales_iniciales()
        s.estado = EstadoSocket.esperando_qr
        s.codigo = None
        s.tarea = self._tarea(self._vinculacion(s, gen, opciones.telefono_emparejamiento))
        await asyncio.sleep(0)

    async def pedir_codigo_emparejamiento(self, agente_id: int, telefono: str) -> str:
        s = self._sesiones.get(agente_id)
        if s is None or s.estado != EstadoSocket.esperando_qr:
            raise SesionNoDisponible("Inicia la vinculación antes de pedir el código de emparejamiento")
        canonico = telefono_canonico(telefono)
        if canonico is None:
            raise ErrorMotor(f"Teléfono inválido para emparejar: {telefono}")
        s.codigo = codigo_emparejamiento()
        s.telefono_codigo = canonico
        s.qr = None
        # Real seconds, like EventoQR.expira_en_s (WhatsApp's figure).
        escala = getattr(self.reloj, "velocidad", 1.0)
        restante = (s.vinculo_expira - self.reloj.ahora()).total_seconds() / escala if s.vinculo_expira else None
        await self._emitir(EventoCodigoEmparejamiento(agente_id, s.codigo, restante))
        if self.auto_escanear:
            gen = s.generacion
            codigo = s.codigo
            self.red.programar(self._auto(s, gen, lambda: self.confirmar_codigo(agente_id, codigo)))
        return s.codigo

    async def detener_sesion(self, agente_id: int) -> None:
        s = self._sesiones.get(agente_id)
        if s is None:
            return
        self._cerrar_socket(s)
        s.generacion += 1

    def entrantes_en_espera(self, agente_id: int) -> int:
        """Messages the network holds for this agent's linked number while its session is stopped.

        A real phone learns about them from a push notification; WhatsApp gives a linked device no
        such signal, so only engines that can know offer this (the core reconnects to receive them).
        """
        s = self._sesiones.get(agente_id)
        me = ((s.creds or {}).get("me") or {}) if s is not None else {}
        numero = telefono_canonico(str(me.get("id", ""))) if me else None
        return self.red.en_espera(numero) if numero else 0

    async def cerrar_sesion(self, agente_id: int) -> None:
        s = self._sesiones.get(agente_id)
        cuenta = s.cuenta if s else None
        if s is not None:
            token = ((s.creds or {}).get("sim") or {}).get("token")
            if token:
                self.red.revocar_token(token)
            self._cerrar_socket(s)
            s.generacion += 1
            s.creds = None
        if cuenta is not None:
            self.red.revocar(cuenta)
            await self._emitir(
                EventoDesconectado(agente_id, ClaseDesconexion.sesion_cerrada, 401, "Sesión cerrada desde Enlace")
            )

    async def enviar_texto(self, agente_id: int, destino_jid: str, texto: str, wa_message_id: str) -> ResultadoEnvio:
        s, cuenta = self._conectada(agente_id)
        ahora = self.reloj.ahora()
        perfil = self.red.resolver(destino_jid)
        if perfil is None:
            raise ErrorMotor(f"Destino desconocido: {destino_jid}", codigo=400)
        if self.red.destinatario(destino_jid) is None:
            # relayMessage finds no devices for an id nobody is registered under: it sends to none and
            # resolves. The sender sees its own copy and nothing else, ever.
            await self._lanzar(
                self.red.ciclo_mensaje(
                    cuenta, perfil, wa_message_id, texto, eco=True, entregable=False, chat_jid=destino_jid
                )
            )
            return ResultadoEnvio(wa_message_id, ahora)
        if s.fallos_envio:
            fallo = s.fallos_envio.pop(0)
            if fallo.excepcion:
                raise ErrorMotor("Connection Closed", codigo=fallo.codigo, reintentable=True)
            await self._lanzar(
                self.red.ciclo_mensaje(cuenta, perfil, wa_message_id, texto, eco=True, codigo_error=fallo.codigo)
            )
            return ResultadoEnvio(wa_message_id, ahora)
        rechazo = self._rechazo_chat_nuevo(s, cuenta, perfil)
        if rechazo is not None:
            await self._lanzar(self.red.ciclo_mensaje(cuenta, perfil, wa_message_id, texto, eco=True, codigo_error=463))
            await self._lanzar(self._recuperar_token(s, s.generacion, cuenta, perfil))
            return ResultadoEnvio(wa_message_id, ahora)
        if perfil.en_whatsapp:
            # Written (fsync'd) before we return: once the caller hears "sent", the phone has it.
            self.red.registrar_recepcion(cuenta, perfil, wa_message_id, texto, "sistema")
        await self._lanzar(self.red.ciclo_mensaje(cuenta, perfil, wa_message_id, texto, eco=True))
        return ResultadoEnvio(wa_message_id, ahora)

    async def presencia(self, agente_id: int, destino_jid: str, estado: str) -> None:
        s, _ = self._conectada(agente_id)
        if estado not in ("composing", "paused", "available", "unavailable", "recording"):
            raise ErrorMotor(f"Presencia desconocida: {estado}")
        s.presencias[destino_jid] = estado

    async def consultar_numero(self, agente_id: int, telefonos: list[str]) -> dict[str, str | None]:
        self._conectada(agente_id)
        self.red.consultas.setdefault(agente_id, []).append((self.reloj.ahora(), len(telefonos)))
        return {telefono: self.red.consultar(telefono) for telefono in telefonos}

    def nuevo_id_mensaje(self, agente_id: int) -> str:
        return id_mensaje_web()

    def consultar_envio(self, agente_id: int, destino_jid: str, wa_message_id: str) -> bool | None:
        """Did the network take this message? From the durable ledger; None when it can't know.

        Optional capability the dispatcher uses to reconcile rows left `enviando` by a crash
        (engines without it rely on echoes and receipts). Only people on WhatsApp leave a ledger line.
        """
        perfil = self.red.destinatario(destino_jid)
        if perfil is None:
            return None
        recibidos = self.ledger.de(perfil.telefono)
        return any(e.wa_message_id == wa_message_id and e.agente_id == agente_id for e in recibidos)

    # ---- simulator controls ------------------------------------------------------------

    def qr_actual(self, agente_id: int) -> str | None:
        s = self._sesiones.get(agente_id)
        return s.qr if s and s.estado == EstadoSocket.esperando_qr else None

    def estado_socket(self, agente_id: int) -> EstadoSocket:
        s = self._sesiones.get(agente_id)
        return s.estado if s else EstadoSocket.inactivo

    def presencia_en(self, agente_id: int, destino_jid: str) -> str | None:
        s = self._sesiones.get(agente_id)
        return s.presencias.get(destino_jid) if s else None

    def numero_por_defecto(self, agente_id: int) -> str:
        return numero_de_agente(self.red.semilla, agente_id)

    async def escanear_qr(self, agente_id: int, qr: str | None = None, numero: str | None = None) -> str:
        """The agent points the phone at the QR. Returns the number that gets linked."""
        s = self._sesiones.get(agente_id)
        if s is None or s.estado != EstadoSocket.esperando_qr or s.qr is None:
            raise ErrorMotor("No hay un código QR vigente para este agente")
        if qr is not None and qr != s.qr:
            raise ErrorMotor("El código QR ya no es válido: escanea el más reciente")
        numero = self._vincular(s, numero)
        await asyncio.sleep(0)
        return numero

    async def confirmar_codigo(self, agente_id: int, codigo: str) -> str:
        """The agent types the pairing code on the phone."""
        s = self._sesiones.get(agente_id)
        if s is None or s.estado != EstadoSocket.esperando_qr or s.codigo is None:
            raise ErrorMotor("No hay un código de emparejamiento vigente para este agente")
        if codigo.replace("-", "").upper() != s.codigo:
            raise ErrorMotor("El código de emparejamiento no coincide")
        numero = self._vincular(s, s.telefono_codigo)
        await asyncio.sleep(0)
        return numero

    async def inyectar_fallo(
        self,
        agente_id: int,
        fallo: Fallo | str,
        *,
        codigo: int | None = None,
        caida_s: float = 0.0,
        duracion_s: float = 24 * 3600,
        nivel: NivelCapping | str = NivelCapping.primer_aviso,
        veces: int = 1,
        excepcion: bool = False,
        cupo: int | None = None,
    ) -> None:
        fallo = Fallo(fallo)
        s = self._sesiones.get(agente_id)
        cuenta = (s.cuenta if s else None) or self.red.cuenta_de_agente(agente_id)
        if fallo == Fallo.error_envio:
            s = self._sesiones.setdefault(agente_id, _Sesion(agente_id))
            s.fallos_envio.extend(_FalloEnvio(codigo if codigo is not None else 479, excepcion) for _ in range(veces))
            return
        if cuenta is None:
            raise ErrorMotor("Este agente no tiene una cuenta vinculada en el simulador")
        if fallo == Fallo.restriccion:
            cuenta.restringida_hasta = self.reloj.ahora() + timedelta(seconds=duracion_s)
            await self.red.entregar(
                cuenta,
                EventoDesconectado(agente_id, ClaseDesconexion.restringida, 463, "Cuenta restringida temporalmente"),
            )
            # NotificationUserReachoutTimelockUpdate → connection.update reachoutTimeLock.
            await self.red.entregar(cuenta, self._restriccion(cuenta))
            return
        if fallo == Fallo.cupo:
            cuenta.cupo_chats_nuevos = cupo
            await self.red.entregar(cuenta, self._restriccion(cuenta))
            return
        if fallo == Fallo.capping:
            cuenta.capping = NivelCapping(nivel)
            await self.red.entregar(cuenta, EventoCapping(agente_id, cuenta.capping, "Cupo de chats nuevos"))
            return
        # The rest close the socket.
        conectado = s is not None and s.cuenta is cuenta
        if s is not None:
            self._cerrar_socket(s)
            s.generacion += 1
        if fallo == Fallo.desconexion:
            if caida_s:
                self.red.marcar_caida(agente_id, self.reloj.ahora() + timedelta(seconds=caida_s))
            evento = EventoDesconectado(agente_id, ClaseDesconexion.transitoria, codigo or 428, "Conexión perdida")
        elif fallo == Fallo.cierre:
            self.red.revocar(cuenta)
            evento = EventoDesconectado(
                agente_id, ClaseDesconexion.sesion_cerrada, 401, "Sesión cerrada desde el teléfono"
            )
        elif fallo == Fallo.reemplazo:
            evento = EventoDesconectado(
                agente_id, ClaseDesconexion.reemplazada, 440, "Otra conexión de WhatsApp Web tomó esta sesión"
            )
        else:
            self.red.revocar(cuenta)
            evento = EventoDesconectado(agente_id, ClaseDesconexion.bloqueada, 403, "Número bloqueado por WhatsApp")
        if conectado:
            await self._emitir(evento)

    async def escribir_desde_telefono(self, agente_id: int, telefono: str, texto: str) -> str:
        """The agent types a message on the phone (not through Enlace)."""
        cuenta = self._cuenta(agente_id)
        perfil = self.red.resolver(telefono)
        if perfil is None:
            raise ErrorMotor(f"Teléfono inválido: {telefono}")
        return await self.red.escrito_en_telefono(cuenta, perfil, texto)

    async def recibir_de(
        self,
        agente_id: int,
        telefono: str,
        texto: str | None,
        *,
        tipo: TipoContenido = TipoContenido.texto,
        medio: Medio | None = None,
        referencia_id: str | None = None,
    ) -> str:
        """A virtual person writes to the agent's number (text, media with caption, a reaction...)."""
        cuenta = self._cuenta(agente_id)
        perfil = self.red.resolver(telefono)
        if perfil is None:
            raise ErrorMotor(f"Teléfono inválido: {telefono}")
        return await self.red.recibir(
            cuenta, perfil, texto, tipo=tipo, medio=medio, referencia_id=referencia_id, rng=random.Random()
        )

    # ---- internals ---------------------------------------------------------------------

    async def _lanzar(self, corrutina: Any) -> None:
        # One yield lets the new task reach its first clock sleep before the caller moves time on.
        self.red.programar(corrutina)
        await asyncio.sleep(0)

    def _tarea(self, corrutina: Any) -> asyncio.Task[None]:
        return asyncio.get_running_loop().create_task(corrutina)

    def _cuenta(self, agente_id: int) -> Cuenta:
        s = self._sesiones.get(agente_id)
        cuenta = (s.cuenta if s else None) or self.red.cuenta_de_agente(agente_id)
        if cuenta is None:
            raise ErrorMotor("Este agente no tiene una cuenta vinculada en el simulador")
        return cuenta

    def _conectada(self, agente_id: int) -> tuple[_Sesion, Cuenta]:
        s = self._sesiones.get(agente_id)
        if s is None or s.estado != EstadoSocket.conectado or s.cuenta is None:
            raise SesionNoDisponible("La sesión de WhatsApp de este agente no está conectada")
        return s, s.cuenta

    def _cerrar_socket(self, s: _Sesion) -> None:
        # The session's task is not cancelled: it may be inside a consumer's handler (a database write).
        # It finds the generation changed at its next step and ends there.
        if s.tarea is not None:
            self._viejas.add(s.tarea)
            s.tarea.add_done_callback(self._viejas.discard)
        s.tarea = None
        if s.cuenta is not None:
            self.red.desenlazar(s.cuenta, Socket(self, s.agente_id))
        s.cuenta = None
        s.estado = EstadoSocket.inactivo
        s.qr = None
        s.qr_expira = None
        s.codigo = None

    def _rechazo_chat_nuevo(self, s: _Sesion, cuenta: Cuenta, perfil: Any) -> str | None:
        """Why the server refuses this 1:1 message with 463, or None when it passes.

        A message carrying the person's valid trusted-contact token always passes. Without one it is a
        reach-out: refused while the account is timelocked, and counted against the new-chat cap.
        """
        ahora = self.reloj.ahora()
        token = s.tokens.get(perfil.lid or perfil.jid) or {}
        if token.get("token") and not token_vencido(token.get("timestamp"), ahora):
            return None
        if cuenta.restringida(ahora):
            return "timelock"
        if cuenta.cupo_chats_nuevos is not None and perfil.telefono not in cuenta.chats:
            if cuenta.cupo_chats_nuevos <= 0:
                return "cupo"
            cuenta.cupo_chats_nuevos -= 1
        return None

    async def _recuperar_token(self, s: _Sesion, gen: int, cuenta: Cuenta, perfil: Any) -> None:
        """Baileys' 463 recovery: issuePrivacyTokens; the server answers with the person's token if they trust us."""
        notificacion = self.red.token_para(cuenta, perfil)
        if notificacion is not None and s.generacion == gen:
            await self._guardar_token(s, notificacion)

    async def _guardar_token(self, s: _Sesion, n: NotificacionToken) -> None:
        """storeTcTokensFromIqResult: keep the newest token per jid, in the auth state (stored by the core)."""
        actual = s.tokens.get(n.jid) or {}
        if int(actual.get("timestamp") or 0) > n.t:
            return
        entrada = {**actual, "token": n.token, "timestamp": str(n.t)}
        s.tokens[n.jid] = entrada
        await self._emitir(EventoCredenciales(s.agente_id, {"keys": {"tctoken": {n.jid: entrada}}}))

    async def _emitir(self, evento: Evento | NotificacionToken) -> None:
        if isinstance(evento, NotificacionToken):
            s = self._sesiones.get(evento.agente_id)
            if s is not None and s.estado == EstadoSocket.conectado:
                await self._guardar_token(s, evento)
            return
        if self._receptor is None:
            return
        try:
            await self._receptor(evento)
        except Exception:  # consumers must not break the engine
            log.exception("simulador.receptor_fallo", tipo=type(evento).__name__)

    async def _auto(self, s: _Sesion, gen: int, accion: Callable[[], Awaitable[str]]) -> None:
        """Demo mode: the virtual phone scans (or types the code) a few seconds after it appears."""
        await self.reloj.dormir(self.auto_escanear_s)
        if s.generacion == gen and s.estado == EstadoSocket.esperando_qr:
            await accion()

    async def _vinculacion(self, s: _Sesion, gen: int, telefono_emparejamiento: str | None) -> None:
        assert s.creds is not None
        # The whole attempt, in virtual time (each QR lives its real seconds × the clock's speed).
        escala = getattr(self.reloj, "velocidad", 1.0)
        s.vinculo_expira = self.reloj.ahora() + timedelta(
            seconds=(VIDA_PRIMER_QR_S + VIDA_QR_S * (MAX_QRS - 1)) * escala
        )
        await self._emitir(EventoCredenciales(s.agente_id, {"creds": dict(s.creds)}))
        if telefono_emparejamiento:
            await self.pedir_codigo_emparejamiento(s.agente_id, telefono_emparejamiento)
        elif self.auto_escanear:
            self.red.programar(self._auto(s, gen, lambda: self.escanear_qr(s.agente_id)))
        for i in range(MAX_QRS):
            if s.generacion != gen or s.estado != EstadoSocket.esperando_qr:
                return
            vida = VIDA_PRIMER_QR_S if i == 0 else VIDA_QR_S
            # A person scans in real seconds: on the accelerated clock the QR lives speed × longer in
            # virtual time (60 s / 20 s of real time, as on WhatsApp), not 0.1 s at 600x. The event
            # keeps WhatsApp's figure in real seconds, like the Baileys engine.
            virtual = vida * getattr(self.reloj, "velocidad", 1.0)
            if s.codigo is None:
                s.qr = qr_para(s.creds)
                s.qr_expira = self.reloj.ahora() + timedelta(seconds=virtual)
                await self._emitir(EventoQR(s.agente_id, s.qr, vida))
            await self.reloj.dormir(virtual)
        if s.generacion == gen and s.estado == EstadoSocket.esperando_qr:
            self._cerrar_socket(s)
            await self._emitir(
                EventoDesconectado(
                    s.agente_id, ClaseDesconexion.transitoria, 408, "Se agotó el tiempo para vincular el teléfono"
                )
            )

    def _vincular(self, s: _Sesion, numero: str | None) -> str:
        canonico = telefono_canonico(numero) if numero else None
        if numero and canonico is None:
            raise ErrorMotor(f"Número inválido: {numero}")
        canonico = canonico or self.numero_por_defecto(s.agente_id)
        cuenta = self.red.cuenta_nueva(canonico, s.agente_id)
        if s.tarea is not None:
            self._viejas.add(s.tarea)
            s.tarea.add_done_callback(self._viejas.discard)
        s.generacion += 1
        s.estado = EstadoSocket.conectando
        s.qr = None
        s.codigo = None
        s.tarea = self._tarea(self._completar_vinculo(s, s.generacion, cuenta))
        return canonico

    async def _completar_vinculo(self, s: _Sesion, gen: int, cuenta: Cuenta) -> None:
        await self.reloj.dormir(1.0)
        if s.generacion != gen:
            return
        creds = dict(s.creds or credenciales_iniciales())
        creds.update(
            registered=True,
            me={"id": cuenta.wa_id.replace("@", ":1@"), "lid": cuenta.lid, "name": ""},
            sim={"token": cuenta.token, "lid": cuenta.lid},
        )
        s.creds = creds
        rng = random.Random()
        llaves = {
            "pre-key": {str(i): {"private": rng.getrandbits(128).to_bytes(16).hex()} for i in range(1, 6)},
            "app-state-sync-key": {"AAAAAB": {"keyData": rng.getrandbits(256).to_bytes(32).hex()}},
        }
        # Stored before connecting: a crash right after pairing must not cost another QR.
        await self._emitir(EventoCredenciales(s.agente_id, {"creds": creds, "keys": llaves}))
        await self._abrir(s, gen, cuenta)

    async def _reanudar(self, s: _Sesion, gen: int, creds: dict[str, Any]) -> None:
        rng = random.Random()
        await self.reloj.dormir(rng.uniform(0.5, 2.0))
        if s.generacion != gen:
            return
        if self.red.caida(s.agente_id):
            self._cerrar_socket(s)
            await self._emitir(
                EventoDesconectado(s.agente_id, ClaseDesconexion.transitoria, 408, "Sin conexión con WhatsApp")
            )
            return
        cuenta = self.red.cuenta_desde_credenciales(s.agente_id, creds)
        if cuenta is None:
            self._cerrar_socket(s)
            s.creds = None
            await self._emitir(
                EventoDesconectado(s.agente_id, ClaseDesconexion.sesion_cerrada, 401, "El dispositivo fue desvinculado")
            )
            return
        await self._abrir(s, gen, cuenta)

    async def _abrir(self, s: _Sesion, gen: int, cuenta: Cuenta) -> None:
        if s.generacion != gen:
            return
        minima = self.red.version_minima
        if minima is not None and s.version < minima:
            # The server closes the stream for an outdated client: retrying with the same version cannot help.
            self._cerrar_socket(s)
            await self._emitir(
                EventoDesconectado(
                    s.agente_id,
                    ClaseDesconexion.desactualizada,
                    405,
                    "WhatsApp rechazó la versión de WhatsApp Web del cliente: hay que actualizarla",
                )
            )
            return
        s.cuenta = cuenta
        s.estado = EstadoSocket.conectado
        socket = Socket(self, s.agente_id)
        anterior, en_espera = self.red.enlazar(cuenta, socket)
        if anterior is not None:
            await anterior.motor._reemplazada(anterior.agente_id)
        await self._emitir(EventoConectado(s.agente_id, cuenta.numero, cuenta.wa_id, cuenta.lid or None))
        # What fetchAccountReachoutTimelock / fetchNewChatMessageCap answer right after the socket opens.
        await self._emitir(self._restriccion(cuenta))
        for evento in en_espera:
            await self._emitir(evento)

    def _restriccion(self, cuenta: Cuenta) -> EventoRestriccion:
        activo = cuenta.restringida(self.reloj.ahora())
        partes = []
        if activo:
            partes.append("WhatsApp restringió los chats nuevos de esta cuenta")
        if cuenta.cupo_chats_nuevos is not None:
            partes.append(f"cupo de chats nuevos: {cuenta.cupo_chats_nuevos}")
        return EventoRestriccion(
            cuenta.agente_id,
            timelock_activo=activo,
            timelock_hasta=cuenta.restringida_hasta if activo else None,
            cupo_chats_nuevos=cuenta.cupo_chats_nuevos,
            detalle="; ".join(partes),
        )

    async def _reemplazada(self, agente_id: int) -> None:
        s = self._sesiones.get(agente_id)
        if s is None:
            return
        s.cuenta = None  # already unbound by the network: don't unbind the new socket
        self._cerrar_socket(s)
        s.generacion += 1
        await self._emitir(
            EventoDesconectado(
                agente_id, ClaseDesconexion.reemplazada, 440, "Otra conexión de WhatsApp Web tomó esta sesión"
            )
        )

    @property
    def sesiones_activas(self) -> int:
        return sum(1 for s in self._sesiones.values() if s.estado != EstadoSocket.inactivo)


def crear_motor_simulador(settings: Settings, reloj: Reloj) -> MotorSimulador:
    """The engine for ENLACE_MOTOR=simulador (seed, demo auto-scan and ledger file from settings)."""
    return MotorSimulador(
        reloj,
        semilla=settings.sim_semilla,
        auto_escanear=settings.sim_auto_escanear,
        ruta_ledger=settings.sim_ledger,
    )
