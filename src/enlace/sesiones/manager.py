"""SessionManager: the WhatsApp sessions this node holds — state machine, leases, credentials, reconnects.

States (stored in `sesiones_wa.estado`):

    desconectada ──conectar──▶ conectando ──(no credentials)──▶ esperando_qr ──scan──▶ conectada
    conectada ──transient drop──▶ reconectando ──backoff + jitter──▶ conectando ──▶ conectada
    any ──440──▶ reemplazada (stop, never loop)     any ──401/403──▶ sesion_cerrada (credentials voided)
    conectada ──463──▶ restringida (socket kept for replies; sending stops until someone reconnects)

A node owns a session through a lease row (node id, expiry, fencing token); every write is fenced by
the token, so a node that lost its lease stops instead of overwriting the new owner. The manager runs
its own short transactions (it is a runtime component, like the dispatcher) and never holds a lock
while it calls the engine.
"""

from __future__ import annotations

import asyncio
import random
import socket
from collections.abc import Coroutine
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import psutil
import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from enlace.comun.telefonos import digitos_para_emparejar
from enlace.db.sesion import transaccion
from enlace.errores import Conflicto, EntradaInvalida, ServicioNoDisponible
from enlace.motores.base import (
    ClaseDesconexion,
    EstadoEntrega,
    EventoCapping,
    EventoCodigoEmparejamiento,
    EventoConectado,
    EventoCredenciales,
    EventoDesconectado,
    EventoEstado,
    EventoQR,
    Motor,
    OpcionesInicio,
)
from enlace.reloj import Reloj, RelojAcelerado
from enlace.sesiones import credenciales as almacen
from enlace.sesiones import repository as repo
from enlace.sesiones.cifrado import CredencialesIlegibles, Llavero, aplicar_delta
from enlace.settings import Settings
from enlace.tiempo_real import emitir, publicar, salas_de_agente

if TYPE_CHECKING:
    from enlace.nucleo import Nucleo

log = structlog.get_logger(__name__)

# Reconnect backoff: 2 s, 4 s, 8 s ... capped at 5 min, each drawn in [d/2, d] (jitter spreads 210 agents).
BACKOFF_BASE_S = 2.0
BACKOFF_TOPE_S = 300.0
# Leases are in database time (real seconds) and outlive a few renewal periods, so a busy node keeps them.
LEASE_S = 60.0
PERIODO_VIGILANCIA_S = 15.0  # on the injected clock (idle stops are domain time)
PERIODO_MINIMO_REAL_S = 0.5  # ...but never spin faster than this on an accelerated clock
ESPERA_QR_S = 15.0  # real seconds to wait for the engine's first QR before asking for a pairing code

ACTIVOS = ("conectando", "esperando_qr", "conectada", "reconectando", "restringida")


@dataclass(slots=True, eq=False)
class _Control:
    """What this node knows about a session it holds."""

    agente_id: int
    token: int = 0
    estado: str = "conectando"
    credenciales: dict[str, Any] | None = None
    qr: str | None = None
    qr_expira: datetime | None = None
    codigo: str | None = None
    codigo_expira: datetime | None = None
    capping: str = "ninguno"
    intentos: int = 0
    reconexion: asyncio.Task[None] | None = None
    actividad: datetime | None = None
    hay_qr: asyncio.Event = field(default_factory=asyncio.Event)


@dataclass(slots=True)
class EstadoVivo:
    """The volatile part of a session's state, only on the node that holds it."""

    estado: str
    qr: str | None
    qr_expira: datetime | None
    codigo: str | None
    capping: str
    intentos: int
    codigo_expira: datetime | None = None


def nodo_local_muerto(nodo_id: str) -> bool:
    """A node id of the default form `<host>-<pid>` on this host whose process is gone (kill -9, crash)."""
    host, _, pid = nodo_id.rpartition("-")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    return not psutil.pid_exists(int(pid))


def telefono_para_emparejar(telefono: str) -> str:
    """'+52 55 1234 5678' / '5512345678' / '5215512345678' -> '525512345678' (digits WhatsApp expects)."""
    digitos = digitos_para_emparejar(telefono or "")
    if digitos is not None:
        return digitos
    raise EntradaInvalida(
        "telefono: escribe el número del celular a vincular con lada, por ejemplo 55 1234 5678 o +52 55 1234 5678."
    )


