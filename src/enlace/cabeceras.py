"""Security headers on every HTTP response: CSP, framing, referrer, sniffing, and HSTS under TLS."""

from __future__ import annotations

import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# The panel is a built bundle served from here: no inline or foreign scripts. Mantine writes inline
# styles, QR codes are data: images. Realtime is a same-origin WebSocket (named explicitly, since older
# browsers do not let 'self' match ws:).
_CSP_PANEL = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
    "font-src 'self' data:; connect-src 'self' {ws}; worker-src 'self' blob:; object-src 'none'; "
    "base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
# FastAPI's /docs and /redoc pages load their scripts from a CDN and start them inline.
_CSP_DOCS = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net https://fonts.googleapis.com; "
    "font-src 'self' https://fonts.gstatic.com; img-src 'self' data: https://fastapi.tiangolo.com "
    "https://cdn.redoc.ly; worker-src 'self' blob:; object-src 'none'; frame-ancestors 'none'"
)
RUTAS_DOCS = ("/docs", "/redoc")
HSTS = b"max-age=31536000; includeSubDomains"
# Only a plain host[:port] is echoed into the policy (a crafted Host cannot add directives).
_HOST = re.compile(r"[A-Za-z0-9.\-]{1,253}(:[0-9]{1,5})?|\[[0-9A-Fa-f:]{2,39}\](:[0-9]{1,5})?")


class CabecerasSeguridad:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        ruta: str = scope.get("path", "")
        if ruta.startswith(RUTAS_DOCS):
            csp = _CSP_DOCS
        else:
            host = dict(scope.get("headers") or []).get(b"host", b"").decode("latin-1")
            seguro = scope.get("scheme") == "https"
            ws = f"{'wss' if seguro else 'ws'}://{host}" if _HOST.fullmatch(host) else ""
            csp = _CSP_PANEL.format(ws=ws)
        fijas = [
            (b"content-security-policy", csp.encode("latin-1", "ignore")),
            (b"x-frame-options", b"DENY"),
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"same-origin"),
            (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
        ]
        if scope.get("scheme") == "https":
            fijas.append((b"strict-transport-security", HSTS))

        async def enviar(mensaje: Message) -> None:
            if mensaje["type"] == "http.response.start":
                cabeceras = list(mensaje.get("headers") or [])
                presentes = {k.lower() for k, _ in cabeceras}
                cabeceras.extend((k, v) for k, v in fijas if k not in presentes)
                mensaje["headers"] = cabeceras
            await send(mensaje)

        await self.app(scope, receive, enviar)
