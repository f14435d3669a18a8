"""API input guard: a JSON body with a NUL character (\\u0000) is refused with a 422 naming the field.

PostgreSQL `text` cannot store NUL; letting it through would fail deep inside a transaction (a 500, or
worse a partial effect). Refusing it at the door gives the client a message it can act on.
"""

from __future__ import annotations

import json
import re
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from enlace.errores import cuerpo_error

_NUL_ESCAPADO = re.compile(rb"\\u0000")
_METODOS_CON_CUERPO = {"POST", "PUT", "PATCH", "DELETE"}


def _ruta_con_nulo(valor: Any, ruta: str = "") -> str | None:
    """The first field (dotted path; list items as [i]) whose key or string value holds a NUL."""
    if isinstance(valor, str):
        return ruta or "cuerpo" if "\x00" in valor else None
    if isinstance(valor, dict):
        for clave, interno in valor.items():
            sub = f"{ruta}.{clave}" if ruta else str(clave)
            if "\x00" in str(clave):
                return sub
            encontrado = _ruta_con_nulo(interno, sub)
            if encontrado:
                return encontrado
    if isinstance(valor, list):
        for i, interno in enumerate(valor):
            encontrado = _ruta_con_nulo(interno, f"{ruta}[{i}]")
            if encontrado:
                return encontrado
    return None


def _es_json(scope: Scope) -> bool:
    for nombre, valor in scope.get("headers", []):
        if nombre == b"content-type":
            return b"json" in valor.lower()
    return False


class RechazarNulos:
    """ASGI middleware: reads JSON bodies once, refuses NULs, replays the body to the app."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") not in _METODOS_CON_CUERPO or not _es_json(scope):
            await self.app(scope, receive, send)
            return
        partes: list[bytes] = []
        mensajes: list[Message] = []
        while True:
            mensaje = await receive()
            mensajes.append(mensaje)
            if mensaje["type"] != "http.request":
                break
            partes.append(mensaje.get("body", b""))
            if not mensaje.get("more_body", False):
                break
        cuerpo = b"".join(partes)
        if b"\x00" in cuerpo or _NUL_ESCAPADO.search(cuerpo):
            try:
                ruta = _ruta_con_nulo(json.loads(cuerpo))
            except ValueError:
                ruta = "cuerpo" if b"\x00" in cuerpo else None  # other invalid JSON: the app's own 422
            if ruta is not None:
                await _responder_422(send, ruta)
                return

        pendientes = list(mensajes)

        async def repetir() -> Message:
            if pendientes:
                return pendientes.pop(0)
            return await receive()

        await self.app(scope, repetir, send)


async def _responder_422(send: Send, ruta: str) -> None:
    mensaje = (
        f"{ruta}: contiene un carácter nulo (\\u0000), que no se puede guardar. Quítalo y vuelve a enviar la solicitud."
    )
    cuerpo = json.dumps(cuerpo_error("caracter_nulo", mensaje), ensure_ascii=False).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 422,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(cuerpo)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": cuerpo})
