"""The dispatcher: one loop per connected session on this node, sending its due outbox rows at its own pace.

Per message: peek the next due row → plan typing and pacing (`ritmo`) → show "composing" → claim it
(row lock, compliance gate, `enviando`, commit) → under the phone lock re-check suppression, send with
the pre-assigned id, mark `enviado`, commit. A crash between the two commits leaves `enviando`: the
next loop for that agent waits a bound for the echo or a receipt (captura moves the row on) and
otherwise marks it `incierto` — never resent.
"""

from __future__ import annotations

import asyncio
import collections
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from enlace.campanas import repository as repo_campanas
from enlace.campanas.models import Campana, ParadaSeguridad
from enlace.campanas.ritmo import PerfilRitmo, Ritmo, SinMomentoPermitido
from enlace.comun.eventos import CampanaProgreso, EnvioParada, EnvioSinAcuse, MensajeEstado
from enlace.comun.horario import Ventana, zona_del_contacto
from enlace.comun.telefonos import jid_para_enviar
from enlace.cumplimiento.puerta import revisar_envio, revisar_suprimido
from enlace.db.sesion import transaccion
from enlace.envios import repository as repo
from enlace.envios.resolucion import Resolutor
from enlace.envios.vigia import marcar_sin_acuse
from enlace.mensajes.repository import CANAL_DESPACHO
from enlace.motores.base import (
    ClaseDesconexion,
    ErrorMotor,
    EstadoEntrega,
    EventoCapping,
    EventoConectado,
    EventoDesconectado,
    EventoEstado,
    EventoRestriccion,
    Motor,
    NivelCapping,
    SesionNoDisponible,
    TiempoAgotado,
)
from enlace.plantillas.render import aplicar_saludo
from enlace.reloj import Reloj
from enlace.tiempo_real.bus import emitir, salas_agente

log = structlog.get_logger(__name__)

MOTIVOS_PARADA = {
    "restriccion": "WhatsApp restringió la cuenta (463): no se envían mensajes hasta que un supervisor lo reanude.",
    "capping": "WhatsApp avisó que el número está cerca del límite de chats nuevos (SECOND_WARNING).",
    "sesion_perdida": "La sesión de WhatsApp se desconectó; los envíos siguen al reconectar.",
    "tasa_fallos": "Demasiados envíos fallidos seguidos; revisa el número antes de reanudar.",
    "timelock": "WhatsApp impuso un bloqueo temporal de chats nuevos a este número; los envíos siguen cuando termine.",
    "cupo_chats_nuevos": "WhatsApp no permite a este número iniciar más chats nuevos por ahora.",
}
# Stops that lift themselves when their cause clears (reconnect, capping back to normal).
AUTO_RESUELTAS_AL_CONECTAR = ("sesion_perdida",)


async def _revisar_linea_oficial(session: AsyncSession, **kwargs: Any) -> Any:
    """Official lines: the messaging-limit tier per 24 h and the marketing pause on RED / FLAGGED quality."""
    from enlace.oficial.eventos import revisar_linea

    return await revisar_linea(session, **kwargs)


@dataclass(slots=True)
class _Reclamo:
    """A row this loop claimed (`enviando`, committed) and the text that will leave."""

    fila: repo.FilaDespacho
    texto: str
    jid: str
    token: int


class _Estado:
    """A loop's private state: its pacing, recent outcomes, and how to wake it early."""

    def __init__(self, ventana_fallos: int) -> None:
        self.ritmo: Ritmo | None = None
        self.perfil_clave: str | None = None
        self.resultados: collections.deque[bool] = collections.deque(maxlen=ventana_fallos)
        self.despertar = asyncio.Event()
        self.reconciliando = False
        self.tarea: asyncio.Task[None] | None = None
        self.token: int | None = None  # fencing token of the session's lease this loop sends under
        self.resolver = asyncio.Event()
        self.tarea_resolucion: asyncio.Task[None] | None = None


