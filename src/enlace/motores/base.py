"""The engine interface and the normalized event stream every engine produces.

Business code (sesiones, envios, captura) speaks only these types. An engine turns its library's
events (Baileys, Cloud API webhooks, the simulator) into the dataclasses below and hands them to
the `ReceptorEventos` it was given.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol


class ClaseDesconexion(StrEnum):
    transitoria = "transitoria"  # network drop, 408/428/500/515: reconnect with backoff
    reemplazada = "reemplazada"  # 440: another socket took the session: stop, never loop
    sesion_cerrada = "sesion_cerrada"  # 401 logged out: credentials are void, link again
    restringida = "restringida"  # 463 / reach-out time lock: stop sending
    bloqueada = "bloqueada"  # 403 banned / forbidden
    desactualizada = "desactualizada"  # 405: WhatsApp refuses this client version; retrying cannot help
    fallida = "fallida"  # 411/500 again and again (the gateway retried a bounded number of times): stop


class EstadoEntrega(StrEnum):
    """Receipt kinds, in the order a message moves through them (fallido aside)."""

    enviado = "enviado"  # server ack
    entregado = "entregado"
    leido = "leido"
    reproducido = "reproducido"
    fallido = "fallido"


class NivelCapping(StrEnum):
    ninguno = "ninguno"
    primer_aviso = "primer_aviso"
    segundo_aviso = "segundo_aviso"
    limitado = "limitado"


class TipoContenido(StrEnum):
    texto = "texto"
    imagen = "imagen"
    video = "video"
    audio = "audio"
    documento = "documento"
    sticker = "sticker"
    ubicacion = "ubicacion"
    contacto = "contacto"
    reaccion = "reaccion"
    edicion = "edicion"
    borrado = "borrado"
    plantilla = "plantilla"
    otro = "otro"


@dataclass(frozen=True, slots=True)
class Medio:
    mime: str | None = None
    tamano: int | None = None
    nombre_archivo: str | None = None
    # Opaque reference the engine can resolve in `descargar_medio` (never the bytes).
    referencia: str | None = None


# ---- events -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EventoQR:
    agente_id: int
    qr: str
    expira_en_s: int


@dataclass(frozen=True, slots=True)
class EventoCodigoEmparejamiento:
    agente_id: int
    codigo: str
    # Seconds until the link attempt (and so the code) ends, when the engine knows it.
    expira_en_s: float | None = None


@dataclass(frozen=True, slots=True)
class EventoConectado:
    agente_id: int
    numero: str  # the account's own number, canonical +52XXXXXXXXXX when Mexican
    wa_id: str  # its WhatsApp id, e.g. 5215512345678@s.whatsapp.net
    lid: str | None = None


@dataclass(frozen=True, slots=True)
class EventoDesconectado:
    agente_id: int
    clase: ClaseDesconexion
    codigo: int | None = None
    detalle: str = ""


@dataclass(frozen=True, slots=True)
class EventoMensaje:
    """A message in a 1:1 chat: sent by the system, typed on the phone (de_mi=True) or received."""

    agente_id: int
    wa_message_id: str
    de_mi: bool
    chat_jid: str  # remote jid as delivered (may be a @lid)
    telefono_jid: str | None  # the phone jid when known (remoteJidAlt / mapping)
    momento: datetime
    tipo: TipoContenido
    texto: str | None = None
    medio: Medio | None = None
    # reaction / edit / delete point at another message
    referencia_id: str | None = None
    nombre_perfil: str | None = None
    historial: bool = False  # came from history sync
    es_grupo: bool = False
    bsuid: str | None = None  # Cloud API business-scoped user id


@dataclass(frozen=True, slots=True)
class EventoEstado:
    agente_id: int
    wa_message_id: str
    estado: EstadoEntrega
    momento: datetime
    codigo_error: int | None = None
    detalle_error: str | None = None
    chat_jid: str | None = None


@dataclass(frozen=True, slots=True)
class EventoMapeoIdentificador:
    agente_id: int
    lid: str
    telefono_jid: str


@dataclass(frozen=True, slots=True)
class EventoCapping:
    agente_id: int
    nivel: NivelCapping
    detalle: str = ""


@dataclass(frozen=True, slots=True)
class EventoRestriccion:
    """What the account may do, read when the socket opens (and when WhatsApp changes it).

    `timelock_hasta`: the reach-out timelock (Baileys `fetchAccountReachoutTimelock`) — while active the
    number may not start chats with people who never wrote to it. `cupo_chats_nuevos`: how many new
    chats it may still start (`fetchNewChatMessageCap`), None when WhatsApp sets no cap.
    """

    agente_id: int
    timelock_activo: bool
    timelock_hasta: datetime | None = None
    cupo_chats_nuevos: int | None = None
    detalle: str = ""


@dataclass(frozen=True, slots=True)
class EventoCredenciales:
    """The engine's auth state changed and must be stored (encrypted) before anything else.

    `confirmar`, when the engine gives one, must be awaited once the delta is committed: the engine
    holds the library's key write (Baileys `keys.set`) until then, so nothing WhatsApp sees is lost.
    """

    agente_id: int
    datos: dict[str, Any]
    confirmar: Callable[[], Awaitable[None]] | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class EventoPreferencia:
    """Cloud API `user_preferences`: the person stopped (or resumed) marketing messages."""

    agente_id: int
    telefono_jid: str | None
    bsuid: str | None
    detener_marketing: bool
    momento: datetime


Evento = (
    EventoQR
    | EventoCodigoEmparejamiento
    | EventoConectado
    | EventoDesconectado
    | EventoMensaje
    | EventoEstado
    | EventoMapeoIdentificador
    | EventoCapping
    | EventoRestriccion
    | EventoCredenciales
    | EventoPreferencia
)

ReceptorEventos = Callable[[Evento], Awaitable[None]]


# ---- errors --------------------------------------------------------------------------------


class ErrorMotor(Exception):
    """A send or command failed; `reintentable` says whether trying again later makes sense."""

    def __init__(self, mensaje: str, *, codigo: int | None = None, reintentable: bool = False) -> None:
        super().__init__(mensaje)
        self.codigo = codigo
        self.reintentable = reintentable


class SesionNoDisponible(ErrorMotor):
    """The agent's session is not connected on this engine."""


