"""The virtual WhatsApp network: accounts, recipients' phones, receipts and replies, on an injected clock.

Several `MotorSimulador` instances (several nodes) can share one network: a second socket on an account
replaces the first (440), exactly as WhatsApp does. Events for an account whose socket is closed wait on
the network and arrive when it reconnects, as offline messages do.

Where the real network is unkind, this one is too (Baileys 7.0.0-rc14 behaviour):
- Mexican mobiles are registered as `521`+10 digits, landlines and Business numbers as `52`+10; only the
  `onWhatsApp` lookup (`consultar`) maps `52`→`521`. A message to any other id (the `52` form of a mobile,
  a number not on WhatsApp) is accepted, echoed to the sender and never delivered: no receipt, no error.
- A successful send gets no server-ack receipt (Baileys reports acks only when they carry an error).
- Trusted-contact tokens: a person who writes to an account issues it a token (kept by the client in its
  auth state, `tctoken` keys). A timelocked account may only write to chats whose token it presents;
  a first message to someone who never wrote is refused with 463, and so is a new chat beyond the cap.
"""

from __future__ import annotations

import asyncio
import base64
import random
import secrets
from collections.abc import Coroutine
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import structlog

from enlace.motores.base import (
    EstadoEntrega,
    Evento,
    EventoEstado,
    EventoMapeoIdentificador,
    EventoMensaje,
    Medio,
    NivelCapping,
    TipoContenido,
)
from enlace.motores.simulador.ledger import Ledger, Recibido
from enlace.motores.simulador.perfiles import (
    SUFIJO_LID,
    PerfilDestinatario,
    ajustar,
    jid_de,
    perfil_para,
    respuesta_para,
    telefono_canonico,
)
from enlace.reloj import Reloj

if TYPE_CHECKING:
    from enlace.motores.simulador.motor import MotorSimulador

log = structlog.get_logger(__name__)

# Events kept for an account while no socket is open; older ones are dropped beyond this.
MAX_EN_ESPERA = 5000

_PALABRAS_BAJA = ("baja", "alto", "stop", "ya no me manden")


@dataclass(slots=True, eq=False)
class Cuenta:
    """A WhatsApp account (the agent's number) as the network knows it."""

    numero: str
    agente_id: int
    token: str
    wa_id: str
    lid: str
    restringida_hasta: datetime | None = None
    capping: NivelCapping = NivelCapping.ninguno
    lids_mapeados: set[str] = field(default_factory=set)
    # New chats this account may still start (fetchNewChatMessageCap); None = no cap.
    cupo_chats_nuevos: int | None = None
    # Chats this account already started or was written in (a second message there is not a new chat).
    chats: set[str] = field(default_factory=set)

    def restringida(self, ahora: datetime) -> bool:
        return self.restringida_hasta is not None and ahora < self.restringida_hasta


@dataclass(slots=True, frozen=True)
class NotificacionToken:
    """A `privacy_token` notification: the person's trusted-contact token for the account's client to keep."""

    agente_id: int
    jid: str  # storage jid, as Baileys keys it (the LID when known, else the phone jid)
    token: str
    t: int  # issue time, unix seconds


@dataclass(slots=True, frozen=True)
class Socket:
    motor: MotorSimulador
    agente_id: int


def id_mensaje_web() -> str:
    """Baileys-style id ('3EB0' + 18 uppercase hex), as a linked device produces."""
    return "3EB0" + secrets.token_hex(9).upper()


def id_mensaje_telefono(rng: random.Random) -> str:
    """An id as a phone produces it: iPhones '3A' + 18 hex, Android 32 hex."""
    if rng.random() < 0.5:
        return "3A" + f"{rng.getrandbits(72):018X}"
    return f"{rng.getrandbits(128):032X}"


def _b64(n: int) -> str:
    return base64.b64encode(secrets.token_bytes(n)).decode()


