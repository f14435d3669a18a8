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

from enlace.motores.cloud_api.errores import POR_CODIGO
from enlace.motores.cloud_api.webhook import firmar

# HTTP status Meta answers with, by error code (most request errors are 400).
ESTADO_HTTP = {0: 401, 190: 401, 4: 429, 80007: 429, 130429: 429, 1: 500, 2: 503, 131000: 500, 131016: 503, 133004: 503}


def _error(codigo: int, mensaje: str, status: int = 400, detalle: str = "") -> JSONResponse:
    cuerpo: dict[str, Any] = {
        "error": {"message": f"(#{codigo}) {mensaje}", "type": "OAuthException", "code": codigo, "fbtrace_id": "AbCdEf"}
    }
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
    # What the number's GET answers (quality rating and messaging-limit tier, as Meta reports them).
    calidad: str = "GREEN"
    nivel: str = "TIER_1K"
    # Approved templates: (name, language) → {"status", "category", "cuerpo": n positional params or
    # [names], "encabezado": None|"text"|"image"|"document", "botones": ["quick_reply", "url", ...]}.
    # Meta refuses a template it does not have (132001), one paused (132015) or disabled (132016), and
    # a parameter count that does not match (132000).
    plantillas: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    # "meta" (Graph API paths, Bearer token) or "360dialog" (`/messages`, D360-API-KEY header).
    proveedor: str = "meta"

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
            "proveedor": self.proveedor,
        }
        datos.update(extra)
        return datos

    def aprobar(
        self,
        nombre: str,
        idioma: str = "es_MX",
        *,
        cuerpo: int | list[str] = 0,
        encabezado: str | None = None,
        botones: list[str] | None = None,
        categoria: str = "MARKETING",
        estado: str = "APPROVED",
    ) -> None:
        """Register a template as Meta's template manager would hold it."""
        self.plantillas[(nombre, idioma)] = {
            "status": estado,
            "category": categoria,
            "cuerpo": cuerpo,
            "encabezado": encabezado,
            "botones": botones or [],
            "id": str(900000 + len(self.plantillas)),
        }

    # ---- server --------------------------------------------------------------------------------

    async def iniciar(self) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.puerto = s.getsockname()[1]
        app = Starlette(
            routes=[
                Route("/messages", self._mensajes_360, methods=["POST"]),
                Route("/v1/configs/webhook", self._config_360, methods=["GET"]),
                Route("/{version}/{pnid}/messages", self._mensajes, methods=["POST"]),
                Route("/{version}/{waba}/message_templates", self._plantillas, methods=["GET"]),
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
        if self.proveedor != "meta":
            # A BSP's own host: Meta's paths do not exist there.
            return JSONResponse({"detail": "Not Found"}, status_code=404)
        if request.headers.get("authorization") != f"Bearer {self.token}" or self.token_expirado:
            return _error(190, "Error validating access token: Session has expired.", status=401)
        if request.path_params.get("pnid", self.phone_number_id) != self.phone_number_id:
            return _error(100, "Unsupported post request. Object does not exist.", status=400)
        if request.path_params.get("waba", self.waba_id) != self.waba_id:
            return _error(100, "Unsupported get request. Object does not exist.", status=400)
        return None

    def _autorizado_360(self, request: Request) -> JSONResponse | None:
        if self.proveedor != "360dialog":
            return JSONResponse({"detail": "Not Found"}, status_code=404)
        if request.headers.get("d360-api-key") != self.token or self.token_expirado:
            return JSONResponse(
                {"meta": {"success": False, "http_code": 401, "developer_message": "Invalid api_key"}}, status_code=401
            )
        return None

    async def _config_360(self, request: Request) -> JSONResponse:
        self.peticiones += 1
        if (fallo := self._autorizado_360(request)) is not None:
            return fallo
        return JSONResponse({"url": "https://enlace.example/api/webhooks/whatsapp/bsp/..."})

    async def _mensajes_360(self, request: Request) -> JSONResponse:
        self.peticiones += 1
        if (fallo := self._autorizado_360(request)) is not None:
            return fallo
        return await self._aceptar_envio(request)

    async def _plantillas(self, request: Request) -> JSONResponse:
        self.peticiones += 1
        if (fallo := self._autorizado(request)) is not None:
            return fallo
        datos = [
            {"name": n, "language": i, "status": p["status"], "category": p["category"], "id": p["id"]}
            | ({"rejected_reason": p["rejected_reason"]} if p.get("rejected_reason") else {})
            for (n, i), p in self.plantillas.items()
        ]
        return JSONResponse({"data": datos, "paging": {"cursors": {"before": "A", "after": "B"}}})

    async def _numero(self, request: Request) -> JSONResponse:
        self.peticiones += 1
        if (fallo := self._autorizado(request)) is not None:
            return fallo
        return JSONResponse(
            {
                "verified_name": "Créditos Enlace",
                "display_phone_number": self.numero_visible,
                "quality_rating": self.calidad,
                "messaging_limit_tier": self.nivel,
                "id": self.phone_number_id,
            }
        )

    async def _mensajes(self, request: Request) -> JSONResponse:
        self.peticiones += 1
        if (fallo := self._autorizado(request)) is not None:
            return fallo
        return await self._aceptar_envio(request)

    async def _aceptar_envio(self, request: Request) -> JSONResponse:
        try:
            cuerpo = await request.json()
        except json.JSONDecodeError:
            return _error(100, "Invalid JSON")
        problema = _validar_envio(cuerpo)
        if problema:
            return _error(100, "Invalid parameter", detalle=problema)
        if cuerpo.get("type") == "template":
            codigo_plantilla, detalle = self._revisar_plantilla(cuerpo["template"])
            if codigo_plantilla:
                return _error(codigo_plantilla, POR_CODIGO[codigo_plantilla].titulo, detalle=detalle)
        if self.errores_pendientes:
            codigo = self.errores_pendientes.pop(0)
            regla = POR_CODIGO.get(codigo)
            return _error(
                codigo,
                regla.titulo if regla else "Error",
                status=ESTADO_HTTP.get(codigo, 400),
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

    def _revisar_plantilla(self, plantilla: dict[str, Any]) -> tuple[int, str]:
        """Meta checks the template against the approved one: existence, status, each component's parameters."""
        registro = self.plantillas.get((plantilla["name"], plantilla["language"]["code"]))
        if registro is None:
            return 132001, f"template name ({plantilla['name']}) does not exist in {plantilla['language']['code']}"
        if registro["status"] == "PAUSED":
            return 132015, "Template is paused due to low quality"
        if registro["status"] in ("DISABLED", "REJECTED", "PENDING", "PENDING_DELETION"):
            return (132016 if registro["status"] == "DISABLED" else 132001), f"Template is {registro['status']}"
        componentes = {
            (c.get("type"), c.get("index")): c for c in plantilla.get("components") or [] if isinstance(c, dict)
        }
        cuerpo = (componentes.get(("body", None)) or {}).get("parameters") or []
        esperado = registro["cuerpo"]
        if isinstance(esperado, list):
            nombres = [p.get("parameter_name") for p in cuerpo]
            if sorted(n for n in nombres if n) != sorted(esperado) or len(nombres) != len(esperado):
                return 132000, f"body: expected named parameters {esperado}, got {nombres}"
        elif len(cuerpo) != esperado:
            return (
                132000,
                f"body: number of localizable_params ({len(cuerpo)}) does not match the expected ({esperado})",
            )
        encabezado = (componentes.get(("header", None)) or {}).get("parameters") or []
        if registro["encabezado"] is None and encabezado:
            return 132000, "header: the template has no header parameters"
        if registro["encabezado"] is not None:
            if len(encabezado) != 1 or encabezado[0].get("type") != registro["encabezado"]:
                return 132012, f"header: expected one {registro['encabezado']} parameter"
            medio = encabezado[0].get(registro["encabezado"])
            if registro["encabezado"] in ("image", "document") and not (
                isinstance(medio, dict) and (str(medio.get("link", "")).startswith("https://") or medio.get("id"))
            ):
                return 132012, "header: media needs an https link or an uploaded media id"
            if registro["encabezado"] == "text" and not encabezado[0].get("text"):
                return 132012, "header: text parameter is empty"
        for (tipo, indice), c in componentes.items():
            if tipo != "button":
                continue
            i = int(indice) if str(indice).isdigit() else -1
            if not 0 <= i < len(registro["botones"]) or registro["botones"][i] != c.get("sub_type"):
                return 132000, f"button {indice}: the template has no {c.get('sub_type')} button there"
            parametros = c.get("parameters") or []
            clave = "payload" if c.get("sub_type") == "quick_reply" else "text"
            if len(parametros) != 1 or not parametros[0].get(clave):
                return 132000, f"button {indice}: one {clave} parameter is required"
        return 0, ""

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
        self,
        envio: Envio,
        estado: str,
        *,
        codigo_error: int | None = None,
        ts: int | None = None,
        con_propio: bool = True,
        categoria: str | None = None,
        facturable: bool = True,
    ) -> dict[str, Any]:
        """A status webhook. `con_propio=False` drops biz_opaque_callback_data (e.g. messages sent before it
        was set, or by a BSP that does not forward it); `categoria` adds the `pricing` object."""
        item: dict[str, Any] = {
            "id": envio.wamid,
            "status": estado,
            "timestamp": str(ts or int(time.time())),
            "recipient_id": envio.cuerpo["to"],
        }
        if con_propio and envio.cuerpo.get("biz_opaque_callback_data"):
            item["biz_opaque_callback_data"] = envio.cuerpo["biz_opaque_callback_data"]
        if categoria is not None and estado in ("sent", "delivered", "read"):
            item["pricing"] = {
                "billable": facturable,
                "pricing_model": "PMP",
                "category": categoria,
                "type": "regular" if facturable else "free_customer_service",
            }
        if codigo_error is not None:
            regla = POR_CODIGO.get(codigo_error)
            titulo = regla.titulo if regla else "Error"
            item["errors"] = [
                {
                    "code": codigo_error,
                    "title": titulo,
                    "message": titulo,
                    "error_data": {"details": titulo},
                    "href": "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/",
                }
            ]
        return self._envoltura("messages", {"statuses": [item]})

    def _cuenta(self, campo: str, valor: dict[str, Any], ts: int | None = None) -> dict[str, Any]:
        """WABA-level webhooks carry no `metadata.phone_number_id`: entry.id is the WABA."""
        return {
            "object": "whatsapp_business_account",
            "entry": [
                {"id": self.waba_id, "time": ts or int(time.time()), "changes": [{"value": valor, "field": campo}]}
            ],
        }

    def calidad_numero(self, evento: str, limite: str | None = None) -> dict[str, Any]:
        """phone_number_quality_update: FLAGGED / UNFLAGGED / DOWNGRADE / UPGRADE with the current tier."""
        valor: dict[str, Any] = {"display_phone_number": "525510000000", "event": evento}
        if limite is not None:
            valor["current_limit"] = limite
        return self._cuenta("phone_number_quality_update", valor)

    def cuenta(self, evento: str, **extra: Any) -> dict[str, Any]:
        """account_update (ACCOUNT_RESTRICTION with restriction_info, DISABLED_UPDATE with ban_info...)."""
        return self._cuenta("account_update", {"phone_number": "525510000000", "event": evento, **extra})

    def estado_plantilla(
        self, nombre: str, evento: str, *, idioma: str = "es_MX", motivo: str = "NONE"
    ) -> dict[str, Any]:
        registro = self.plantillas.get((nombre, idioma))
        if registro is not None:
            registro["status"] = evento
        return self._cuenta(
            "message_template_status_update",
            {
                "event": evento,
                "message_template_id": int((registro or {}).get("id", 1)),
                "message_template_name": nombre,
                "message_template_language": idioma,
                "reason": motivo,
            },
        )

    def boton(self, wa_id: str, envio: Envio, texto: str, payload: str) -> dict[str, Any]:
        """The person tapped a template's quick-reply button."""
        self._contador += 1
        return self._envoltura(
            "messages",
            {
                "contacts": [{"profile": {"name": "Cliente"}, "wa_id": wa_id}],
                "messages": [
                    {
                        "context": {"from": "525510000000", "id": envio.wamid},
                        "from": wa_id,
                        "id": f"wamid.BTN{self._contador:06d}",
                        "timestamp": str(int(time.time())),
                        "type": "button",
                        "button": {"text": texto, "payload": payload},
                    }
                ],
            },
        )

    def reaccion(self, wa_id: str, envio: Envio, emoji: str) -> dict[str, Any]:
        self._contador += 1
        return self._envoltura(
            "messages",
            {
                "contacts": [{"profile": {"name": "Cliente"}, "wa_id": wa_id}],
                "messages": [
                    {
                        "from": wa_id,
                        "id": f"wamid.REA{self._contador:06d}",
                        "timestamp": str(int(time.time())),
                        "type": "reaction",
                        "reaction": {"message_id": envio.wamid, "emoji": emoji},
                    }
                ],
            },
        )

    def mensaje_entrante(
        self,
        wa_id: str,
        texto: str,
        *,
        nombre: str = "Cliente",
        wamid: str | None = None,
        ts: int | None = None,
        responde_a: Envio | None = None,
    ) -> dict[str, Any]:
        self._contador += 1
        mensaje: dict[str, Any] = {
            "from": wa_id,
            "id": wamid or f"wamid.IN{self._contador:06d}",
            "timestamp": str(ts or int(time.time())),
            "type": "text",
            "text": {"body": texto},
        }
        if responde_a is not None:
            # A quoted reply names the business message by Meta's wamid only.
            mensaje["context"] = {"from": "525510000000", "id": responde_a.wamid}
        return self._envoltura(
            "messages", {"contacts": [{"profile": {"name": nombre}, "wa_id": wa_id}], "messages": [mensaje]}
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
            if componente.get("type") not in ("header", "body", "button"):
                return f"unknown component type {componente.get('type')}"
            for parametro in componente.get("parameters") or []:
                if parametro.get("type") == "text" and not str(parametro.get("text", "")).strip():
                    return "template parameter text is empty"
    else:
        return f"unsupported message type {tipo}"
    return ""
