"""The `cloud_api` engine: official WhatsApp Business numbers through the Graph API.

Sessions are keyed by the `agentes` row each official number is bound to (see config.py). Our own
pre-assigned message id travels as `biz_opaque_callback_data`, so every status webhook names the
row it belongs to even though Meta assigns its own `wamid`; rows keep our id.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import httpx
import structlog

from enlace.comun.telefonos import digitos_de, jid_de_usuario, telefono_de_jid
from enlace.motores.base import (
    ClaseDesconexion,
    ErrorMotor,
    EventoConectado,
    EventoDesconectado,
    EventoPreferencia,
    OpcionesInicio,
    ReceptorEventos,
    ResultadoEnvio,
    SesionNoDisponible,
)
from enlace.motores.cloud_api.config import NumeroOficial, leer_numeros
from enlace.motores.cloud_api.errores import TABLA, ClaseError, regla
from enlace.reloj import Reloj
from enlace.settings import Settings

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

log = structlog.get_logger(__name__)

VENTANA_SERVICIO = timedelta(hours=24)
ERROR_TOKEN = 190
ERROR_RITMO = 130429  # throughput exceeded: back off and retry
ERROR_PAR = 131056  # too many messages to the same recipient: delay that recipient
ERROR_VENTANA = 131047  # more than 24 h since the person's last message: template only
ERROR_NO_ENTREGABLE = 131026
REINTENTOS_RITMO = 5

MENSAJES_ERROR = {r.codigo: r.mensaje for r in TABLA}

UltimoEntrante = Callable[[int, str], Awaitable[datetime | None]]
# (agente_id, template name, language, code, reason): Meta refused a template for good (paused, disabled...).
PlantillaDetenida = Callable[[int, str, str, int, str], Awaitable[None]]


class ErrorCloud(ErrorMotor):
    def __init__(
        self,
        mensaje: str,
        *,
        codigo: int | None,
        reintentable: bool,
        reintentar_en_s: float | None = None,
        detiene_plantilla: bool = False,
    ):
        super().__init__(mensaje, codigo=codigo, reintentable=reintentable)
        self.reintentar_en_s = reintentar_en_s
        self.detiene_plantilla = detiene_plantilla


class MotorCloudApi:
    nombre = "cloud_api"

    def __init__(
        self,
        numeros: list[NumeroOficial],
        reloj: Reloj,
        *,
        ultimo_entrante: UltimoEntrante | None = None,
        plantilla_detenida: PlantillaDetenida | None = None,
        cliente: httpx.AsyncClient | None = None,
        cargar_lineas: Callable[[], Awaitable[list[NumeroOficial]]] | None = None,
    ) -> None:
        self._de_settings = list(numeros)
        self.numeros: dict[int, NumeroOficial] = {}
        self.por_phone_id: dict[str, NumeroOficial] = {}
        self.recargar(numeros)
        self._reloj = reloj
        self._ultimo_entrante = ultimo_entrante
        self._plantilla_detenida = plantilla_detenida
        self._cargar_lineas = cargar_lineas
        self._cliente = cliente
        self._propio_cliente = cliente is None
        self._receptor: ReceptorEventos | None = None
        self._activas: set[int] = set()

    # ---- lifecycle ---------------------------------------------------------------------------

    def recargar(self, numeros: list[NumeroOficial]) -> None:
        """Replace the lines this engine serves (an admin added, rotated or disabled one)."""
        self.numeros = {n.agente_id: n for n in numeros}
        self.por_phone_id = {n.phone_number_id: n for n in numeros}
        for agente_id in list(self._activas if hasattr(self, "_activas") else ()):
            if agente_id not in self.numeros:
                self._activas.discard(agente_id)

    async def recargar_desde_bd(self) -> None:
        """Lines stored in `lineas_oficiales` (settings lines not migrated yet are kept)."""
        if self._cargar_lineas is None:
            return
        guardadas = await self._cargar_lineas()
        conocidos = {n.phone_number_id for n in guardadas}
        self.recargar([*guardadas, *(n for n in self._de_settings if n.phone_number_id not in conocidos)])

    async def iniciar(self, receptor: ReceptorEventos) -> None:
        self._receptor = receptor
        if self._cliente is None:
            self._cliente = httpx.AsyncClient(timeout=httpx.Timeout(15.0))
        try:
            await self.recargar_desde_bd()
        except Exception:  # the database may not be migrated yet (first start): settings lines still work
            log.exception("cloud_api_lineas_no_cargadas")

    async def detener(self) -> None:
        self._activas.clear()
        if self._cliente is not None and self._propio_cliente:
            await self._cliente.aclose()
            self._cliente = None

    def _numero(self, agente_id: int) -> NumeroOficial:
        numero = self.numeros.get(agente_id)
        if numero is None:
            raise SesionNoDisponible(f"El agente {agente_id} no tiene un número oficial configurado.")
        return numero

    async def _emitir(self, evento: Any) -> None:
        if self._receptor is not None:
            await self._receptor(evento)

    async def iniciar_sesion(self, agente_id: int, opciones: OpcionesInicio) -> None:
        """No QR: the number is verified by reading it from the Graph API with its token."""
        numero = self._numero(agente_id)
        try:
            respuesta = await self._http().get(numero.url_numero(), headers=numero.cabeceras())
        except httpx.HTTPError as exc:
            await self._emitir(EventoDesconectado(agente_id, ClaseDesconexion.transitoria, detalle=str(exc)))
            return
        if respuesta.status_code != 200:
            error = _error_de(respuesta)
            clase = (
                ClaseDesconexion.sesion_cerrada
                if error[0] == ERROR_TOKEN or respuesta.status_code == 401
                else ClaseDesconexion.transitoria
            )
            await self._emitir(EventoDesconectado(agente_id, clase, codigo=error[0], detalle=_mensaje_error(*error)))
            return
        datos = respuesta.json()
        visible = "".join(c for c in str(datos.get("display_phone_number") or numero.numero) if c.isdigit())
        self._activas.add(agente_id)
        await self._emitir(
            EventoConectado(agente_id, numero=numero.numero or ("+" + visible), wa_id=f"{visible}@s.whatsapp.net")
        )

    async def pedir_codigo_emparejamiento(self, agente_id: int, telefono: str) -> str:
        raise ErrorMotor("Los números oficiales no se vinculan con código: se registran en Meta Business.")

    async def detener_sesion(self, agente_id: int) -> None:
        self._activas.discard(agente_id)

    async def cerrar_sesion(self, agente_id: int) -> None:
        self._activas.discard(agente_id)
        await self._emitir(EventoDesconectado(agente_id, ClaseDesconexion.sesion_cerrada, detalle="cerrada por Enlace"))

    def nuevo_id_mensaje(self, agente_id: int) -> str:
        return "enl." + uuid.uuid4().hex.upper()

    async def presencia(self, agente_id: int, destino_jid: str, estado: str) -> None:
        """The Cloud API shows no 'typing…' for business-initiated messages; nothing to do."""
        self._numero(agente_id)

    async def consultar_numero(self, agente_id: int, telefonos: list[str]) -> dict[str, str | None]:
        """The Cloud API has no lookup; the real wa_id comes back with the first send."""
        self._numero(agente_id)
        return {t: jid_de_usuario(digitos_de(t)) for t in telefonos}

    # ---- sending -----------------------------------------------------------------------------

    async def enviar_texto(self, agente_id: int, destino_jid: str, texto: str, wa_message_id: str) -> ResultadoEnvio:
        numero = self._numero(agente_id)
        if self._ultimo_entrante is not None:
            ultimo = await self._ultimo_entrante(agente_id, telefono_de_jid(destino_jid) or "")
            if ultimo is None or self._reloj.ahora() - ultimo > VENTANA_SERVICIO:
                raise ErrorCloud(MENSAJES_ERROR[ERROR_VENTANA], codigo=ERROR_VENTANA, reintentable=False)
        cuerpo = {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": digitos_de(destino_jid),
            "type": "text",
            "text": {"body": texto, "preview_url": False},
            "biz_opaque_callback_data": wa_message_id,
        }
        wamid = await self._publicar(numero, cuerpo)
        return ResultadoEnvio(wa_message_id=wa_message_id, momento=self._reloj.ahora(), wamid=wamid)

    async def enviar_plantilla(
        self,
        agente_id: int,
        destino_jid: str,
        *,
        nombre: str,
        idioma: str,
        parametros: list[str] | None = None,
        wa_message_id: str,
        componentes: list[dict[str, Any]] | None = None,
    ) -> ResultadoEnvio:
        """An approved template: the only kind of message allowed outside the 24-hour window.

        `componentes` are the Cloud API's own `template.components` (header, body, buttons), already
        filled for this recipient (see `plantillas/oficial.py`); `parametros` is the older positional body.
        """
        numero = self._numero(agente_id)
        plantilla: dict[str, Any] = {"name": nombre, "language": {"code": idioma}}
        if componentes:
            plantilla["components"] = componentes
        elif parametros:
            plantilla["components"] = [
                {"type": "body", "parameters": [{"type": "text", "text": p} for p in parametros]}
            ]
        cuerpo = {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": digitos_de(destino_jid),
            "type": "template",
            "template": plantilla,
            "biz_opaque_callback_data": wa_message_id,
        }
        try:
            wamid = await self._publicar(numero, cuerpo)
        except ErrorCloud as exc:
            if exc.detiene_plantilla and self._plantilla_detenida is not None:
                await self._plantilla_detenida(agente_id, nombre, idioma, exc.codigo or 0, str(exc))
            raise
        return ResultadoEnvio(wa_message_id=wa_message_id, momento=self._reloj.ahora(), wamid=wamid)

    async def _publicar(self, numero: NumeroOficial, cuerpo: dict[str, Any]) -> str:
        """POST a message; back off on throughput errors; map the rest to ErrorCloud. Returns the wamid."""
        espera = 1.0
        for intento in range(REINTENTOS_RITMO + 1):
            try:
                respuesta = await self._http().post(numero.url_mensajes(), json=cuerpo, headers=self._cabeceras(numero))
            except httpx.HTTPError as exc:
                raise ErrorCloud(f"No se pudo contactar la Cloud API: {exc}", codigo=None, reintentable=True) from exc
            if respuesta.status_code == 200:
                wamid = str(respuesta.json()["messages"][0]["id"])
                log.info("cloud_api_enviado", phone_number_id=numero.phone_number_id, wamid=wamid)
                return wamid
            codigo, detalle = _error_de(respuesta)
            if codigo == ERROR_RITMO and intento < REINTENTOS_RITMO:
                await self._reloj.dormir(espera)
                espera *= 2
                continue
            if respuesta.status_code == 401 and codigo is None:
                codigo = ERROR_TOKEN
            await self._aplicar_error(numero, codigo, detalle, cuerpo)
        raise ErrorCloud(MENSAJES_ERROR[ERROR_RITMO], codigo=ERROR_RITMO, reintentable=True)  # pragma: no cover

    async def _aplicar_error(
        self, numero: NumeroOficial, codigo: int | None, detalle: str, cuerpo: dict[str, Any]
    ) -> None:
        """Raise what the error table says for this code, after telling the core about the line or the person."""
        r = regla(codigo)
        texto = _mensaje_error(codigo, detalle)
        if r.clase == ClaseError.reintentar:
            raise ErrorCloud(texto, codigo=codigo, reintentable=True, reintentar_en_s=r.espera_s)
        if r.clase == ClaseError.suprimir:
            # The same path as a `user_preferences: stop` webhook: the number joins the suppression list.
            await self._emitir(
                EventoPreferencia(
                    agente_id=numero.agente_id,
                    telefono_jid=f"{cuerpo.get('to')}@s.whatsapp.net",
                    bsuid=None,
                    detener_marketing=True,
                    momento=self._reloj.ahora(),
                )
            )
            raise ErrorCloud(texto, codigo=codigo, reintentable=False)
        if r.clase == ClaseError.parar_linea:
            self._activas.discard(numero.agente_id)
            clase = ClaseDesconexion.sesion_cerrada if r.sesion_cerrada else ClaseDesconexion.restringida
            await self._emitir(EventoDesconectado(numero.agente_id, clase, codigo=codigo, detalle=texto))
            # Nothing reached the person: the row goes back to the queue and waits for the stop to be lifted.
            raise SesionNoDisponible(texto, codigo=codigo)
        raise ErrorCloud(texto, codigo=codigo, reintentable=False, detiene_plantilla=r.detiene_plantilla)

    def _http(self) -> httpx.AsyncClient:
        if self._cliente is None:
            raise SesionNoDisponible("El motor de la Cloud API no está iniciado.")
        return self._cliente

    @staticmethod
    def _cabeceras(numero: NumeroOficial) -> dict[str, str]:
        return numero.cabeceras()


def _error_de(respuesta: httpx.Response) -> tuple[int | None, str]:
    try:
        error = respuesta.json().get("error") or {}
    except ValueError:
        return None, respuesta.text[:200]
    detalle = (error.get("error_data") or {}).get("details") or error.get("message") or ""
    codigo = error.get("code")
    return (int(codigo) if codigo is not None else None), str(detalle)


def _mensaje_error(codigo: int | None, detalle: str) -> str:
    base = regla(codigo).mensaje
    return f"{base} (código {codigo}: {detalle})" if detalle else f"{base} (código {codigo})"


def crear_ultimo_entrante(fabrica: async_sessionmaker[AsyncSession]) -> UltimoEntrante:
    """When the person last wrote to this line: opens the 24-hour customer-service window."""
    from sqlalchemy import text

    # Engines sit below the domains (import-linter contract): the capture table is read, not imported.
    consulta = text("SELECT max(recibido_at) FROM mensajes_recibidos WHERE agente_id = :a AND numero_origen = :t")

    async def ultimo(agente_id: int, telefono: str) -> datetime | None:
        async with fabrica() as session:
            valor: datetime | None = await session.scalar(consulta, {"a": agente_id, "t": telefono})
            return valor

    return ultimo


def crear_motor_cloud_api(settings: Settings, reloj: Reloj, fabrica: Any = None, **enlaces: Any) -> MotorCloudApi:
    """`enlaces` are the database callbacks the composition root wires in (`plantilla_detenida`,
    `cargar_lineas`: see `oficial/enlaces_motor.py`); engines sit below the domains and never import them."""
    return MotorCloudApi(
        leer_numeros(settings),
        reloj,
        ultimo_entrante=crear_ultimo_entrante(fabrica) if fabrica is not None else None,
        **enlaces,
    )