class TiempoAgotado(ErrorMotor):
    """The engine did not answer in time: a send may or may not have left (never resend it blindly)."""


# ---- the interface -------------------------------------------------------------------------


@dataclass(slots=True)
class ResultadoEnvio:
    wa_message_id: str
    momento: datetime
    # The id the engine's service assigned when it differs from ours (Cloud API `wamid`): kept on the row so
    # receipts, quoted replies and reactions that name only it still find the message.
    wamid: str | None = None


@dataclass(slots=True)
class OpcionesInicio:
    credenciales: dict[str, Any] | None = None  # stored auth state, None = link anew
    telefono_emparejamiento: str | None = None  # digits for a pairing code instead of QR
    extra: dict[str, Any] = field(default_factory=dict)


class Motor(Protocol):
    """One WhatsApp engine holding many agents' sessions."""

    nombre: str

    async def iniciar(self, receptor: ReceptorEventos) -> None:
        """Start the engine (spawn the gateway, open HTTP clients...). Events go to `receptor`."""
        ...

    async def detener(self) -> None:
        """Stop every session gracefully and release resources."""
        ...

    async def iniciar_sesion(self, agente_id: int, opciones: OpcionesInicio) -> None:
        """Start (or resume) an agent's session; QR / pairing / connected arrive as events."""
        ...

    async def pedir_codigo_emparejamiento(self, agente_id: int, telefono: str) -> str:
        """Ask for an 8-character pairing code for `telefono` (digits) instead of a QR."""
        ...

    async def detener_sesion(self, agente_id: int) -> None:
        """Close the socket, keep the credentials (resume later without a QR)."""
        ...

    async def cerrar_sesion(self, agente_id: int) -> None:
        """Log out: the linked device is removed and the credentials become void."""
        ...

    async def enviar_texto(self, agente_id: int, destino_jid: str, texto: str, wa_message_id: str) -> ResultadoEnvio:
        """Send `texto` with the caller-chosen id. Resolves when written, not when acked."""
        ...

    async def presencia(self, agente_id: int, destino_jid: str, estado: str) -> None:
        """'composing' or 'paused' in the chat with `destino_jid`."""
        ...

    async def consultar_numero(self, agente_id: int, telefonos: list[str]) -> dict[str, str | None]:
        """For each phone (digits, e.g. 525512345678) the jid WhatsApp registered it under, or None.

        This is `onWhatsApp`: the only place the server maps a Mexican `52`+10 number to the `521`+10 id
        its mobiles are registered as. A send to any other id is accepted and never delivered.
        """
        ...

    def nuevo_id_mensaje(self, agente_id: int) -> str:
        """A message id in this engine's format, to assign before sending."""
        ...