class Despachador:
    def __init__(
        self,
        *,
        reloj: Reloj,
        fabrica: async_sessionmaker[AsyncSession],
        motor: Motor,
        nodo_id: str,
        esta_conectado: Callable[[int], Awaitable[bool]] | None = None,
        plazo_reconciliacion_s: float = 120.0,
        margen_en_vuelo_s: float = 30.0,
        vigilancia_s: float = 10.0,
        espera_sin_trabajo_s: float = 30.0,
        ventana_fallos: int = 20,
        umbral_fallos: float = 0.5,
        zona_defecto: str = "America/Mexico_City",
        url_bd: str | None = None,
        resolutor: Resolutor | None = None,
        plazo_acuse_s: float = 12 * 3600,
    ) -> None:
        self.reloj = reloj
        self.fabrica = fabrica
        self.motor = motor
        self.nodo_id = nodo_id
        self._esta_conectado = esta_conectado
        self.plazo_reconciliacion_s = plazo_reconciliacion_s
        self.margen_en_vuelo_s = margen_en_vuelo_s
        self.vigilancia_s = vigilancia_s
        self.espera_sin_trabajo_s = espera_sin_trabajo_s
        self.ventana_fallos = ventana_fallos
        self.umbral_fallos = umbral_fallos
        self.zona_defecto = zona_defecto
        self.url_bd = url_bd
        self.resolutor = resolutor or Resolutor(reloj=reloj, fabrica=fabrica, motor=motor)
        self.plazo_acuse_s = plazo_acuse_s
        self._ultima_vigia: datetime | None = None
        self._escucha: asyncio.Task[None] | None = None
        self._estados: dict[int, _Estado] = {}
        self._tareas: set[asyncio.Task[None]] = set()
        self._vigilancia: asyncio.Task[None] | None = None
        self._deteniendo = False
        self._durmiendo = 0  # loops waiting on the clock (tests drive a manual clock when all are idle)

    @classmethod
    def desde_nucleo(cls, nucleo: Any) -> Despachador:
        ajustes = nucleo.settings
        resolutor = Resolutor(
            reloj=nucleo.reloj,
            fabrica=nucleo.fabrica,
            motor=nucleo.motor,
            ttl_s=ajustes.resolucion_ttl_dias * 86400,
            lote=ajustes.resolucion_lote,
            pausa_s=ajustes.resolucion_pausa_s,
            max_hora=ajustes.resolucion_max_hora,
        )
        return cls(
            reloj=nucleo.reloj,
            fabrica=nucleo.fabrica,
            motor=nucleo.motor,
            nodo_id=nucleo.nodo_id,
            zona_defecto=ajustes.zona_horaria,
            url_bd=nucleo.database_url,
            resolutor=resolutor,
            plazo_acuse_s=ajustes.acuse_plazo_horas * 3600,
        )

    def suscribir(self, suscribir: Any) -> None:
        suscribir(EventoConectado, self._al_conectado)
        suscribir(EventoDesconectado, self._al_desconectado)
        suscribir(EventoCapping, self._al_capping)
        suscribir(EventoEstado, self._al_estado)
        suscribir(EventoRestriccion, self._al_restriccion)

    # ---- lifecycle ------------------------------------------------------------------------

    async def iniciar(self) -> None:
        self._deteniendo = False
        self._vigilancia = asyncio.get_running_loop().create_task(self._vigilar())
        if self.url_bd is not None:
            self._escucha = asyncio.get_running_loop().create_task(self._escuchar())

    async def detener(self) -> None:
        self._deteniendo = True
        tareas = [
            t
            for t in [
                self._vigilancia,
                self._escucha,
                *(e.tarea for e in self._estados.values()),
                *(e.tarea_resolucion for e in self._estados.values()),
                *self._tareas,
            ]
            if t
        ]
        for t in tareas:
            t.cancel()
        await asyncio.gather(*tareas, return_exceptions=True)
        self._estados.clear()
        self._vigilancia = None
        self._escucha = None

    def despertar(self, agente_id: int) -> None:
        """A campaign started or resumed, a reply was queued: don't wait for the next poll."""
        if self.activo(agente_id):
            self._estados[agente_id].despertar.set()
            self._estados[agente_id].resolver.set()
        else:
            self.asegurar(agente_id)

    @property
    def en_reposo(self) -> bool:
        """Every running loop is waiting on the clock (nothing in flight)."""
        vivos = sum(
            1 for e in self._estados.values() for t in (e.tarea, e.tarea_resolucion) if t is not None and not t.done()
        )
        return self._durmiendo >= vivos

    async def _dormir(self, segundos: float) -> None:
        self._durmiendo += 1
        try:
            await self.reloj.dormir(segundos)
        finally:
            self._durmiendo -= 1

    def activo(self, agente_id: int) -> bool:
        e = self._estados.get(agente_id)
        return e is not None and e.tarea is not None and not e.tarea.done()

    def asegurar(self, agente_id: int) -> None:
        """Start the agent's loop if it isn't running (it exits by itself when the session is gone)."""
        if self._deteniendo or self.activo(agente_id):
            return
        estado = self._estados.get(agente_id) or _Estado(self.ventana_fallos)
        self._estados[agente_id] = estado
        estado.tarea = asyncio.get_running_loop().create_task(self._bucle_protegido(agente_id, estado))
        if estado.tarea_resolucion is None or estado.tarea_resolucion.done():
            estado.tarea_resolucion = asyncio.get_running_loop().create_task(
                self._resolucion_protegida(agente_id, estado)
            )

    async def _vigilar(self) -> None:
        while not self._deteniendo:
            try:
                async with self.fabrica() as s:
                    conectados = await repo.sesiones_conectadas(s, self.nodo_id)
                for agente_id in conectados:
                    self.asegurar(agente_id)
                await self._vigia_acuses()
            except Exception:
                log.exception("vigilancia_despachador_fallo")
            await self.reloj.dormir(self.vigilancia_s)

    async def _escuchar(self) -> None:
        """LISTEN for rows queued on any node (replies, confirmations) and wake that agent's loop here."""
        import psycopg

        from enlace.db.sesion import url_libpq

        espera = 1.0
        while not self._deteniendo:
            try:
                async with await psycopg.AsyncConnection.connect(
                    url_libpq(self.url_bd or ""), autocommit=True
                ) as conexion:
                    await conexion.execute(f"LISTEN {CANAL_DESPACHO}")
                    espera = 1.0
                    async for aviso in conexion.notifies():
                        if aviso.payload.isdigit() and self.activo(int(aviso.payload)):
                            self.despertar(int(aviso.payload))
            except asyncio.CancelledError:
                raise
            except Exception:
                # Only latency is at stake: loops still poll every `espera_sin_trabajo_s`.
                log.warning("despacho_escucha_perdida", reintento_s=espera)
                await asyncio.sleep(espera)
                espera = min(espera * 2, 30.0)

    async def conectado(self, agente_id: int) -> bool:
        if self._esta_conectado is not None:
            return await self._esta_conectado(agente_id)
        async with self.fabrica() as s:
            return await repo.sesion_conectada(s, agente_id, self.nodo_id)

    # ---- the loop -------------------------------------------------------------------------

    async def _bucle_protegido(self, agente_id: int, estado: _Estado) -> None:
        while not self._deteniendo:
            try:
                await self._bucle(agente_id, estado)
                return
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("bucle_despacho_fallo", agente_id=agente_id)
                await self._dormir(5)

    async def _esperar(self, estado: _Estado, segundos: float) -> bool:
        """Wait on the clock unless woken; True when woken (a wake-up that came before the wait counts)."""
        if estado.despertar.is_set():
            estado.despertar.clear()
            return True
        if segundos <= 0:
            await asyncio.sleep(0)
            return False
        dormir = asyncio.ensure_future(self._dormir(segundos))
        senal = asyncio.ensure_future(estado.despertar.wait())
        try:
            await asyncio.wait({dormir, senal}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for t in (dormir, senal):
                if not t.done():
                    t.cancel()
        despierto = estado.despertar.is_set()
        estado.despertar.clear()
        return despierto

    async def _bucle(self, agente_id: int, estado: _Estado) -> None:
        inicio = self.reloj.ahora()
        if not await self._tomar_arriendo(agente_id, estado):
            return
        self._lanzar_reconciliacion(agente_id, estado, inicio)
        log.info("despacho_iniciado", agente_id=agente_id)
        while not self._deteniendo:
            if not await self.conectado(agente_id):
                log.info("despacho_detenido_sin_sesion", agente_id=agente_id)
                return
            ahora = self.reloj.ahora()
            async with self.fabrica() as s:
                fila = await self._proxima(s, agente_id, ahora)
                if fila is None:
                    if not estado.reconciliando:
                        # Nothing of ours is in flight now: any `enviando` row of this agent is orphaned.
                        self._lanzar_reconciliacion(agente_id, estado, ahora)
                    siguiente = await repo.proximo_programado(s, agente_id)
                    espera = self.espera_sin_trabajo_s
                    if siguiente is not None and siguiente > ahora:
                        espera = min(espera, (siguiente - ahora).total_seconds())
                    await s.rollback()
                    await self._esperar(estado, espera)
                    continue
                ritmo = (
                    None if fila.campana_id is None else await self._ritmo(s, agente_id, estado, fila.campana_id, ahora)
                )
            zona = zona_del_contacto(fila.zona_contacto, fila.estado_mx, fila.zona_campana)
            if ritmo is None:
                # A reply or a confirmation: the person is waiting for it; no pacing, no typing show.
                enviado = await self._enviar_uno(agente_id, estado, None, fila.id, zona)
            elif await self._pausar_como_persona(agente_id, estado, ritmo, fila, zona, ahora):
                enviado = await self._enviar_uno(agente_id, estado, ritmo, fila.id, zona)
            else:
                continue
            if enviado is None and not await self._tomar_arriendo(agente_id, estado):
                return

    async def _tomar_arriendo(self, agente_id: int, estado: _Estado) -> bool:
        """Read the lease's fencing token; False (the loop ends) when this node no longer holds the session."""
        async with self.fabrica() as s:
            estado.token = await repo.arriendo(s, agente_id, self.nodo_id)
        if estado.token is None:
            log.warning("despacho_sin_arriendo", agente_id=agente_id, nodo=self.nodo_id)
            return False
        return True

    async def _pausar_como_persona(
        self, agente_id: int, estado: _Estado, ritmo: Ritmo, fila: repo.FilaDespacho, zona: ZoneInfo, ahora: datetime
    ) -> bool:
        """Campaign pacing and typing before a campaign row; False when the loop should look again first."""
        escritura = ritmo.escritura(fila.mensaje)
        libre = ritmo.siguiente_envio(ahora, escritura)
        try:
            momento = ritmo.siguiente_envio(ahora, escritura, zona)
        except SinMomentoPermitido:
            momento = libre + timedelta(days=1)
        if momento > libre:
            # The recipient is outside 07:00–22:00 local while others are not: defer this row only.
            await self._diferir(fila.id, momento - timedelta(seconds=escritura))
            return False
        inicio_escritura = momento - timedelta(seconds=escritura)
        if inicio_escritura > ahora:
            if await self._esperar(estado, (inicio_escritura - ahora).total_seconds()):
                return False  # woken: a reply may be waiting, or the campaign changed
        jid = _destino(fila)
        await self._presencia(agente_id, jid, "composing")
        await self._dormir(max(0.0, (momento - self.reloj.ahora()).total_seconds()))
        await self._presencia(agente_id, jid, "paused")
        return True

    async def _parada_activa(self, s: AsyncSession, agente_id: int, ahora: datetime) -> bool:
        """An unresolved stop holds the session; one WhatsApp imposed until a moment lifts itself then."""
        vencidas = await repo.levantar_paradas_vencidas(s, agente_id, ahora)
        if vencidas:
            equipo = await repo.equipo_de_agente(s, agente_id)
            for parada_id in vencidas:
                emitir(
                    s,
                    EnvioParada(parada_id=parada_id, agente_id=agente_id, activa=False),
                    None,
                    salas_agente(agente_id, equipo),
                )
            await s.commit()
        return bool(await repo.paradas_activas(s, agente_id))

    async def _proxima(self, s: AsyncSession, agente_id: int, ahora: datetime) -> repo.FilaDespacho | None:
        if await self._parada_activa(s, agente_id, ahora):
            return None
        return await repo.proxima(s, agente_id, ahora, self.zona_defecto, vigente=self.resolutor.vigente_desde(ahora))

    async def _ritmo(
        self, s: AsyncSession, agente_id: int, estado: _Estado, campana_id: int | None, ahora: datetime
    ) -> Ritmo:
        campana = await s.get(Campana, campana_id) if campana_id else None
        perfil = await repo_campanas.perfil_de_campana(s, campana) if campana else PerfilRitmo()
        clave = json.dumps(perfil.a_config(), sort_keys=True)
        if estado.ritmo is None or estado.perfil_clave != clave:
            # Rebuild the counters from what this number already sent today (restart, profile change).
            tz = ZoneInfo(perfil.zona_horaria)
            medianoche = datetime.combine(ahora.astimezone(tz).date(), time(), tz) - timedelta(days=1)
            historial = await repo.enviados_hoy(s, agente_id, medianoche)
            estado.ritmo = Ritmo.desde_historial(perfil, f"agente:{agente_id}", historial)
            estado.perfil_clave = clave
        return estado.ritmo

    async def _diferir(self, mensaje_id: int, hasta: datetime) -> None:
        async with transaccion(self.fabrica) as s:
            await repo.reprogramar(s, mensaje_id, hasta)

    async def _presencia(self, agente_id: int, jid: str, estado: str) -> None:
        try:
            await self.motor.presencia(agente_id, jid, estado)
        except ErrorMotor:
            pass  # presence is cosmetic; the send itself will tell if the session is gone

    async def _enviar_uno(
        self, agente_id: int, estado: _Estado, ritmo: Ritmo | None, mensaje_id: int, zona: ZoneInfo
    ) -> bool | None:
        """Claim, then send. True: handled (sent, failed, blocked, requeued); None: nothing claimed."""
        reclamo = await self._reclamar(agente_id, estado, ritmo, mensaje_id, zona)
        if reclamo is None:
            return None
        if not isinstance(reclamo, _Reclamo):
            return True  # the gate decided (suppressed, cancelled or rescheduled)
        await self._enviar_reclamado(agente_id, estado, ritmo, reclamo, zona)
        return True

    async def _reclamar(
        self, agente_id: int, estado: _Estado, ritmo: Ritmo | None, mensaje_id: int, zona: ZoneInfo
    ) -> _Reclamo | bool | None:
        """Lock the row (fenced by the lease), pass the compliance gate, mark `enviando`, commit.

        None: not claimed (cancelled, paused, taken meanwhile, or the lease is no longer ours);
        False: the gate decided (row suppressed, cancelled or rescheduled); else the claim.
        """
        ahora = self.reloj.ahora()
        token = estado.token
        if token is None:
            return None
        async with transaccion(self.fabrica) as s:
            fila = await repo.reclamar(
                s,
                agente_id,
                mensaje_id,
                ahora,
                self.zona_defecto,
                self.nodo_id,
                token,
                vigente=self.resolutor.vigente_desde(ahora),
            )
            if fila is None:
                return None
            if ritmo is not None and not ritmo.puede_enviar(ahora, zona):
                return False
            bloqueo = await revisar_envio(
                s,
                agente_id=agente_id,
                contacto_id=fila.contacto_id,
                telefono=fila.numero_destino,
                campana_id=fila.campana_id,
                zona_horaria=zona.key,
                estado_mx=fila.estado_mx,
                ahora=ahora,
                es_campana=fila.campana_id is not None,
                mensaje_id=fila.id,
                ventana=_ventana(ritmo),
            )
            if bloqueo is None:
                bloqueo = await _revisar_linea_oficial(
                    s, agente_id=agente_id, telefono=fila.numero_destino, tipo=fila.tipo, medio=fila.medio, ahora=ahora
                )
            if bloqueo is not None:
                await self._aplicar_bloqueo(s, agente_id, fila, bloqueo, ahora)
                return False
            texto = fila.mensaje
            if fila.mensaje_base:
                texto = aplicar_saludo(fila.mensaje_base, ahora, zona)
            # The row records the id it goes to: the one WhatsApp's lookup returned for this number.
            jid = _destino(fila)
            if not await repo.marcar_enviando(
                s, fila.id, self.nodo_id, token, intentado_at=ahora, mensaje=texto, destino_jid=jid
            ):
                return None
        return _Reclamo(fila, texto, jid, token)

    async def _enviar_reclamado(
        self, agente_id: int, estado: _Estado, ritmo: Ritmo | None, reclamo: _Reclamo, zona: ZoneInfo
    ) -> None:
        """Send under the phone lock (an opt-out arriving now waits, then sees the row as sent)."""
        del zona
        fila = reclamo.fila
        ahora = self.reloj.ahora()
        async with transaccion(self.fabrica) as s:
            bloqueo = await revisar_suprimido(s, telefono=fila.numero_destino, mensaje_id=fila.id)
            if bloqueo is not None:
                await repo.marcar(s, fila.id, "suprimido", ("enviando",), detalle_error=bloqueo.mensaje)
                await self._progreso(s, agente_id, fila, ahora, "suprimido")
                return
            if not await repo.arriendo_vigente(s, agente_id, self.nodo_id, reclamo.token):
                # The lease moved to another node since the claim: nothing left from here; the row goes back.
                await repo.marcar(s, fila.id, "pendiente", ("enviando",), intentado_at=None)
                log.warning("despacho_arriendo_perdido", agente_id=agente_id, mensaje_id=fila.id)
                return
            try:
                resultado = await self._al_motor(agente_id, reclamo)
            except SesionNoDisponible:
                # Not connected: nothing left the phone, the row goes back to the queue.
                await repo.marcar(s, fila.id, "pendiente", ("enviando",), intentado_at=None)
                return
            except TiempoAgotado as exc:
                # No answer in time: the message may have left. Never resend it; it counts as a send
                # (pacing and the frequency cap) and an echo or receipt still moves it on.
                await s.commit()
                await repo.marcar(
                    s,
                    fila.id,
                    "incierto",
                    ("enviando",),
                    detalle_error=f"Sin respuesta de WhatsApp a tiempo: no se reenvía ({exc})"[:500],
                )
                if ritmo is not None:
                    ritmo.registrar_envio(ahora)
                await self._progreso(s, agente_id, fila, ahora, "incierto")
                return
            except ErrorMotor as exc:
                # Release the phone lock before writing (cumplimiento.puerta.revisar_suprimido: no waits under it).
                await s.commit()
                await self._registrar_error(s, agente_id, estado, ritmo, fila, exc, ahora)
                return
            # The message left: release the phone lock before writing. Marking `enviado` fires the report
            # triggers; waiting for their rows while holding the lock could deadlock with an opt-out.
            await s.commit()
            # Keep the engine's own id (Cloud API wamid): receipts and replies that name only it find the row.
            extra = {"wamid": resultado.wamid} if resultado.wamid else {}
            await repo.marcar(
                s,
                fila.id,
                "enviado",
                ("enviando", "incierto", "pendiente"),
                enviado_at=resultado.momento or ahora,
                **extra,
            )
            if fila.contacto_id is not None and fila.campana_id is not None:
                await repo.marcar_contactado(s, fila.contacto_id, ahora)
            if ritmo is not None:
                ritmo.registrar_envio(ahora)
            await self._progreso(s, agente_id, fila, ahora, "enviado")
            await self._resultado(s, agente_id, estado, fallo=False)

    async def _al_motor(self, agente_id: int, reclamo: _Reclamo) -> Any:
        fila = reclamo.fila
        if fila.tipo == "plantilla" and fila.medio:
            # Official line: an approved template (the only thing allowed outside the 24 h window).
            oficial = fila.medio["plantilla"]
            return await self.motor.enviar_plantilla(  # type: ignore[attr-defined]
                agente_id,
                reclamo.jid,
                nombre=oficial["nombre"],
                idioma=oficial["idioma"],
                parametros=list(oficial.get("parametros") or []),
                componentes=oficial.get("componentes"),
                wa_message_id=fila.wa_message_id,
            )
        return await self.motor.enviar_texto(agente_id, reclamo.jid, reclamo.texto, fila.wa_message_id)

    async def _registrar_error(
        self,
        s: AsyncSession,
        agente_id: int,
        estado: _Estado,
        ritmo: Ritmo | None,
        fila: repo.FilaDespacho,
        exc: ErrorMotor,
        ahora: datetime,
    ) -> None:
        espera = getattr(exc, "reintentar_en_s", None)
        if exc.reintentable and espera:
            # The engine says "not now" (Cloud API pair rate / throughput): nothing left, try that row later.
            await repo.marcar(
                s,
                fila.id,
                "pendiente",
                ("enviando",),
                intentado_at=None,
                programado_para=ahora + timedelta(seconds=float(espera)),
            )
            return
        await repo.marcar(
            s,
            fila.id,
            "fallido",
            ("enviando",),
            fallido_at=ahora,
            codigo_error=exc.codigo,
            detalle_error=str(exc)[:500],
        )
        if ritmo is not None:
            ritmo.registrar_envio(ahora)
        await self._progreso(s, agente_id, fila, ahora, "fallido")
        await self._resultado(s, agente_id, estado, fallo=True)

    async def _aplicar_bloqueo(
        self, s: AsyncSession, agente_id: int, fila: repo.FilaDespacho, bloqueo: Any, ahora: datetime
    ) -> None:
        if bloqueo.codigo == "suprimido":
            await repo.marcar(s, fila.id, "suprimido", ("pendiente",), detalle_error=bloqueo.mensaje)
            nuevo = "suprimido"
        elif bloqueo.reintentar_en is not None and bloqueo.codigo in (
            "frecuencia",
            "fuera_de_horario",
            "limite_nivel",
            "linea_pausada",
        ):
            await repo.reprogramar(s, fila.id, bloqueo.reintentar_en, detalle=bloqueo.mensaje)
            return
        else:
            await repo.marcar(s, fila.id, "cancelado", ("pendiente",), detalle_error=bloqueo.mensaje)
            nuevo = "cancelado"
        await self._progreso(s, agente_id, fila, ahora, nuevo)

    async def _progreso(
        self, s: AsyncSession, agente_id: int, fila: repo.FilaDespacho, ahora: datetime, nuevo: str
    ) -> None:
        if fila.campana_id is None:
            # A reply or confirmation: the inbox shows it moving.
            equipo = await repo.equipo_de_agente(s, agente_id)
            evento = MensajeEstado(
                id=fila.id,
                agente_id=agente_id,
                wa_message_id=fila.wa_message_id,
                estado=nuevo,
                contacto_id=fila.contacto_id,
            )
            emitir(s, evento, None, salas_agente(agente_id, equipo))
            return
        await self._progreso_campana(s, agente_id, fila.campana_id, ahora)

    async def _progreso_campana(self, s: AsyncSession, agente_id: int, campana_id: int | None, ahora: datetime) -> None:
        if campana_id is None:
            return
        cuentas = await repo_campanas.sincronizar_contadores(s, campana_id, ahora)
        equipo = await repo.equipo_de_agente(s, agente_id)
        emitir(
            s,
            CampanaProgreso(campana_id=campana_id, agente_id=agente_id, cuentas=cuentas, momento=ahora),
            None,
            [f"campana:{campana_id}", *salas_agente(agente_id, equipo)],
        )

    async def _resultado(self, s: AsyncSession, agente_id: int, estado: _Estado, *, fallo: bool) -> None:
        estado.resultados.append(fallo)
        if len(estado.resultados) >= self.ventana_fallos:
            tasa = sum(estado.resultados) / len(estado.resultados)
            if tasa >= self.umbral_fallos:
                await self.parar(
                    s, agente_id, "tasa_fallos", f"{tasa:.0%} de los últimos {len(estado.resultados)} envíos fallaron"
                )
                estado.resultados.clear()

    # ---- crash recovery -----------------------------------------------------------------------

    async def _filas_enviando(self, agente_id: int, antes_de: datetime) -> list[Any]:
        async with self.fabrica() as s:
            return await repo.filas_enviando(s, agente_id, antes_de)

    def _lanzar_reconciliacion(self, agente_id: int, estado: _Estado, inicio: datetime) -> None:
        estado.reconciliando = True  # set before the task runs: one reconciliation per agent at a time
        self._lanzar(self._reconciliar_protegido(agente_id, estado, inicio))

    async def _reconciliar_protegido(self, agente_id: int, estado: _Estado | None, inicio: datetime) -> None:
        try:
            await self._reconciliar(agente_id, inicio)
        finally:
            if estado is not None:
                estado.reconciliando = False

    async def _reconciliar(self, agente_id: int, inicio: datetime) -> None:
        """Rows left `enviando` before this loop started: prove them sent or unsent, else `incierto`.

        First `margen_en_vuelo_s` must pass since the row was claimed (another node that lost the lease
        may still be finishing that very send). Then an engine that can answer definitively
        (`consultar_envio`) settles them at once: sent → `enviado`, provably not sent → back to `pendiente`
        (same pre-assigned id). Otherwise the echo or a receipt (captura moves the row on) has
        `plazo_reconciliacion_s` to arrive; what is left becomes `incierto`.
        """
        filas = await self._filas_enviando(agente_id, inicio)
        if not filas:
            return
        ultimo = max(f[5] for f in filas)
        espera = (ultimo + timedelta(seconds=self.margen_en_vuelo_s) - self.reloj.ahora()).total_seconds()
        if espera > 0:
            await self.reloj.dormir(espera)
            filas = await self._filas_enviando(agente_id, inicio)
            if not filas:
                return
        log.warning("despacho_reconciliando", agente_id=agente_id, filas=len(filas))
        consultar = getattr(self.motor, "consultar_envio", None)
        if consultar is not None:
            campanas: set[int] = set()
            async with transaccion(self.fabrica) as s:
                for mensaje_id, campana_id, jid, numero, wa_id, _ in filas:
                    respuesta = consultar(agente_id, jid_para_enviar(numero, jid), wa_id)
                    if respuesta is True:
                        await repo.marcar(s, mensaje_id, "enviado", ("enviando",), enviado_at=self.reloj.ahora())
                    elif respuesta is False:
                        await repo.marcar(s, mensaje_id, "pendiente", ("enviando",), intentado_at=None)
                    else:
                        continue
                    if campana_id is not None:
                        campanas.add(campana_id)
                for campana_id in campanas:
                    await self._progreso_campana(s, agente_id, campana_id, self.reloj.ahora())
            estado = self._estados.get(agente_id)
            if estado is not None:
                estado.despertar.set()
        await self.reloj.dormir(self.plazo_reconciliacion_s)
        async with transaccion(self.fabrica) as s:
            inciertas = await repo.marcar_inciertos(s, agente_id, inicio)
            for campana_id in {c for _, c in inciertas if c is not None}:
                await self._progreso_campana(s, agente_id, campana_id, self.reloj.ahora())
        if inciertas:
            log.warning("despacho_inciertos", agente_id=agente_id, filas=len(inciertas))

    # ---- safety stops ---------------------------------------------------------------------------

    async def parar(
        self,
        s: AsyncSession,
        agente_id: int,
        motivo: str,
        detalle: str | None = None,
        *,
        hasta: datetime | None = None,
    ) -> bool:
        """Store a stop (once per active cause) and tell the panel; the loop finds no due rows while it lasts.

        `hasta`: WhatsApp said until when (a reach-out timelock); the stop lifts itself at that moment.
        """
        existente = next((p for p in await repo.paradas_activas(s, agente_id) if p.motivo == motivo), None)
        if existente is not None:
            if hasta is not None and existente.hasta != hasta:
                existente.hasta = hasta  # WhatsApp moved the end of the timelock
            return False
        parada = ParadaSeguridad(
            agente_id=agente_id, motivo=motivo, detalle=detalle or MOTIVOS_PARADA.get(motivo), hasta=hasta
        )
        s.add(parada)
        await s.flush()
        equipo = await repo.equipo_de_agente(s, agente_id)
        emitir(
            s,
            EnvioParada(
                parada_id=parada.id,
                agente_id=agente_id,
                motivo=motivo,
                detalle=parada.detalle,
                mensaje=MOTIVOS_PARADA.get(motivo, motivo),
                activa=True,
                hasta=hasta,
            ),
            None,
            salas_agente(agente_id, equipo),
        )
        log.warning("envio_parada", agente_id=agente_id, motivo=motivo)
        return True

    async def reanudar(
        self, s: AsyncSession, agente_id: int, motivos: tuple[str, ...], usuario_id: int | None
    ) -> list[int]:
        resueltas = await repo.resolver_paradas(s, agente_id, motivos, self.reloj.ahora(), usuario_id)
        if resueltas:
            equipo = await repo.equipo_de_agente(s, agente_id)
            for parada_id in resueltas:
                emitir(
                    s,
                    EnvioParada(parada_id=parada_id, agente_id=agente_id, activa=False),
                    None,
                    salas_agente(agente_id, equipo),
                )
        return resueltas

    async def _al_conectado(self, e: EventoConectado) -> None:
        async with transaccion(self.fabrica) as s:
            await self.reanudar(s, e.agente_id, AUTO_RESUELTAS_AL_CONECTAR, None)
        self.despertar(e.agente_id)

    async def _al_desconectado(self, e: EventoDesconectado) -> None:
        motivo = "restriccion" if e.clase == ClaseDesconexion.restringida else "sesion_perdida"
        detalle = f"{MOTIVOS_PARADA[motivo]} ({e.detalle or e.codigo or e.clase.value})"
        async with transaccion(self.fabrica) as s:
            await self.parar(s, e.agente_id, motivo, detalle)

    async def _al_capping(self, e: EventoCapping) -> None:
        async with transaccion(self.fabrica) as s:
            if e.nivel in (NivelCapping.segundo_aviso, NivelCapping.limitado):
                await self.parar(s, e.agente_id, "capping", f"{MOTIVOS_PARADA['capping']} Nivel: {e.nivel.value}.")
            else:
                await self.reanudar(s, e.agente_id, ("capping",), None)
        self.despertar(e.agente_id)

    async def _al_restriccion(self, e: EventoRestriccion) -> None:
        """Timelock / new-chat cap read on open: safety stops with their reason and, when known, their end."""
        ahora = self.reloj.ahora()
        async with transaccion(self.fabrica) as s:
            if e.timelock_activo and (e.timelock_hasta is None or e.timelock_hasta > ahora):
                hasta = e.timelock_hasta
                cuando = f" hasta {hasta.isoformat(timespec='minutes')}" if hasta else ""
                await self.parar(s, e.agente_id, "timelock", f"{MOTIVOS_PARADA['timelock']}{cuando}", hasta=hasta)
            else:
                await self.reanudar(s, e.agente_id, ("timelock",), None)
            if e.cupo_chats_nuevos is not None and e.cupo_chats_nuevos <= 0:
                await self.parar(
                    s, e.agente_id, "cupo_chats_nuevos", f"{MOTIVOS_PARADA['cupo_chats_nuevos']} {e.detalle}".strip()
                )
            else:
                await self.reanudar(s, e.agente_id, ("cupo_chats_nuevos",), None)
        self.despertar(e.agente_id)

    # ---- number resolution and the delivery watchdog -----------------------------------------

    async def _resolucion_protegida(self, agente_id: int, estado: _Estado) -> None:
        while not self._deteniendo:
            try:
                await self._bucle_resolucion(agente_id, estado)
                return
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("bucle_resolucion_fallo", agente_id=agente_id)
                await self._dormir(5)

    async def _bucle_resolucion(self, agente_id: int, estado: _Estado) -> None:
        """Look up the session's upcoming numbers ahead of its dispatch loop, paced and capped per hour."""
        while not self._deteniendo:
            if not await self.conectado(agente_id):
                return
            ahora = self.reloj.ahora()
            async with self.fabrica() as s:
                detenida = await self._parada_activa(s, agente_id, ahora)
            if detenida:
                # A restricted or stopped number makes no lookups either: they are activity WhatsApp watches.
                await self._esperar_resolucion(estado, self.espera_sin_trabajo_s)
                continue
            r = await self.resolutor.resolver_lote(agente_id)
            campanas = {c for _, c in r.filas_sin_whatsapp or [] if c is not None}
            if campanas:
                async with transaccion(self.fabrica) as s:
                    for campana_id in campanas:
                        await self._progreso_campana(s, agente_id, campana_id, self.reloj.ahora())
            if r.consultados or campanas:
                estado.despertar.set()  # rows just became due (or closed): the dispatch loop looks again
            espera = self.espera_sin_trabajo_s
            if r.siguiente is not None:
                espera = max((r.siguiente - self.reloj.ahora()).total_seconds(), 0.001)
            await self._esperar_resolucion(estado, espera)

    async def _vigia_acuses(self) -> None:
        """At most once a minute: flag sends with no delivery receipt after `plazo_acuse_s` (`sin_acuse`)."""
        ahora = self.reloj.ahora()
        if self._ultima_vigia is not None and (ahora - self._ultima_vigia).total_seconds() < 60:
            return
        self._ultima_vigia = ahora
        async with transaccion(self.fabrica) as s:
            por_agente = await marcar_sin_acuse(s, ahora, timedelta(seconds=self.plazo_acuse_s))
            for agente_id, filas in por_agente.items():
                equipo = await repo.equipo_de_agente(s, agente_id)
                campanas = sorted({c for _, c in filas if c is not None})
                emitir(
                    s,
                    EnvioSinAcuse(
                        agente_id=agente_id,
                        mensaje_ids=[m for m, _ in filas],
                        campana_ids=campanas,
                        cantidad=len(filas),
                        momento=ahora,
                    ),
                    None,
                    [*salas_agente(agente_id, equipo), *(f"campana:{c}" for c in campanas)],
                )
        for agente_id in por_agente:
            estado = self._estados.get(agente_id)
            if estado is not None:
                estado.resolver.set()  # re-check those numbers soon

    async def _esperar_resolucion(self, estado: _Estado, segundos: float) -> None:
        """The resolver's wait: on the clock, or until a campaign starts or the watchdog asks for a re-check."""
        if estado.resolver.is_set():
            estado.resolver.clear()
            return
        dormir = asyncio.ensure_future(self._dormir(segundos))
        senal = asyncio.ensure_future(estado.resolver.wait())
        try:
            await asyncio.wait({dormir, senal}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for t in (dormir, senal):
                if not t.done():
                    t.cancel()
        estado.resolver.clear()

    async def _al_estado(self, e: EventoEstado) -> None:
        if e.estado != EstadoEntrega.fallido:
            return
        async with transaccion(self.fabrica) as s:
            if e.codigo_error == 463:
                await self.parar(s, e.agente_id, "restriccion", e.detalle_error or MOTIVOS_PARADA["restriccion"])
                return
            estado = self._estados.get(e.agente_id)
            if estado is not None:
                await self._resultado(s, e.agente_id, estado, fallo=True)

    def _lanzar(self, corrutina: Any) -> None:
        tarea = asyncio.get_running_loop().create_task(corrutina)
        self._tareas.add(tarea)
        tarea.add_done_callback(self._tareas.discard)


def _ventana(ritmo: Ritmo | None) -> Ventana | None:
    """The campaign profile's hours for the gate (replies and confirmations only get the hard limits)."""
    if ritmo is None:
        return None
    return Ventana.de_texto(ritmo.perfil.hora_inicio, ritmo.perfil.hora_fin)


def _destino(fila: repo.FilaDespacho) -> str:
    """Where a row goes: the jid WhatsApp's lookup returned (agent lines claim no unresolved campaign row)."""
    return jid_para_enviar(fila.numero_destino, fila.jid_resuelto or fila.destino_jid)
