"""Request-body limits enforced before the body is read (ASGI middleware), answered with a Spanish 413."""

from __future__ import annotations

import json

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from enlace.errores import cuerpo_error


class CuerpoDemasiadoGrande(HTTPException):
    """Raised from `receive` when a body without Content-Length outgrows its limit mid-stream.

    An HTTPException so FastAPI's body parsing lets it through (it turns other errors into 400).
    """

    def __init__(self, mensaje: str) -> None:
        super().__init__(413, mensaje)
        self.mensaje = mensaje


def _mensaje(limite: int, subida: bool) -> str:
    megas = limite / 1024 / 1024
    cifra = f"{megas:.0f} MB" if megas >= 1 else f"{limite // 1024} KB"
    if subida:
        return f"El archivo supera el máximo de {cifra}. Divide la cartera en archivos más pequeños."
    return f"La petición supera el máximo de {cifra}."


class LimiteCuerpo:
    """Refuse bodies over the limit: file uploads (multipart) get `limite_subida`, anything else `limite_json`.

    A declared Content-Length over the limit is refused before a byte is read; a body sent without it
    (chunked) is counted as it arrives and cut off at the limit, so memory never holds more than that.
    """

    def __init__(self, app: ASGIApp, *, limite_json: int, limite_subida: int) -> None:
        self.app = app
        self.limite_json = limite_json
        self.limite_subida = limite_subida

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cabeceras = dict(scope.get("headers") or [])
        tipo = cabeceras.get(b"content-type", b"").split(b";")[0].strip().lower()
        subida = tipo == b"multipart/form-data"
        limite = self.limite_subida if subida else self.limite_json
        declarado = cabeceras.get(b"content-length")
        if declarado is not None:
            try:
                largo = int(declarado)
            except ValueError:
                largo = -1
            if largo < 0:
                await _responder(send, 400, "peticion_invalida", "La cabecera Content-Length no es válida.")
                return
            if largo > limite:
                await _responder(send, 413, "demasiado_grande", _mensaje(limite, subida))
                return

        recibidos = 0
        respuesta_iniciada = False

        async def recibir() -> Message:
            nonlocal recibidos
            mensaje = await receive()
            if mensaje["type"] == "http.request":
                recibidos += len(mensaje.get("body", b""))
                if recibidos > limite:
                    raise CuerpoDemasiadoGrande(_mensaje(limite, subida))
            return mensaje

        async def enviar(mensaje: Message) -> None:
            nonlocal respuesta_iniciada
            if mensaje["type"] == "http.response.start":
                respuesta_iniciada = True
            await send(mensaje)

        try:
            await self.app(scope, recibir, enviar)
        except CuerpoDemasiadoGrande as exc:
            if not respuesta_iniciada:
                await _responder(send, 413, "demasiado_grande", exc.mensaje)


async def _responder(send: Send, status: int, codigo: str, mensaje: str) -> None:
    cuerpo = json.dumps(cuerpo_error(codigo, mensaje), ensure_ascii=False).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(cuerpo)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": cuerpo})
