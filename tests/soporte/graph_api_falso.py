"""A local stand-in of the WhatsApp Cloud API (Graph API), built from the documented payloads.

It serves the two endpoints the engine uses — read a phone number, send a message — validates
their request shape like the real API, answers with the documented response or error bodies, and
builds webhook payloads signed with the app secret, exactly as Meta would post them.
"""

from __future__ import annotations

import asyncio
import base64
import json
import socket
import time
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from enlace.motores.cloud_api.webhook import firmar


def _error(codigo: int, mensaje: str, status: int = 400, detalle: str = "") -> JSONResponse:
    cuerpo = {"error": {"message": mensaje, "type": "OAuthException", "code": codigo, "fbtrace_id": "AbCdEf"}}
    if detalle:
        cuerpo["error"]["error_data"] = {"messaging_product": "whatsapp", "details": detalle}
    return JSONResponse(cuerpo, status_code=status)


@dataclass
class Envio:
    phone_number_id: str
    cuerpo: dict[str, Any]
    wamid: str
    momento: float


@dataclass
class GraphFalso:
    phone_number_id: str = "110000000000001"
    waba_id: str = "220000000000002"
    token: str = "EAAtokendepruebas"
    app_secret: str = "secreto-de-la-app"
    numero_visible: str = "+52 55 1000 0000"
    enviados: list[Envio] = field(default_factory=list)
    peticiones: int = 0
    # Error codes to answer with, in order, before succeeding again.
    errores_pendientes: list[int] = field(default_factory=list)
    token_expirado: bool = False

    def __post_init__(self) -> None:
        self._servidor: uvicorn.Server | None = None
        self._tarea: asyncio.Task[None] | None = None
        self.puerto = 0
        self._contador = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.puerto}"

    def configuracion(self, agente_id: int, **extra: Any) -> dict[str, Any]:
        """The engine's settings entry for this number (ENLACE_CLOUD_NUMEROS)."""
        datos = {
            "phone_number_id": self.phone_number_id,
            "waba_id": self.waba_id,
            "token": self.token,
            "app_secret": self.app_secret,
            "verify_token": "verificame",
            "agente_id": agente_id,
            "numero": "+525510000000",
            "version": "v21.0",
            "base_url": self.url,
        }
        datos.update(extra)
        return datos

    # ---- server --------------------------------------------------------------------------------

    async def iniciar(self) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.puerto = s.getsockname()[1]
        app = Starlette(
            routes=[
                Route("/{version}/{pnid}/messages", self._mensajes, methods=["POST"]),
                Route("/{version}/{pnid}", self._numero, methods=["GET"]),
            ]
        )
        config = uvicorn.Config(app, host="127.0.0.1", port=self.puerto, log_level="warning", lifespan="off")
        self._servidor = uvicorn.Server(config)
        self._tarea = asyncio.create_task(self._servidor.serve())
        while not self._servidor.started:  # noqa: ASYNC110 - uvicorn only exposes a flag
            await asyncio.sleep(0.01)

    async def detener(self) -> None:
        if self._servidor is not None:
            self._servidor.should_exit = True
            if self._tarea is not None:
                await self._tarea

    def _autorizado(self, request: Request) -> JSONResponse | None:
        if request.headers.get("authorization") != f"Bearer {self.token}" or self.token_expirado:
            return _error(190, "Error validating access token: Session has expired.", status=401)
        if request.path_params["pnid"] != self.phone_number_id:
            return _error(100, "Unsupported post request. Object does not exist.", status=400)
        return None

    async def _numero(self, request: Request) -> JSONResponse:
        self.peticiones += 1
        if (fallo := self._autorizado(request)) is not None:
            return fallo
        return JSONResponse(
            {
                "verified_name": "Créditos Enlace",
                "display_phone_number": self.numero_visible,
                "quality_rating": "GREEN",
                "id": self.phone_number_id,
            }
        )

    async def _mensajes(self, request: Request) -> JSONResponse:
        self.peticiones += 1
        if (fallo := self._autorizado(request)) is not None:
            return fallo
        try:
            cuerpo = await request.json()
        except json.JSONDecodeError:
            return _error(100, "Invalid JSON")
        problema = _validar_envio(cuerpo)
        if problema:
            return _error(100, "(#100) Invalid parameter", detalle=problema)
        if self.errores_pendientes:
            codigo = self.errores_pendientes.pop(0)
            return _error(
                codigo,
                {
                    130429: "Rate limit hit",
                    131056: "Pair rate limit hit",
                    131047: "Re-engagement message",
                    131026: "Message undeliverable",
                }.get(codigo, "Error"),
                detalle="simulado",
            )
        self._contador += 1
        wamid = "wamid." + base64.b64encode(f"{self.phone_number_id}-{self._contador}".encode()).decode()
        self.enviados.append(Envio(self.phone_number_id, cuerpo, wamid, time.time()))
        return JSONResponse(
            {
                "messaging_product": "whatsapp",
                "contacts": [{"input": cuerpo["to"], "wa_id": cuerpo["to"]}],
                "messages": [{"id": wamid, "message_status": "accepted"}],
            }
        )

    # ---- webhooks ------------------------------------------------------------------------------

    def _envoltura(self, campo: str, valor: dict[str, Any]) -> dict[str, Any]:
        valor = {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "525510000000", "phone_number_id": self.phone_number_id},
            **valor,
        }
        return {
            "object": "whatsapp_business_account",
            "entry": [{"id": self.waba_id, "changes": [{"value": valor, "field": campo}]}],
        }

    def estado(
        self, envio: Envio, estado: str, *, codigo_error: int | None = None, ts: int | None = None
    ) -> dict[str, Any]:
        item: dict[str, Any] = {
            "id": envio.wamid,
            "status": estado,
            "timestamp": str(ts or int(time.time())),
            "recipient_id": envio.cuerpo["to"],
        }
        if envio.cuerpo.get("biz_opaque_callback_data"):
            item["biz_opaque_callback_data"] = envio.cuerpo["biz_opaque_callback_data"]
        if codigo_error is not None:
            item["errors"] = [
                {
                    "code": codigo_error,
                    "title": "Message undeliverable.",
                    "message": "Message undeliverable.",
                    "error_data": {"details": "Message Undeliverable."},
                }
            ]
        return self._envoltura("messages", {"statuses": [item]})

    def mensaje_entrante(
        self, wa_id: str, texto: str, *, nombre: str = "Cliente", wamid: str | None = None, ts: int | None = None
    ) -> dict[str, Any]:
        self._contador += 1
        return self._envoltura(
            "messages",
            {
                "contacts": [{"profile": {"name": nombre}, "wa_id": wa_id}],
                "messages": [
                    {
                        "from": wa_id,
                        "id": wamid or f"wamid.IN{self._contador:06d}",
                        "timestamp": str(ts or int(time.time())),
                        "type": "text",
                        "text": {"body": texto},
                    }
                ],
            },
        )

    def eco(self, wa_id: str, texto: str, *, ts: int | None = None) -> dict[str, Any]:
        self._contador += 1
        return self._envoltura(
            "smb_message_echoes",
            {
                "message_echoes": [
                    {
                        "from": "525510000000",
                        "to": wa_id,
                        "id": f"wamid.ECO{self._contador:06d}",
                        "timestamp": str(ts or int(time.time())),
                        "type": "text",
                        "text": {"body": texto},
                    }
                ],
            },
        )

    def preferencia(self, wa_id: str, valor: str = "stop", *, ts: int | None = None) -> dict[str, Any]:
        return self._envoltura(
            "user_preferences",
            {
                "contacts": [{"wa_id": wa_id, "profile": {"name": "Cliente"}}],
                "user_preferences": [
                    {
                        "wa_id": wa_id,
                        "detail": "User requested to stop marketing messages",
                        "category": "marketing_messages",
                        "value": valor,
                        "timestamp": ts or int(time.time()),
                    }
                ],
            },
        )

    def firmado(self, payload: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
        """The raw body and headers Meta would POST."""
        cuerpo = json.dumps(payload, separators=(",", ":")).encode()
        return cuerpo, {"content-type": "application/json", "x-hub-signature-256": firmar(self.app_secret, cuerpo)}


def _validar_envio(cuerpo: Any) -> str:
    if not isinstance(cuerpo, dict) or cuerpo.get("messaging_product") != "whatsapp":
        return "messaging_product must be whatsapp"
    if not str(cuerpo.get("to", "")).isdigit():
        return "to must be a phone number in international format (digits)"
    tipo = cuerpo.get("type")
    if tipo == "text":
        if not isinstance(cuerpo.get("text"), dict) or not cuerpo["text"].get("body"):
            return "text.body is required"
    elif tipo == "template":
        plantilla = cuerpo.get("template") or {}
        if not plantilla.get("name") or not (plantilla.get("language") or {}).get("code"):
            return "template.name and template.language.code are required"
        for componente in plantilla.get("components") or []:
            for parametro in componente.get("parameters") or []:
                if parametro.get("type") == "text" and not parametro.get("text"):
                    return "template parameter text is empty"
    else:
        return f"unsupported message type {tipo}"
    return ""