class SessionManager:
    def __init__(
        self,
        *,
        settings: Settings,
        reloj: Reloj,
        fabrica: async_sessionmaker[AsyncSession],
        motor: Motor,
        nodo_id: str,
        llavero: Llavero | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.settings = settings
        self.reloj = reloj
        self.fabrica = fabrica
        self.motor = motor
        self.nodo_id = nodo_id
        self.llavero = llavero or Llavero.desde_settings(settings)
        self.max_sesiones = settings.max_sesiones_nodo
        # The idle stop is meant in a person's minutes: on the accelerated simulator 30 minutes would be
        # 3 real seconds at 600x, so the virtual timeout is scaled by the speed.
        self._escala = reloj.velocidad if isinstance(reloj, RelojAcelerado) else 1.0
        self.inactiva = timedelta(minutes=settings.sesion_inactiva_minutos) * self._escala
        self.lease_s = LEASE_S
        self._rng = rng or random.Random()
        self._controles: dict[int, _Control] = {}
        self._candados: dict[int, asyncio.Lock] = {}
        self._tareas: set[asyncio.Task[None]] = set()
        self._vigilancia: asyncio.Task[None] | None = None
        self._deteniendo = False

    @classmethod
    def desde_nucleo(cls, nucleo: Nucleo) -> SessionManager:
        return cls(
            settings=nucleo.settings,
            reloj=nucleo.reloj,
            fabrica=nucleo.fabrica,
            motor=nucleo.motor,
            nodo_id=nucleo.nodo_id,
        )

    def suscribir(self, suscribir: Any) -> None:
        """Register the handlers with the core's event fan-out (`nucleo.suscribir`)."""
        suscribir(EventoQR, self._al_qr)
        suscribir(EventoCodigoEmparejamiento, self._al_codigo)
        suscribir(EventoConectado, self._al_conectado)
        suscribir(EventoDesconectado, self._al_desconectado)
        suscribir(EventoCredenciales, self._al_credenciales)
        suscribir(EventoCapping, self._al_capping)
        suscribir(EventoEstado, self._al_estado)

    # ---- lifecycle ------------------------------------------------------------------------

    async def iniciar(self, *, vigilar: bool = True) -> None:
        """Start watching leases; the first round (resuming sessions) runs right away in the background."""
        self._deteniendo = False
        if vigilar:
            self._vigilancia = asyncio.get_running_loop().create_task(self._vigilar())
        else:
            await self.revisar()

    async def detener(self) -> None:
        """Graceful shutdown: close every socket, keep credentials, hand the leases back."""
        self._deteniendo = True
        if self._vigilancia is not None:
            self._vigilancia.cancel()
            await asyncio.gather(self._vigilancia, return_exceptions=True)
            self._vigilancia = None
        controles = list(self._controles.values())
        for c in controles:
            self._cancelar_reconexion(c)
        for c in controles:
            try:
                await self.motor.detener_sesion(c.agente_id)
            except Exception:
                log.exception("sesion_no_se_detuvo", agente_id=c.agente_id)
        tokens = {c.agente_id: c.token for c in controles}
        self._controles.clear()
        if tokens:
            async with transaccion(self.fabrica) as s:
                liberadas = await repo.liberar_nodo(
                    s, self.nodo_id, tokens, {"estado": "desconectada", "motivo": "Servidor detenido"}
                )
                for agente_id in liberadas:
                    await self._emitir_estado(s, agente_id, "desconectada", "Servidor detenido")
        tareas = list(self._tareas)
        for tarea in tareas:
            tarea.cancel()
        await asyncio.gather(*tareas, return_exceptions=True)

    async def _vigilar(self) -> None:
        while True:
            try:
                await self.revisar()
            except Exception:
                log.exception("vigilancia_sesiones_fallo")
            await self.reloj.dormir(PERIODO_VIGILANCIA_S)
            await asyncio.sleep(PERIODO_MINIMO_REAL_S)  # a technical floor for lease renewals, not a delay

    async def revisar(self) -> None:
        """Renew leases, stop idle sessions, resume the ones that should run and nobody holds."""
        ahora = self.reloj.ahora()
        tokens = {c.agente_id: c.token for c in self._controles.values()}
        async with transaccion(self.fabrica) as s:
            nuestras = await repo.renovar_leases(s, self.nodo_id, tokens, self.lease_s)
            muertos = [n for n in await repo.nodos_con_lease(s) if n != self.nodo_id and nodo_local_muerto(n)]
            if muertos:
                log.info("leases_de_nodos_muertos", nodos=muertos)
                await repo.expirar_leases(s, muertos)
            conectadas = [c.agente_id for c in self._controles.values() if c.estado == "conectada"]
            con_campana = await repo.con_campana_activa(s, conectadas)
        for agente_id in set(tokens) - nuestras:
            await self._perdida(agente_id)
        for agente_id in conectadas:
            c = self._controles.get(agente_id)
            if c is None or agente_id in con_campana:
                continue
            if c.actividad is not None and ahora - c.actividad >= self.inactiva:
                if await self._en_horario(ahora):
                    continue  # business hours: keep listening for replies and opt-outs
                log.info("sesion_inactiva_detenida", agente_id=agente_id)
                await self.desconectar(agente_id, motivo=repo.MOTIVO_INACTIVIDAD)
        libres = self.max_sesiones - len(self._controles)
        if libres <= 0 or self._deteniendo:
            return
        await self._reanudar_para_escuchar(ahora, libres)
        libres = self.max_sesiones - len(self._controles)
        if libres <= 0:
            return
        async with transaccion(self.fabrica) as s:
            pendientes = await repo.por_reanudar(s, self.nodo_id, libres)
        for agente_id in pendientes:
            if agente_id in self._controles:
                continue
            try:
                await self.conectar(agente_id)
            except (Conflicto, ServicioNoDisponible) as exc:
                log.info("sesion_no_reanudada", agente_id=agente_id, motivo=str(exc))

    async def _en_horario(self, ahora: datetime) -> bool:
        """Whether sessions should listen now: the contact-hours window is open (and the setting is on)."""
        if not self.settings.sesion_escucha_en_horario:
            return False
        from enlace.cumplimiento.ajustes import ajustes_cumplimiento

        async with self.fabrica() as s:
            ajustes = await ajustes_cumplimiento(s)
        local = ahora.astimezone(ZoneInfo(self.settings.zona_horaria))
        return ajustes.hora_min_contacto <= local.hour < ajustes.hora_max_contacto

    async def _reanudar_para_escuchar(self, ahora: datetime, libres: int) -> None:
        """Bring idle-stopped sessions back: all of them when the window opens; outside it, the ones
        the engine says have messages waiting (only engines that can know offer `entrantes_en_espera`)."""
        async with transaccion(self.fabrica) as s:
            detenidas = await repo.detenidas_por_inactividad(s, libres)
        if not detenidas:
            return
        en_horario = await self._en_horario(ahora)
        en_espera = getattr(self.motor, "entrantes_en_espera", None)
        for agente_id in detenidas:
            if agente_id in self._controles:
                continue
            if en_horario:
                motivo = "horario"
            elif en_espera is not None and en_espera(agente_id) > 0:
                motivo = "mensajes_en_espera"
            else:
                continue
            try:
                await self.conectar(agente_id)
                log.info("sesion_reanudada_para_escuchar", agente_id=agente_id, motivo=motivo)
            except (Conflicto, ServicioNoDisponible) as exc:
                log.info("sesion_no_reanudada", agente_id=agente_id, motivo=str(exc))

    # ---- commands -------------------------------------------------------------------------

    def _candado(self, agente_id: int) -> asyncio.Lock:
        return self._candados.setdefault(agente_id, asyncio.Lock())

    @property
    def sesiones_en_nodo(self) -> int:
        return len(self._controles)

    def vivo(self, agente_id: int) -> EstadoVivo | None:
        c = self._controles.get(agente_id)
        if c is None:
            return None
        return EstadoVivo(c.estado, c.qr, c.qr_expira, c.codigo, c.capping, c.intentos, c.codigo_expira)

    def tocar(self, agente_id: int) -> None:
        """The agent is working (panel open, a send): keeps the session from the idle stop."""
        c = self._controles.get(agente_id)
        if c is not None:
            c.actividad = self.reloj.ahora()

    async def asegurar(self, agente_id: int) -> str | None:
        """Lazy start: make sure a session that has credentials is running here. Returns its state."""
        c = self._controles.get(agente_id)
        if c is not None:
            c.actividad = self.reloj.ahora()
            return c.estado
        async with self.fabrica() as s:
            fila = await repo.obtener(s, agente_id)
            vinculada = bool(await repo.agentes_con_credenciales(s, [agente_id]))
        if (
            fila is None
            or not vinculada
            or fila.estado in repo.ESTADOS_FINALES
            or fila.motivo == repo.MOTIVO_DESCONEXION_USUARIO
        ):
            return fila.estado if fila else None
        return await self.conectar(agente_id)

    async def conectar(self, agente_id: int, *, telefono: str | None = None) -> str:
        """Start linking or resume (idempotent while the session is already coming up or up)."""
        c = self._controles.get(agente_id)
        if c is not None and c.estado in ("conectando", "esperando_qr", "conectada", "reconectando") and not telefono:
            c.actividad = self.reloj.ahora()
            return c.estado
        if c is None and len(self._controles) >= self.max_sesiones:
            raise ServicioNoDisponible(
                "Este servidor alcanzó su límite de sesiones de WhatsApp; intenta más tarde o en otro nodo."
            )
        ahora = self.reloj.ahora()
        async with self._candado(agente_id):
            async with transaccion(self.fabrica) as s:
                await repo.asegurar_fila(s, agente_id, self.motor.nombre)
                tomado = await repo.tomar_lease(s, agente_id, self.nodo_id, self.lease_s, self.motor.nombre)
                if tomado is None:
                    raise Conflicto("La sesión de WhatsApp de este agente está activa en otro servidor.")
                token, blob, clave_id = tomado
                credenciales, motivo = await self._cargar_credenciales(s, agente_id, blob, clave_id)
                await repo.actualizar_propia(
                    s,
                    agente_id,
                    self.nodo_id,
                    token,
                    {"estado": "conectando", "motivo": motivo, "reanudar": True, "ultima_actividad_at": ahora},
                )
                await self._emitir_estado(s, agente_id, "conectando", motivo)
            c = self._controles.get(agente_id)
            if c is None:
                c = self._controles[agente_id] = _Control(agente_id)
            self._cancelar_reconexion(c)
            c.token = token
            c.estado = "conectando"
            c.credenciales = credenciales
            c.intentos = 0
            c.qr = c.codigo = None
            c.hay_qr.clear()
            c.actividad = ahora
        await self.motor.iniciar_sesion(
            agente_id, OpcionesInicio(credenciales=credenciales, telefono_emparejamiento=telefono)
        )
        return c.estado

    async def pedir_codigo(self, agente_id: int, telefono: str) -> str:
        """Link with an 8-character pairing code instead of a QR."""
        digitos = telefono_para_emparejar(telefono)
        c = self._controles.get(agente_id)
        if c is not None and c.estado in ("conectada", "restringida"):
            raise Conflicto("La sesión ya está vinculada; desconéctala antes de vincular otro teléfono.")
        if c is None or c.estado not in ("esperando_qr", "conectando"):
            await self.conectar(agente_id)
            c = self._controles[agente_id]
        if c.estado != "esperando_qr":
            try:
                await asyncio.wait_for(c.hay_qr.wait(), ESPERA_QR_S)
            except TimeoutError:
                raise ServicioNoDisponible("WhatsApp no respondió a tiempo; intenta de nuevo.") from None
        if c.estado != "esperando_qr":
            raise Conflicto("La sesión ya está vinculada; desconéctala antes de vincular otro teléfono.")
        codigo = await self.motor.pedir_codigo_emparejamiento(agente_id, digitos)
        c.codigo = codigo
        return codigo

    async def desconectar(self, agente_id: int, *, cerrar_sesion: bool = False, motivo: str | None = None) -> str:
        """Stop the session (credentials kept) or, with `cerrar_sesion`, unlink the device for good."""
        async with self._candado(agente_id):
            c = self._controles.pop(agente_id, None)
            if c is not None:
                self._cancelar_reconexion(c)
        try:
            if cerrar_sesion:
                await self.motor.cerrar_sesion(agente_id)
            else:
                await self.motor.detener_sesion(agente_id)
        except Exception:
            log.exception("motor_no_cerro_sesion", agente_id=agente_id)
        estado = "sesion_cerrada" if cerrar_sesion else "desconectada"
        motivo = motivo or ("Sesión cerrada por el usuario" if cerrar_sesion else repo.MOTIVO_DESCONEXION_USUARIO)
        valores: dict[str, Any] = {"estado": estado, "motivo": motivo, "reanudar": False}
        async with transaccion(self.fabrica) as s:
            if c is not None:
                hecho = await repo.actualizar_propia(
                    s, agente_id, self.nodo_id, c.token, {**valores, "nodo_id": None, "lease_expira_at": None}
                )
            else:
                hecho = await repo.actualizar_libre(s, agente_id, valores)
            if hecho and cerrar_sesion:
                await repo.borrar_credenciales(s, agente_id)
            if not hecho:
                fila = await repo.obtener(s, agente_id)
                if fila is not None and fila.nodo_id not in (None, self.nodo_id):
                    raise Conflicto("La sesión de WhatsApp de este agente está activa en otro servidor.")
                return fila.estado if fila else "desconectada"
            await self._emitir_estado(s, agente_id, estado, motivo)
        return estado

    # ---- engine events --------------------------------------------------------------------

    async def _al_qr(self, e: EventoQR) -> None:
        c = self._controles.get(e.agente_id)
        if c is None:
            return
        c.qr = e.qr
        # `expira_en_s` is real seconds (what WhatsApp gives); on the accelerated clock that is more virtual time.
        c.qr_expira = self.reloj.ahora() + timedelta(seconds=e.expira_en_s) * self._escala
        if c.estado != "esperando_qr":
            await self._guardar(c, "esperando_qr", None)
        c.hay_qr.set()
        await publicar(
            "sesion.qr",
            {"agente_id": e.agente_id, "qr": e.qr, "expira_en_s": e.expira_en_s},
            [f"agente:{e.agente_id}"],
        )

    async def _al_codigo(self, e: EventoCodigoEmparejamiento) -> None:
        c = self._controles.get(e.agente_id)
        if c is None:
            return
        c.codigo = e.codigo
        # Real seconds too, like the QR's (the link attempt's end, when the engine knows it).
        c.codigo_expira = (
            self.reloj.ahora() + timedelta(seconds=e.expira_en_s) * self._escala if e.expira_en_s else None
        )
        if c.estado != "esperando_qr":
            await self._guardar(c, "esperando_qr", None)
        c.hay_qr.set()
        await publicar(
            "sesion.qr",
            {
                "agente_id": e.agente_id,
                "codigo": e.codigo,
                "expira_en_s": round(e.expira_en_s) if e.expira_en_s else None,
            },
            [f"agente:{e.agente_id}"],
        )

    async def _al_conectado(self, e: EventoConectado) -> None:
        c = self._controles.get(e.agente_id)
        if c is None:
            # A socket nobody here holds (stopped or taken over meanwhile): close it instead of leaking it.
            log.warning("conexion_sin_sesion", agente_id=e.agente_id)
            self._lanzar(self.motor.detener_sesion(e.agente_id))
            return
        ahora = self.reloj.ahora()
        c.intentos = 0
        c.qr = c.codigo = None
        c.actividad = ahora
        if await self._guardar(
            c,
            "conectada",
            None,
            numero_wa=e.numero,
            wa_jid=e.wa_id,
            lid=e.lid,
            conectada_at=ahora,
            numero_agente=e.numero,
        ):
            log.info("sesion_conectada", agente_id=e.agente_id)
        c.hay_qr.set()

    async def _al_desconectado(self, e: EventoDesconectado) -> None:
        c = self._controles.get(e.agente_id)
        if c is None:
            return
        detalle = e.detalle or f"Código {e.codigo}"
        if e.clase == ClaseDesconexion.transitoria:
            if c.estado == "esperando_qr":
                await self._terminar(c, "desconectada", "El código QR venció sin escanearse. Vuelve a conectar.")
                return
            await self._guardar(c, "reconectando", detalle)
            self._programar_reconexion(c)
        elif e.clase == ClaseDesconexion.reemplazada:
            await self._terminar(
                c, "reemplazada", "Otra conexión de WhatsApp Web tomó esta sesión. Vuelve a conectar desde Enlace."
            )
        elif e.clase in (ClaseDesconexion.sesion_cerrada, ClaseDesconexion.bloqueada):
            motivo = (
                "WhatsApp bloqueó este número."
                if e.clase == ClaseDesconexion.bloqueada
                else "La sesión se cerró desde el teléfono. Vincula de nuevo con el código QR."
            )
            await self._terminar(c, "sesion_cerrada", motivo, borrar_credenciales=True)
        elif e.clase == ClaseDesconexion.restringida:
            await self._guardar(c, "restringida", detalle)
        elif e.clase == ClaseDesconexion.desactualizada:
            # 405: reconnecting with the same client version can only fail again; no loop, a clear alert.
            log.error("sesion_version_obsoleta", agente_id=e.agente_id, detalle=detalle)
            await self._terminar(
                c,
                "desconectada",
                "WhatsApp rechazó la versión de WhatsApp Web de la pasarela (405): hay que actualizarla antes de "
                "volver a conectar.",
            )
        elif e.clase == ClaseDesconexion.fallida:
            log.error("sesion_fallida", agente_id=e.agente_id, codigo=e.codigo, detalle=detalle)
            await self._terminar(
                c,
                "desconectada",
                f"WhatsApp rechazó la sesión varias veces seguidas ({e.codigo}). Se detuvo para no insistir; "
                "vuelve a conectar y, si se repite, vincula de nuevo.",
            )

    async def _al_credenciales(self, e: EventoCredenciales) -> None:
        c = self._controles.get(e.agente_id)
        if c is None:
            log.warning("credenciales_sin_sesion", agente_id=e.agente_id)
            return
        # Only the keys this delta names are encrypted and written: the cost follows the change, not the state.
        async with self._candado(e.agente_id):
            async with transaccion(self.fabrica) as s:
                hecho = await almacen.guardar(s, self.llavero, e.agente_id, self.nodo_id, c.token, e.datos)
            if hecho:
                # Memory follows the database (a reconnect starts from it), under the same lock.
                c.credenciales = aplicar_delta(c.credenciales or {"creds": None, "keys": {}}, e.datos)
        if not hecho:
            await self._perdida(e.agente_id)
            return
        if e.confirmar is not None:
            # Committed: now the engine may let the library go on (Baileys' keys.set resolves).
            await e.confirmar()

    async def _al_capping(self, e: EventoCapping) -> None:
        c = self._controles.get(e.agente_id)
        if c is not None:
            c.capping = e.nivel.value
        log.warning("sesion_capping", agente_id=e.agente_id, nivel=e.nivel.value)

    async def _al_estado(self, e: EventoEstado) -> None:
        if e.estado != EstadoEntrega.fallido or e.codigo_error != 463:
            return
        c = self._controles.get(e.agente_id)
        if c is not None and c.estado == "conectada":
            await self._guardar(c, "restringida", e.detalle_error or "Cuenta restringida por WhatsApp (463)")

    # ---- internals ------------------------------------------------------------------------

    async def _cargar_credenciales(
        self, s: AsyncSession, agente_id: int, blob: bytes | None, clave_id: str | None
    ) -> tuple[dict[str, Any] | None, str | None]:
        try:
            async with s.begin_nested():
                return await almacen.cargar(s, self.llavero, agente_id, blob, clave_id), None
        except CredencialesIlegibles as exc:
            log.error("credenciales_ilegibles", agente_id=agente_id, clave_id=clave_id)
            return None, f"{exc} Vincula de nuevo con el código QR."

    async def _emitir_estado(self, s: AsyncSession, agente_id: int, estado: str, motivo: str | None) -> None:
        salas = await salas_de_agente(s, agente_id)
        emitir(s, "sesion.estado", {"agente_id": agente_id, "estado": estado, "motivo": motivo}, salas)

    async def _guardar(self, c: _Control, estado: str, motivo: str | None, **valores: Any) -> bool:
        """Move `c` to `estado` in memory and in the database (fenced); False when the lease was lost."""
        numero_agente = valores.pop("numero_agente", None)
        async with self._candado(c.agente_id):
            if self._controles.get(c.agente_id) is not c:
                return False
            async with transaccion(self.fabrica) as s:
                hecho = await repo.actualizar_propia(
                    s, c.agente_id, self.nodo_id, c.token, {"estado": estado, "motivo": motivo, **valores}
                )
                if hecho:
                    c.estado = estado
                    if numero_agente:
                        await repo.fijar_numero_agente(s, c.agente_id, numero_agente)
                    await self._emitir_estado(s, c.agente_id, estado, motivo)
        if not hecho:
            await self._perdida(c.agente_id)
        return hecho

    async def _terminar(self, c: _Control, estado: str, motivo: str, *, borrar_credenciales: bool = False) -> None:
        """A final state: forget the session here, release the lease, never reconnect on our own."""
        valores: dict[str, Any] = {"reanudar": False, "nodo_id": None, "lease_expira_at": None}
        async with self._candado(c.agente_id):
            if self._controles.get(c.agente_id) is not c:
                return
            self._cancelar_reconexion(c)
            del self._controles[c.agente_id]
            async with transaccion(self.fabrica) as s:
                if await repo.actualizar_propia(
                    s, c.agente_id, self.nodo_id, c.token, {"estado": estado, "motivo": motivo, **valores}
                ):
                    if borrar_credenciales:
                        await repo.borrar_credenciales(s, c.agente_id)
                    await self._emitir_estado(s, c.agente_id, estado, motivo)
        c.estado = estado
        log.info("sesion_terminada", agente_id=c.agente_id, estado=estado)

    async def _perdida(self, agente_id: int) -> None:
        """Another node took the lease: stop our socket without touching the row."""
        c = self._controles.pop(agente_id, None)
        if c is None:
            return
        self._cancelar_reconexion(c)
        log.warning("lease_perdido", agente_id=agente_id)
        self._lanzar(self.motor.detener_sesion(agente_id))

    def _programar_reconexion(self, c: _Control) -> None:
        self._cancelar_reconexion(c)
        tope = min(BACKOFF_TOPE_S, BACKOFF_BASE_S * (2 ** min(c.intentos, 20)))
        espera = self._rng.uniform(tope / 2, tope)
        c.intentos += 1
        c.reconexion = asyncio.get_running_loop().create_task(self._reconectar(c, espera))

    async def _reconectar(self, c: _Control, espera: float) -> None:
        await self.reloj.dormir(espera)
        if self._controles.get(c.agente_id) is not c or c.estado != "reconectando" or self._deteniendo:
            return
        c.reconexion = None
        log.info("sesion_reconectando", agente_id=c.agente_id, intento=c.intentos)
        async with self._candado(c.agente_id):
            # A batch of keys still committing finishes first: the new socket starts from all of it.
            credenciales = c.credenciales
        try:
            await self.motor.iniciar_sesion(c.agente_id, OpcionesInicio(credenciales=credenciales))
        except Exception:
            log.exception("reconexion_fallo", agente_id=c.agente_id)
            self._programar_reconexion(c)

    def _cancelar_reconexion(self, c: _Control) -> None:
        tarea = c.reconexion
        if tarea is not None and tarea is not asyncio.current_task() and not tarea.done():
            tarea.cancel()
        c.reconexion = None

    def _lanzar(self, corrutina: Coroutine[Any, Any, Any]) -> None:
        tarea = asyncio.get_running_loop().create_task(self._proteger(corrutina))
        self._tareas.add(tarea)
        tarea.add_done_callback(self._tareas.discard)

    async def _proteger(self, corrutina: Coroutine[Any, Any, Any]) -> None:
        try:
            await corrutina
        except Exception:
            log.exception("tarea_sesiones_fallo")
