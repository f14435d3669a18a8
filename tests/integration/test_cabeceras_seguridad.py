"""Safe defaults over HTTP: security headers everywhere, HSTS only under TLS, /docs can be turned off."""

from __future__ import annotations

from typing import Any

import httpx

from enlace.api import create_app
from tests.conftest import ajustes_prueba


async def test_cabeceras_de_seguridad_en_api_y_panel(cliente: Any) -> None:
    for ruta in ("/healthz", "/api/auth/yo", "/"):
        r = await cliente.get(ruta)
        csp = r.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp and "script-src 'self';" in csp
        assert "connect-src 'self' ws://prueba" in csp
        assert r.headers["x-frame-options"] == "DENY"
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["referrer-policy"] == "same-origin"
        assert "strict-transport-security" not in r.headers  # plain HTTP: HSTS would be ignored or wrong


async def test_hsts_bajo_tls_y_host_raro_no_entra_en_la_politica(app: Any) -> None:
    transporte = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transporte, base_url="https://enlace.ejemplo.mx") as c:
        r = await c.get("/healthz")
        assert r.headers["strict-transport-security"].startswith("max-age=31536000")
        assert "wss://enlace.ejemplo.mx" in r.headers["content-security-policy"]
        r = await c.get("/healthz", headers={"host": "x; script-src *"})
        assert "script-src *" not in r.headers["content-security-policy"]


async def test_docs_se_pueden_apagar(nucleo: Any, url_bd: str, cliente: Any) -> None:
    assert (await cliente.get("/openapi.json")).status_code == 200
    nucleo.settings = ajustes_prueba(url_bd, docs=False)
    sin_docs = create_app(nucleo, iniciar_nucleo=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=sin_docs), base_url="http://prueba") as c:
        r = await c.get("/openapi.json")  # no schema: the panel's fallback page (or 404 without a built panel)
        assert "application/json" not in r.headers.get("content-type", "") and '"paths"' not in r.text
        r = await c.get("/docs")
        assert "swagger" not in r.text.lower()
