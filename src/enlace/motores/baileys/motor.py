"""The `baileys` engine: spawns and supervises the Node gateway and speaks its JSON-lines protocol.

The gateway (`gateway/src/index.js`) hosts every agent's Baileys socket in one process and keeps no
files: the auth state comes from here on `iniciar` and every change comes back as a
`credenciales` event, which this engine merges (to re-issue `iniciar` after a gateway crash) and
passes on to the receptor so the sessions domain stores it encrypted. Protocol: docs/gateway.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import itertools
import json
import os
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import structlog

from enlace.comun.telefonos import telefono_de_jid
from enlace.motores.base import (
    ClaseDesconexion,
    ErrorMotor,
    EstadoEntrega,
    Evento,
    EventoCapping,
    EventoCodigoEmparejamiento,
    EventoConectado,
    EventoCredenciales,
    EventoDesconectado,
    EventoEstado,
    EventoMapeoIdentificador,
    EventoMensaje,
    EventoQR,
    EventoRestriccion,
    Medio,
    NivelCapping,
    OpcionesInicio,
    ReceptorEventos,
    ResultadoEnvio,
    SesionNoDisponible,
    TiempoAgotado,
    TipoContenido,
)

if TYPE_CHECKING:
    from enlace.reloj import Reloj
    from enlace.settings import Settings

log = structlog.get_logger(__name__)

RAIZ_REPO = Path(__file__).resolve().parents[4]
DIRECTORIO_GATEWAY = RAIZ_REPO / "gateway"
RUTA_GATEWAY = DIRECTORIO_GATEWAY / "src" / "index.js"
# Credentials and history batches travel as single lines; the default 64 KiB would cut them.
LIMITE_LINEA = 64 * 1024 * 1024


def fusionar_credenciales(estado: dict[str, Any] | None, delta: dict[str, Any]) -> dict[str, Any]:
    """Apply a `credenciales` delta (INTERFACES: creds replaces, keys set or delete by id) in place."""
    estado = estado if estado is not None else {}
    if "creds" in delta:
        estado["creds"] = delta["creds"]
    for tipo, por_id in (delta.get("keys") or {}).items():
        destino = estado.setdefault("keys", {}).setdefault(tipo, {})
        for clave, valor in (por_id or {}).items():
            if valor is None:
                destino.pop(clave, None)
            else:
                destino[clave] = valor
    return estado


def _momento(segundos: Any) -> datetime:
    try:
        return datetime.fromtimestamp(float(segundos), UTC)
    except (TypeError, ValueError, OverflowError):
        return datetime.now(UTC)


def _instante(valor: Any) -> datetime | None:
    """A moment the gateway sends as an ISO 8601 string (`Date.toISOString()`) or unix seconds; None if absent."""
    if valor is None or valor == "":
        return None
    if isinstance(valor, str) and not valor.replace(".", "", 1).isdigit():
        try:
            momento = datetime.fromisoformat(valor.replace("Z", "+00:00"))
        except ValueError:
            return None
        return momento if momento.tzinfo else momento.replace(tzinfo=UTC)
    return _momento(valor)


def _mensaje(agente_id: int, datos: dict[str, Any]) -> EventoMensaje:
    medio = datos.get("medio")
    return EventoMensaje(
        agente_id=agente_id,
        wa_message_id=datos["wa_message_id"],
        de_mi=bool(datos.get("de_mi")),
        chat_jid=datos["chat_jid"],
        telefono_jid=datos.get("telefono_jid"),
        momento=_momento(datos.get("momento")),
        tipo=TipoContenido(datos.get("tipo", "otro")),
        texto=datos.get("texto"),
        medio=(
            Medio(
                mime=medio.get("mime"),
                tamano=medio.get("tamano"),
                nombre_archivo=medio.get("nombre_archivo"),
                referencia=medio.get("referencia"),
            )
            if medio
            else None
        ),
        referencia_id=datos.get("referencia_id"),
        nombre_perfil=datos.get("nombre_perfil"),
        historial=bool(datos.get("historial")),
        es_grupo=bool(datos.get("es_grupo")),
    )


def convertir_evento(datos: dict[str, Any]) -> list[Evento]:
    """One gateway event line as the engine-neutral events of `motores.base` (a batch may give many)."""
    tipo = datos.get("evento")
    agente_id = int(datos["agente_id"])
    if tipo == "qr":
        return [EventoQR(agente_id=agente_id, qr=datos["qr"], expira_en_s=int(datos.get("expira_en_s", 20)))]
    if tipo == "codigo":
        return [EventoCodigoEmparejamiento(agente_id=agente_id, codigo=datos["codigo"])]
    if tipo == "conectado":
        return [
            EventoConectado(
                agente_id=agente_id,
                numero=telefono_de_jid(datos.get("numero")) or "",
                wa_id=datos.get("wa_id") or "",
                lid=datos.get("lid"),
            )
        ]
    if tipo == "desconectado":
        return [
            EventoDesconectado(
                agente_id=agente_id,
                clase=ClaseDesconexion(datos["clase"]),
                codigo=datos.get("codigo"),
                detalle=datos.get("detalle") or "",
            )
        ]
    if tipo == "mensaje":
        return [_mensaje(agente_id, datos)]
    if tipo == "historial":
        return [_mensaje(agente_id, {**m, "historial": True}) for m in datos.get("mensajes", [])]
    if tipo == "estado":
        return [
            EventoEstado(
                agente_id=agente_id,
                wa_message_id=datos["wa_message_id"],
                estado=EstadoEntrega(datos["estado"]),
                momento=_momento(datos.get("momento")),
                codigo_error=datos.get("codigo_error"),
                detalle_error=datos.get("detalle_error"),
                chat_jid=datos.get("chat_jid"),
            )
        ]
    if tipo == "mapeo":
        return [EventoMapeoIdentificador(agente_id=agente_id, lid=datos["lid"], telefono_jid=datos["telefono_jid"])]
    if tipo == "capping":
        return [
            EventoCapping(agente_id=agente_id, nivel=NivelCapping(datos["nivel"]), detalle=datos.get("detalle") or "")
        ]
    if tipo == "credenciales":
        return [EventoCredenciales(agente_id=agente_id, datos=datos["datos"])]
    if tipo == "restriccion":
        # fetchAccountReachoutTimelock / fetchNewChatMessageCap answers, read by the gateway on open.
        hasta = datos.get("timelock_hasta")
        cupo = datos.get("cupo_chats_nuevos")
        return [
            EventoRestriccion(
                agente_id=agente_id,
                timelock_activo=bool(datos.get("timelock_activo")),
                timelock_hasta=_instante(hasta),
                cupo_chats_nuevos=int(cupo) if cupo is not None else None,
                detalle=datos.get("detalle") or "",
            )
        ]
    return []


@dataclass(slots=True)
class _SesionActiva:
    """What is needed to start a session again if the gateway dies: the latest merged auth state."""

    credenciales: dict[str, Any] | None
    telefono: str | None


class MotorBaileys:
    """Baileys sessions in a supervised Node child process (stdin commands, stdout events)."""

    nombre = "baileys"

    def __init__(
        self,
        *,
        node: str = "node",
        ruta_gateway: Path | None = None,
        entorno: dict[str, str] | None = None,
        reloj: Reloj | None = None,
        tiempo_espera_s: float = 30.0,
        espera_arranque_s: float = 30.0,
        espera_reinicio_max_s: float = 30.0,
    ) -> None:
        self.node = node
        self.ruta_gateway = ruta_gateway or RUTA_GATEWAY
        self.entorno = entorno or {}
        self.reloj = reloj
        self.tiempo_espera_s = tiempo_espera_s
        self.espera_arranque_s = espera_arranque_s
        self.espera_reinicio_max_s = espera_reinicio_max_s
        self.reinicios = 0  # gateway restarts after a crash (tests and health checks read it)
        self.info_gateway: dict[str, Any] = {}
        self._receptor: ReceptorEventos | None = None
        self._proc: asyncio.subprocess.Process | None = None
        self._listo = asyncio.Event()
        self._deteniendo = False
        self._ids = itertools.count(1)
        self._pendientes: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._sesiones: dict[int, _SesionActiva] = {}
        self._cola: asyncio.Queue[Evento | None] = asyncio.Queue()
        self._tareas: list[asyncio.Task[None]] = []
        # Batches of keys being committed (at most one per session: the gateway waits for each confirmation).
        self._credenciales: set[asyncio.Task[None]] = set()
        self._limite_credenciales = asyncio.Semaphore(8)
        self._lectores: list[asyncio.Task[None]] = []

    # ---- lifecycle ---------------------------------------------------------------------------

    async def iniciar(self, receptor: ReceptorEventos) -> None:
        if not (DIRECTORIO_GATEWAY / "node_modules" / "baileys").exists() and self.ruta_gateway == RUTA_GATEWAY:
            raise ErrorMotor("Faltan las dependencias de la pasarela: ejecuta `npm ci` dentro de gateway/.")
        self._receptor = receptor
        self._deteniendo = False
        self._tareas.append(asyncio.create_task(self._repartir(), name="baileys-eventos"))
        await self._arrancar()
        self._tareas.append(asyncio.create_task(self._supervisar(), name="baileys-supervisor"))

    async def detener(self) -> None:
        self._deteniendo = True
        proc = self._proc
        if proc is not None and proc.returncode is None:
            # Closing stdin makes the gateway end every socket (creds are kept here) and exit.
            with contextlib.suppress(Exception):
                assert proc.stdin is not None
                proc.stdin.close()
            try:
                await asyncio.wait_for(proc.wait(), 5)
            except TimeoutError:
                proc.terminate()
                try:
                    await asyncio.wait_for(proc.wait(), 3)
                except TimeoutError:
                    proc.kill()
                    await proc.wait()
        for lector in self._lectores:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(lector, 2)
        self._fallar_pendientes(ErrorMotor("El motor se detuvo", reintentable=True))
        await self._esperar_credenciales()
        await self._cola.put(None)
        for tarea in self._tareas:
            try:
                await asyncio.wait_for(tarea, 5)
            except (TimeoutError, asyncio.CancelledError):
                tarea.cancel()
            except Exception:
                log.exception("tarea_motor_baileys_fallo")
        self._tareas.clear()
        self._lectores.clear()
        self._sesiones.clear()

    async def _arrancar(self) -> None:
        self._listo = asyncio.Event()
        entorno = {**os.environ, **self.entorno}
        proc = await asyncio.create_subprocess_exec(
            self.node,
            str(self.ruta_gateway),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=entorno,
            cwd=str(self.ruta_gateway.parent.parent),
            limit=LIMITE_LINEA,
        )
        self._proc = proc
        self._lectores = [
            asyncio.create_task(self._leer(proc), name="baileys-stdout"),
            asyncio.create_task(self._leer_stderr(proc), name="baileys-stderr"),
        ]
        try:
            await asyncio.wait_for(self._listo.wait(), self.espera_arranque_s)
        except TimeoutError as e:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            raise ErrorMotor("La pasarela de WhatsApp no arrancó a tiempo", reintentable=True) from e
        log.info(
            "gateway_listo",
            pid=proc.pid,
            baileys=self.info_gateway.get("baileys"),
            version_wa=self.info_gateway.get("version_wa"),
            version_origen=self.info_gateway.get("version_origen"),
        )

    async def _supervisar(self) -> None:
        espera = 0.5
        while not self._deteniendo:
            proc = self._proc
            assert proc is not None
            inicio = time.monotonic()
            codigo = await proc.wait()
            for lector in self._lectores:
                with contextlib.suppress(Exception):
                    await lector
            if self._deteniendo:
                return
            log.error("gateway_termino", codigo=codigo, sesiones=len(self._sesiones))
            self._fallar_pendientes(ErrorMotor("La pasarela de WhatsApp se reinició", reintentable=True))
            if time.monotonic() - inicio > 60:
                espera = 0.5  # it had been healthy for a while: this is a fresh failure, not a crash loop
            while not self._deteniendo:
                # Process supervision backoff, not a domain delay: real time on purpose.
                await asyncio.sleep(espera)
                espera = min(espera * 2, self.espera_reinicio_max_s)
                try:
                    await self._arrancar()
                    break
                except Exception:
                    log.exception("gateway_no_arranco")
            if self._deteniendo:
                return
            self.reinicios += 1
            await self._esperar_credenciales()
            for agente_id, sesion in list(self._sesiones.items()):
                credenciales = sesion.credenciales if sesion.credenciales and sesion.credenciales.get("creds") else None
                try:
                    await self._comando(
                        "iniciar", agente_id=agente_id, credenciales=credenciales, telefono=sesion.telefono
                    )
                except ErrorMotor:
                    log.exception("reinicio_sesion_fallo", agente_id=agente_id)

    # ---- protocol ----------------------------------------------------------------------------

    async def _leer(self, proc: asyncio.subprocess.Process) -> None:
        assert proc.stdout is not None
        while True:
            try:
                linea = await proc.stdout.readline()
            except (ValueError, asyncio.LimitOverrunError):
                log.error("gateway_linea_demasiado_larga")
                continue
            if not linea:
                return
            try:
                datos = json.loads(linea)
            except json.JSONDecodeError:
                log.warning("gateway_linea_invalida")
                continue
            if "evento" in datos:
                self._al_evento(datos)
                continue
            futuro = self._pendientes.get(str(datos.get("id")))
            if futuro is not None and not futuro.done():
                futuro.set_result(datos)

    async def _leer_stderr(self, proc: asyncio.subprocess.Process) -> None:
        assert proc.stderr is not None
        while True:
            try:
                linea = await proc.stderr.readline()
            except (ValueError, asyncio.LimitOverrunError):
                continue
            if not linea:
                return
            texto = linea.decode(errors="replace").strip()
            try:
                datos = json.loads(texto)
                nivel = datos.pop("nivel", "info")
            except (json.JSONDecodeError, AttributeError):
                datos, nivel = {"msg": texto}, "warn"
            registro = log.error if nivel in ("error", "fatal") else log.warning if nivel == "warn" else log.debug
            registro("gateway_log", **{k: v for k, v in datos.items() if k != "event"})

    def _al_evento(self, datos: dict[str, Any]) -> None:
        tipo = datos.get("evento")
        if tipo == "listo":
            self.info_gateway = datos
            self._listo.set()
            return
        if tipo == "error_protocolo":
            log.error("gateway_error_protocolo", detalle=datos.get("detalle"))
            return
        try:
            eventos = convertir_evento(datos)
        except (KeyError, ValueError, TypeError):
            log.exception("gateway_evento_invalido", evento=tipo)
            return
        agente_id = datos.get("agente_id")
        if tipo == "credenciales":
            # Keys go on their own lane, not behind every agent's messages: Baileys waits for this commit.
            self._guardar_credenciales(agente_id, datos)  # type: ignore[arg-type]
            return
        if tipo == "desconectado" and datos.get("clase") != ClaseDesconexion.restringida.value:
            # The socket is gone; whoever wants it back (SessionManager) starts it again.
            self._sesiones.pop(agente_id, None)  # type: ignore[arg-type]
        for evento in eventos:
            self._cola.put_nowait(evento)

    async def _repartir(self) -> None:
        """Hand events to the receptor one at a time, in order, away from the stdout reader.

        A receptor that calls back into the engine (e.g. starts the session again on a drop) would
        deadlock if it ran inside the reader that must deliver that command's response.
        """
        while True:
            evento = await self._cola.get()
            if evento is None:
                return
            if self._receptor is None:
                continue
            try:
                await self._receptor(evento)
            except Exception:
                log.exception("receptor_fallo", evento=type(evento).__name__)

    def _guardar_credenciales(self, agente_id: int, datos: dict[str, Any]) -> None:
        """Hand a batch of keys to the receptor; once it committed (`confirmar`), tell the gateway."""
        delta = datos.get("datos") or {}
        lote = datos.get("lote")
        proc = self._proc

        async def confirmar() -> None:
            sesion = self._sesiones.get(agente_id)
            if sesion is not None:
                # Only committed changes are kept for a restart: memory never runs ahead of the database.
                sesion.credenciales = fusionar_credenciales(sesion.credenciales, delta)
            if lote is None or proc is not self._proc:
                return  # that gateway is gone; its successor starts from the stored state
            try:
                await self._comando("confirmar_credenciales", agente_id=agente_id, lote=lote)
            except ErrorMotor:
                log.warning("confirmacion_credenciales_fallo", agente_id=agente_id, lote=lote)

        async def guardar() -> None:
            async with self._limite_credenciales:
                if self._receptor is None:
                    return
                try:
                    await self._receptor(EventoCredenciales(agente_id=agente_id, datos=delta, confirmar=confirmar))
                except Exception:
                    log.exception("receptor_credenciales_fallo", agente_id=agente_id)

        tarea = asyncio.get_running_loop().create_task(guardar(), name=f"baileys-credenciales-{agente_id}")
        self._credenciales.add(tarea)
        tarea.add_done_callback(self._credenciales.discard)

    async def _esperar_credenciales(self) -> None:
        """Let every batch already received finish committing (before a restarted gateway gets the state)."""
        if self._credenciales:
            await asyncio.gather(*list(self._credenciales), return_exceptions=True)

    def _fallar_pendientes(self, error: ErrorMotor) -> None:
        for futuro in self._pendientes.values():
            if not futuro.done():
                futuro.set_exception(error)
        self._pendientes.clear()

    async def _comando(self, cmd: str, *, tiempo_espera_s: float | None = None, **datos: Any) -> dict[str, Any]:
        proc = self._proc
        if proc is None or proc.returncode is not None or not self._listo.is_set() or proc.stdin is None:
            raise ErrorMotor("La pasarela de WhatsApp no está disponible", reintentable=True)
        ident = str(next(self._ids))
        futuro: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pendientes[ident] = futuro
        try:
            proc.stdin.write((json.dumps({"id": ident, "cmd": cmd, **datos}, ensure_ascii=False) + "\n").encode())
            await proc.stdin.drain()
            respuesta = await asyncio.wait_for(futuro, tiempo_espera_s or self.tiempo_espera_s)
        except TimeoutError as e:
            # A send that timed out may still have been written: the caller must not blindly retry it.
            if cmd == "enviar_texto":
                raise TiempoAgotado("La pasarela no respondió a tiempo", codigo=408) from e
            raise ErrorMotor("La pasarela no respondió a tiempo", reintentable=True) from e
        except (BrokenPipeError, ConnectionResetError) as e:
            raise ErrorMotor("La pasarela de WhatsApp no está disponible", reintentable=True) from e
        finally:
            self._pendientes.pop(ident, None)
        if respuesta.get("ok"):
            return respuesta.get("resultado") or {}
        error = respuesta.get("error") or {}
        mensaje = error.get("mensaje") or "Error de la pasarela"
        clase = SesionNoDisponible if error.get("codigo") == "sin_sesion" else ErrorMotor
        raise clase(mensaje, codigo=error.get("estado"), reintentable=bool(error.get("reintentable")))

    # ---- Motor -------------------------------------------------------------------------------

    async def iniciar_sesion(self, agente_id: int, opciones: OpcionesInicio) -> None:
        credenciales = copy.deepcopy(opciones.credenciales) if opciones.credenciales else None
        self._sesiones[agente_id] = _SesionActiva(credenciales=credenciales, telefono=opciones.telefono_emparejamiento)
        try:
            await self._comando(
                "iniciar",
                agente_id=agente_id,
                credenciales=opciones.credenciales or None,
                telefono=opciones.telefono_emparejamiento,
            )
        except ErrorMotor:
            self._sesiones.pop(agente_id, None)
            raise

    async def pedir_codigo_emparejamiento(self, agente_id: int, telefono: str) -> str:
        resultado = await self._comando("codigo_emparejamiento", agente_id=agente_id, telefono=telefono)
        if agente_id in self._sesiones:
            self._sesiones[agente_id].telefono = telefono
        return str(resultado["codigo"])

    async def detener_sesion(self, agente_id: int) -> None:
        self._sesiones.pop(agente_id, None)
        await self._comando("detener", agente_id=agente_id)

    async def cerrar_sesion(self, agente_id: int) -> None:
        self._sesiones.pop(agente_id, None)
        await self._comando("cerrar_sesion", agente_id=agente_id)

    async def enviar_texto(self, agente_id: int, destino_jid: str, texto: str, wa_message_id: str) -> ResultadoEnvio:
        resultado = await self._comando(
            "enviar_texto", agente_id=agente_id, jid=destino_jid, texto=texto, wa_message_id=wa_message_id
        )
        momento = _momento(resultado.get("momento")) if resultado.get("momento") else self._ahora()
        return ResultadoEnvio(wa_message_id=resultado.get("wa_message_id") or wa_message_id, momento=momento)

    async def presencia(self, agente_id: int, destino_jid: str, estado: str) -> None:
        await self._comando("presencia", agente_id=agente_id, jid=destino_jid, estado=estado)

    async def consultar_numero(self, agente_id: int, telefonos: list[str]) -> dict[str, str | None]:
        resultado = await self._comando("consultar_numero", agente_id=agente_id, telefonos=list(telefonos))
        encontrados = resultado.get("resultado") or {}
        return {t: encontrados.get(t) for t in telefonos}

    def nuevo_id_mensaje(self, agente_id: int) -> str:
        # Same shape as Baileys' own ids: '3EB0' + 18 uppercase hex characters.
        return "3EB0" + secrets.token_hex(9).upper()

    # ---- extras (not part of Motor) ----------------------------------------------------------

    async def ping(self) -> dict[str, Any]:
        """Gateway health: number of sockets and its RSS in bytes."""
        return await self._comando("ping")

    async def simular(self, agente_id: int, accion: str, datos: dict[str, Any] | None = None) -> dict[str, Any]:
        """Drive the stand-in socket (only when ENLACE_GATEWAY_FABRICA_SOCKET points at it: tests, bench)."""
        return await self._comando("simular", agente_id=agente_id, accion=accion, datos=datos or {})

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    @property
    def sesiones_activas(self) -> int:
        return len(self._sesiones)

    def _ahora(self) -> datetime:
        return self.reloj.ahora() if self.reloj is not None else datetime.now(UTC)


RUTA_SOCKET_SIMULADO = DIRECTORIO_GATEWAY / "soporte" / "socket_simulado.js"


def entorno_socket_simulado(retraso_ms: int = 5, qr_ms: int = 20000) -> dict[str, str]:
    """Environment that makes the gateway use the stand-in socket instead of WhatsApp (tests, bench)."""
    return {
        "ENLACE_GATEWAY_FABRICA_SOCKET": str(RUTA_SOCKET_SIMULADO),
        "ENLACE_SIMULADO_RETRASO_MS": str(retraso_ms),
        "ENLACE_SIMULADO_QR_MS": str(qr_ms),
    }


def entorno_gateway(settings: Settings) -> dict[str, str]:
    """The settings the gateway supervisor reads from its environment (processes, heap, rate limit)."""
    return {
        "ENLACE_GATEWAY_SOCKETS_POR_PROCESO": str(settings.gateway_sockets_por_proceso),
        "ENLACE_GATEWAY_HEAP_MB": str(settings.gateway_heap_mb),
        "ENLACE_GATEWAY_CONEXIONES_POR_S": str(settings.gateway_conexiones_por_s),
    }


def crear_motor_baileys(settings: Settings, reloj: Reloj) -> MotorBaileys:
    # The gateway gets its own per-command limit; the core waits longer (settings refuse otherwise), so a
    # send the gateway still completes is never given up on here first.
    return MotorBaileys(
        node=settings.gateway_node,
        reloj=reloj,
        tiempo_espera_s=settings.gateway_tiempo_espera_s,
        entorno={
            **entorno_gateway(settings),
            "ENLACE_GATEWAY_LIMITE_COMANDO_MS": str(int(settings.gateway_limite_comando_s * 1000)),
        },
    )