class RedVirtual:
    def __init__(self, reloj: Reloj, *, semilla: int = 7, ledger: Ledger | None = None) -> None:
        self.reloj = reloj
        self.semilla = semilla
        self.ledger = ledger if ledger is not None else Ledger()
        self._perfiles: dict[str, PerfilDestinatario] = {}
        self._por_lid: dict[str, str] = {}
        self._cuentas: dict[str, Cuenta] = {}
        self._cuenta_de_agente: dict[int, Cuenta] = {}
        self._revocados: set[str] = set()
        self._sockets: dict[str, Socket] = {}
        self._en_espera: dict[str, list[Evento | NotificacionToken]] = {}
        self._bajas: set[str] = set()
        self._caida_hasta: dict[int, datetime] = {}
        self._tareas: set[asyncio.Task[None]] = set()
        # (account number, person's phone) → unix time the person last issued the account a token.
        self._confianza: dict[tuple[str, str], int] = {}
        # Oldest WhatsApp Web version the server accepts; older clients get 405.
        self.version_minima: tuple[int, int, int] | None = None
        # Number lookups per agent (moment, how many numbers): tests check the core paces them.
        self.consultas: dict[int, list[tuple[datetime, int]]] = {}

    # ---- recipients -----------------------------------------------------------------------

    def perfil(self, telefono: str) -> PerfilDestinatario:
        perfil = self._perfiles.get(telefono)
        if perfil is None:
            perfil = perfil_para(self.semilla, telefono)
            self._perfiles[telefono] = perfil
            if perfil.lid:
                self._por_lid[perfil.lid] = telefono
        return perfil

    def fijar_perfil(self, telefono: str, **cambios: object) -> PerfilDestinatario:
        """Pin a person's behaviour (tests: 'this one answers BAJA within a minute')."""
        canonico = telefono_canonico(telefono)
        if canonico is None:
            raise ValueError(f"Teléfono inválido: {telefono}")
        perfil = ajustar(self.perfil(canonico), **cambios)
        self._perfiles[canonico] = perfil
        if perfil.lid:
            self._por_lid[perfil.lid] = canonico
        return perfil

    def resolver(self, jid_o_telefono: str) -> PerfilDestinatario | None:
        """The person behind a phone jid (521… or 52…), a known LID or plain digits."""
        if jid_o_telefono.endswith(SUFIJO_LID):
            telefono = self._por_lid.get(jid_o_telefono.split(":", 1)[0])
            return self.perfil(telefono) if telefono else None
        canonico = telefono_canonico(jid_o_telefono)
        return self.perfil(canonico) if canonico else None

    def dio_baja(self, telefono: str) -> bool:
        return telefono in self._bajas

    def consultar(self, digitos: str) -> str | None:
        """`onWhatsApp` for one number as the server answers it: the registered jid, or None.

        `52`+10 digits finds a mobile registered as `521`+10 (the only place that mapping happens);
        `521`+10 finds only a number registered that way; anything not on WhatsApp is absent.
        """
        limpio = "".join(ch for ch in digitos.split("@", 1)[0].split(":", 1)[0] if ch.isdigit())
        canonico = telefono_canonico(limpio) if len(limpio) in (12, 13) else None
        if canonico is None:
            return None
        perfil = self.perfil(canonico)
        if not perfil.en_whatsapp:
            return None
        if len(limpio) == 13 and not perfil.usa_521:
            return None  # nobody maps 521 back to 52
        return perfil.jid

    def destinatario(self, jid: str) -> PerfilDestinatario | None:
        """Who actually receives a message addressed to `jid`: only the registered id or a known LID."""
        if jid.endswith(SUFIJO_LID):
            perfil = self.resolver(jid)
            return perfil if perfil is not None and perfil.en_whatsapp else None
        perfil = self.resolver(jid)
        if perfil is None or not perfil.en_whatsapp or jid.split(":", 1)[0] != perfil.jid:
            return None
        return perfil

    def confia(self, cuenta: Cuenta, perfil: PerfilDestinatario) -> int | None:
        """When the person last issued this account a trusted-contact token (None: never wrote to it)."""
        return self._confianza.get((cuenta.numero, perfil.telefono))

    def token_para(self, cuenta: Cuenta, perfil: PerfilDestinatario) -> NotificacionToken | None:
        """The token the server hands back to `issuePrivacyTokens` when the person trusts the account."""
        t = self.confia(cuenta, perfil)
        if t is None:
            return None
        return NotificacionToken(cuenta.agente_id, perfil.lid or perfil.jid, _token(cuenta, perfil, t), t)

    # ---- accounts and sockets -------------------------------------------------------------

    def cuenta_nueva(self, numero: str, agente_id: int) -> Cuenta:
        """A fresh link of `numero` (QR scanned or pairing code typed): a new device token."""
        propio = self.perfil(numero)
        rng = random.Random(f"{self.semilla}|lid|{numero}")
        cuenta = Cuenta(
            numero=numero,
            agente_id=agente_id,
            token=secrets.token_urlsafe(24),
            wa_id=jid_de(numero, propio.usa_521),
            lid=f"{rng.randrange(10**13, 10**15)}{SUFIJO_LID}",
        )
        anterior = self._cuentas.get(numero)
        if anterior is not None:
            cuenta.restringida_hasta = anterior.restringida_hasta
            cuenta.capping = anterior.capping
        self._registrar_cuenta(cuenta)
        return cuenta

    def cuenta_desde_credenciales(self, agente_id: int, creds: dict[str, Any]) -> Cuenta | None:
        """The account a stored auth state belongs to, or None when the device was logged out."""
        sim = creds.get("sim") or {}
        token = sim.get("token")
        me = creds.get("me") or {}
        numero = telefono_canonico(str(me.get("id", "")))
        if not token or not numero or token in self._revocados:
            return None
        existente = self._cuentas.get(numero)
        if existente is not None and existente.token == token:
            return existente
        # Unknown to this network instance (the server restarted): trust the credentials, as WhatsApp does.
        cuenta = Cuenta(
            numero=numero,
            agente_id=agente_id,
            token=token,
            wa_id=str(me["id"]).split(":")[0].split("@")[0] + "@s.whatsapp.net",
            lid=str(me.get("lid") or sim.get("lid") or ""),
        )
        if existente is not None:
            cuenta.restringida_hasta = existente.restringida_hasta
            cuenta.capping = existente.capping
        self._registrar_cuenta(cuenta)
        return cuenta

    def _registrar_cuenta(self, cuenta: Cuenta) -> None:
        viejo = self._cuentas.get(cuenta.numero)
        if viejo is not None and viejo.token != cuenta.token:
            # Linking the number again unlinks the previous device.
            self._revocados.add(viejo.token)
        self._cuentas[cuenta.numero] = cuenta
        self._cuenta_de_agente[cuenta.agente_id] = cuenta

    def cuenta_de_agente(self, agente_id: int) -> Cuenta | None:
        return self._cuenta_de_agente.get(agente_id)

    def revocar(self, cuenta: Cuenta) -> None:
        self._revocados.add(cuenta.token)

    def revocar_token(self, token: str) -> None:
        self._revocados.add(token)

    def revocado(self, cuenta: Cuenta) -> bool:
        return cuenta.token in self._revocados

    def marcar_caida(self, agente_id: int, hasta: datetime) -> None:
        self._caida_hasta[agente_id] = hasta

    def caida(self, agente_id: int) -> bool:
        hasta = self._caida_hasta.get(agente_id)
        return hasta is not None and self.reloj.ahora() < hasta

    def enlazar(self, cuenta: Cuenta, socket: Socket) -> tuple[Socket | None, list[Evento | NotificacionToken]]:
        """Bind the account to `socket`; returns the socket it replaced and the events waiting for it."""
        anterior = self._sockets.get(cuenta.numero)
        self._sockets[cuenta.numero] = socket
        if anterior == socket:
            anterior = None
        return anterior, self._en_espera.pop(cuenta.numero, [])

    def en_espera(self, numero: str) -> int:
        """Events held for `numero` until its socket opens (offline messages)."""
        return len(self._en_espera.get(numero, ()))

    def desenlazar(self, cuenta: Cuenta, socket: Socket) -> None:
        if self._sockets.get(cuenta.numero) == socket:
            del self._sockets[cuenta.numero]

    def socket_de(self, cuenta: Cuenta) -> Socket | None:
        return self._sockets.get(cuenta.numero)

    async def entregar(self, cuenta: Cuenta, evento: Evento | NotificacionToken) -> None:
        """Hand `evento` to the account's open socket, or keep it until one opens."""
        socket = self._sockets.get(cuenta.numero)
        if socket is not None:
            await socket.motor._emitir(evento)
            return
        cola = self._en_espera.setdefault(cuenta.numero, [])
        cola.append(evento)
        if len(cola) > MAX_EN_ESPERA:
            del cola[0]

    # ---- scheduling on the clock ----------------------------------------------------------

    def programar(self, corrutina: Coroutine[Any, Any, None]) -> None:
        """Run `corrutina` as a network task (its sleeps are on the clock; `cerrar` cancels it)."""
        tarea = asyncio.get_running_loop().create_task(self._proteger(corrutina))
        self._tareas.add(tarea)
        tarea.add_done_callback(self._tareas.discard)

    async def _proteger(self, corrutina: Coroutine[Any, Any, None]) -> None:
        try:
            await corrutina
        except asyncio.CancelledError:
            raise
        except Exception:  # a broken consumer must not kill the network
            log.exception("simulador.tarea_fallida")

    async def cerrar(self) -> None:
        tareas = list(self._tareas)
        for tarea in tareas:
            tarea.cancel()
        await asyncio.gather(*tareas, return_exceptions=True)
        self.ledger.cerrar()

    @property
    def tareas_pendientes(self) -> int:
        return len(self._tareas)

    # ---- messages -------------------------------------------------------------------------

    def _chat_jid(self, perfil: PerfilDestinatario) -> str:
        return perfil.lid or perfil.jid

    async def _mapear_lid(self, cuenta: Cuenta, perfil: PerfilDestinatario) -> None:
        if perfil.lid and perfil.lid not in cuenta.lids_mapeados:
            cuenta.lids_mapeados.add(perfil.lid)
            await self.entregar(cuenta, EventoMapeoIdentificador(cuenta.agente_id, perfil.lid, perfil.jid))

    def registrar_recepcion(
        self, cuenta: Cuenta, perfil: PerfilDestinatario, wa_message_id: str, texto: str, origen: str
    ) -> None:
        self.ledger.registrar(
            Recibido(
                telefono=perfil.telefono,
                wa_message_id=wa_message_id,
                texto=texto,
                momento=self.reloj.ahora(),
                agente_id=cuenta.agente_id,
                origen=origen,
                remitente=cuenta.numero,
            )
        )

    async def ciclo_mensaje(
        self,
        cuenta: Cuenta,
        perfil: PerfilDestinatario,
        wa_message_id: str,
        texto: str,
        *,
        eco: bool,
        codigo_error: int | None = None,
        entregable: bool = True,
        chat_jid: str | None = None,
    ) -> None:
        """What happens to one message after it leaves: echo, delivery, read, maybe a reply.

        No server-ack receipt on success (Baileys emits acks only with an error). `entregable=False` is a
        message to an id nobody is registered under: echoed, then silence.
        """
        rng = random.Random(f"{self.semilla}|{wa_message_id}")
        if not entregable:
            if eco:
                await self.entregar(
                    cuenta,
                    EventoMensaje(
                        agente_id=cuenta.agente_id,
                        wa_message_id=wa_message_id,
                        de_mi=True,
                        chat_jid=chat_jid or perfil.jid,
                        telefono_jid=chat_jid or perfil.jid,
                        momento=self.reloj.ahora(),
                        tipo=TipoContenido.texto,
                        texto=texto,
                    ),
                )
            return
        chat = self._chat_jid(perfil)
        await self._mapear_lid(cuenta, perfil)
        if eco:
            # messages.upsert 'append': the socket's own copy of what it just sent.
            await self.entregar(
                cuenta,
                EventoMensaje(
                    agente_id=cuenta.agente_id,
                    wa_message_id=wa_message_id,
                    de_mi=True,
                    chat_jid=chat,
                    telefono_jid=perfil.jid,
                    momento=self.reloj.ahora(),
                    tipo=TipoContenido.texto,
                    texto=texto,
                ),
            )
        await self.reloj.dormir(rng.uniform(0.2, 1.5))
        if codigo_error is not None:
            await self._estado(cuenta, wa_message_id, EstadoEntrega.fallido, chat, codigo_error)
            return
        if not perfil.en_whatsapp:
            return  # nobody there to receive it
        cuenta.chats.add(perfil.telefono)
        espera = rng.uniform(*perfil.entrega_s)
        if perfil.horas_fuera_de_linea:
            espera += perfil.horas_fuera_de_linea * 3600 * rng.uniform(0.3, 1.0)
        await self.reloj.dormir(espera)
        await self._estado(cuenta, wa_message_id, EstadoEntrega.entregado, chat)
        if rng.random() >= perfil.prob_lectura:
            return
        await self.reloj.dormir(rng.uniform(*perfil.lectura_s))
        await self._estado(cuenta, wa_message_id, EstadoEntrega.leido, chat)
        ya_dio_baja = self.dio_baja(perfil.telefono)
        prob = perfil.prob_respuesta * (2.0 if ya_dio_baja else 1.0)
        if rng.random() >= prob:
            return
        await self.reloj.dormir(rng.uniform(*perfil.respuesta_s))
        await self.recibir(cuenta, perfil, respuesta_para(perfil, rng, ya_dio_baja=ya_dio_baja), rng=rng)

    async def _estado(
        self, cuenta: Cuenta, wa_message_id: str, estado: EstadoEntrega, chat: str, codigo: int | None = None
    ) -> None:
        await self.entregar(
            cuenta,
            EventoEstado(
                agente_id=cuenta.agente_id,
                wa_message_id=wa_message_id,
                estado=estado,
                momento=self.reloj.ahora(),
                codigo_error=codigo,
                detalle_error=_detalle_error(codigo),
                chat_jid=chat,
            ),
        )

    async def recibir(
        self,
        cuenta: Cuenta,
        perfil: PerfilDestinatario,
        texto: str | None,
        *,
        rng: random.Random | None = None,
        tipo: TipoContenido = TipoContenido.texto,
        medio: Medio | None = None,
        referencia_id: str | None = None,
    ) -> str:
        """The person writes to the agent's number; returns the message id."""
        rng = rng or random.Random()
        wa_id = id_mensaje_telefono(rng)
        if texto and tipo == TipoContenido.texto and _es_baja(texto):
            self._bajas.add(perfil.telefono)
        await self._mapear_lid(cuenta, perfil)
        t = int(self.reloj.ahora().timestamp())
        self._confianza[(cuenta.numero, perfil.telefono)] = t
        cuenta.chats.add(perfil.telefono)
        await self.entregar(
            cuenta,
            EventoMensaje(
                agente_id=cuenta.agente_id,
                wa_message_id=wa_id,
                de_mi=False,
                chat_jid=self._chat_jid(perfil),
                telefono_jid=perfil.jid,
                momento=self.reloj.ahora(),
                tipo=tipo,
                texto=texto,
                medio=medio,
                referencia_id=referencia_id,
                nombre_perfil=perfil.nombre,
            ),
        )
        # Writing to the account makes it a trusted contact: the person's client issues it a token
        # (a `privacy_token` notification that follows the message).
        await self.entregar(
            cuenta, NotificacionToken(cuenta.agente_id, perfil.lid or perfil.jid, _token(cuenta, perfil, t), t)
        )
        return wa_id

    async def escrito_en_telefono(self, cuenta: Cuenta, perfil: PerfilDestinatario, texto: str) -> str:
        """The agent types on the phone itself: the linked session sees it as its own message."""
        wa_id = id_mensaje_telefono(random.Random())
        if perfil.en_whatsapp:
            self.registrar_recepcion(cuenta, perfil, wa_id, texto, "telefono")
        await self._mapear_lid(cuenta, perfil)
        await self.entregar(
            cuenta,
            EventoMensaje(
                agente_id=cuenta.agente_id,
                wa_message_id=wa_id,
                de_mi=True,
                chat_jid=self._chat_jid(perfil),
                telefono_jid=perfil.jid,
                momento=self.reloj.ahora(),
                tipo=TipoContenido.texto,
                texto=texto,
            ),
        )
        self.programar(self.ciclo_mensaje(cuenta, perfil, wa_id, texto, eco=False))
        await asyncio.sleep(0)
        return wa_id


def _token(cuenta: Cuenta, perfil: PerfilDestinatario, t: int) -> str:
    """Opaque token bytes (base64), the same for the same issue so a re-issue is recognisable."""
    return base64.b64encode(f"{cuenta.numero}|{perfil.telefono}|{t}".encode()).decode()


# Baileys tc-token-utils: tokens live in 7-day buckets, 4 of them (~28-day rolling window).
TC_TOKEN_CUBETA_S = 604800
TC_TOKEN_CUBETAS = 4


def token_vencido(t: int | str | None, ahora: datetime) -> bool:
    """`isTcTokenExpired`, on the injected clock."""
    if t is None:
        return True
    try:
        marca = int(t)
    except (TypeError, ValueError):
        return True
    cubeta = int(ahora.timestamp()) // TC_TOKEN_CUBETA_S
    return marca < (cubeta - (TC_TOKEN_CUBETAS - 1)) * TC_TOKEN_CUBETA_S


def _es_baja(texto: str) -> bool:
    limpio = texto.strip().lower()
    return any(limpio.startswith(p) or limpio == p for p in _PALABRAS_BAJA) or "denme de baja" in limpio


_DETALLES = {
    463: "Cuenta restringida: no se pueden iniciar chats nuevos por ahora",
    479: "WhatsApp rechazó el mensaje",
    131: "Error al cifrar el mensaje",
}


def _detalle_error(codigo: int | None) -> str | None:
    if codigo is None:
        return None
    return _DETALLES.get(codigo, f"Error {codigo} de WhatsApp")


def credenciales_iniciales() -> dict[str, Any]:
    """An unregistered auth state, shaped like Baileys' (opaque to everything but this engine)."""
    return {
        "noiseKey": {"private": _b64(32), "public": _b64(32)},
        "signedIdentityKey": {"private": _b64(32), "public": _b64(32)},
        "advSecretKey": _b64(32),
        "registrationId": secrets.randbelow(16380) + 1,
        "registered": False,
    }


def qr_para(creds: dict[str, Any]) -> str:
    """'ref,noiseKey,identityKey,advSecret' like the string WhatsApp Web puts in its QR."""
    ref = "2@" + _b64(48)
    return ",".join((ref, creds["noiseKey"]["public"], creds["signedIdentityKey"]["public"], creds["advSecretKey"]))


ALFABETO_CODIGO = "123456789ABCDEFGHJKLMNPQRSTVWXYZ"


def codigo_emparejamiento() -> str:
    return "".join(secrets.choice(ALFABETO_CODIGO) for _ in range(8))


__all__ = [
    "Cuenta",
    "NotificacionToken",
    "RedVirtual",
    "Socket",
    "credenciales_iniciales",
    "id_mensaje_web",
    "qr_para",
    "token_vencido",
]
