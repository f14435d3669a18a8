"""API token scopes deny by default: each route declares its area; a token reaches only what it names."""

from __future__ import annotations

from typing import Any

from enlace.comun.alcances_token import ALCANCES_VALIDOS, area_de_ruta, rutas_de

# Routes a token may never use (they act on a browser session or are public).
SIN_AREA = {
    ("POST", "/api/auth/login"),
    ("POST", "/api/auth/logout"),
    ("GET", "/api/auth/yo"),
    ("POST", "/api/auth/password"),
    ("GET", "/api/reloj"),  # the panel's clock sync: a session helper
    ("GET", "/healthz"),
    ("GET", "/readyz"),
}


async def _token(admin: Any, alcances: list[str], usuario_id: int | None = None) -> dict[str, str]:
    r = await admin.post("/api/tokens", json={"nombre": "crm", "alcances": alcances, "usuario_id": usuario_id})
    assert r.status_code == 201, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


def test_cada_ruta_declara_su_area(app: Any) -> None:
    sin_area = set()
    for ruta in rutas_de(app):
        if not hasattr(ruta, "methods") or not getattr(ruta, "include_in_schema", False):
            continue
        if area_de_ruta(ruta) is None:
            sin_area |= {(m, ruta.path) for m in ruta.methods if m != "HEAD"}
    # Meta's webhook is public (signed body) and sits in the `oficial` router: it has an area but no actor.
    assert sin_area == SIN_AREA
    esquema = app.openapi()
    assert esquema["paths"]["/api/carteras"]["get"]["x-alcance"] == ["carteras:leer"]
    assert esquema["paths"]["/api/usuarios"]["post"]["x-alcance"] == ["usuarios:escribir"]


async def test_token_de_reportes_no_crea_usuarios_ni_tokens(cliente_como: Any, cliente: Any) -> None:
    admin = await cliente_como("admin")
    cabecera = await _token(admin, ["reportes:leer"])
    assert (await cliente.get("/api/reportes/tablero/hoy", headers=cabecera)).status_code == 200
    r = await cliente.post(
        "/api/usuarios",
        json={"usuario": "intruso", "nombre": "I", "rol": "admin", "password": "clave-de-intruso-larga"},
        headers=cabecera,
    )
    assert r.status_code == 403 and r.json()["error"]["codigo"] == "alcance_insuficiente"
    r = await cliente.post("/api/tokens", json={"nombre": "x", "alcances": ["*"]}, headers=cabecera)
    assert r.status_code == 403
    # Reading is not writing, and the session-only routes are closed to tokens.
    assert (await cliente.post("/api/supervision/avisos", json={}, headers=cabecera)).status_code == 403
    assert (await cliente.get("/api/auth/yo", headers=cabecera)).status_code == 403


async def test_token_de_lectura_de_agente_no_responde_ni_desconecta(
    cliente_como: Any, cliente: Any, crear_usuario: Any
) -> None:
    admin = await cliente_como("admin")
    agente = await crear_usuario("agente")
    cabecera = await _token(admin, ["conversaciones:leer", "sesiones:leer"], usuario_id=agente["id"])
    assert (await cliente.get("/api/conversaciones", headers=cabecera)).status_code == 200
    r = await cliente.post("/api/conversaciones/1/responder", json={"texto": "Hola"}, headers=cabecera)
    assert r.status_code == 403
    r = await cliente.post(f"/api/sesion/desconectar/{agente['agente_id']}", headers=cabecera)
    assert r.status_code == 403


async def test_token_nunca_da_mas_que_su_usuario(cliente_como: Any, cliente: Any, crear_usuario: Any) -> None:
    admin = await cliente_como("admin")
    agente = await crear_usuario("agente")
    cabecera = await _token(admin, ["*"], usuario_id=agente["id"])
    assert (await cliente.get("/api/usuarios", headers=cabecera)).status_code == 403
    assert (
        await cliente.post("/api/tokens", json={"nombre": "x", "alcances": ["*"]}, headers=cabecera)
    ).status_code == 403


async def test_un_token_solo_da_alcances_que_tiene(cliente_como: Any, cliente: Any) -> None:
    admin = await cliente_como("admin")
    cabecera = await _token(admin, ["usuarios:escribir", "reportes:leer"])
    r = await cliente.post("/api/tokens", json={"nombre": "hijo", "alcances": ["reportes:leer"]}, headers=cabecera)
    assert r.status_code == 201, r.text
    for pedido in (["*"], ["reportes:escribir"], ["carteras:leer"]):
        r = await cliente.post("/api/tokens", json={"nombre": "hijo", "alcances": pedido}, headers=cabecera)
        assert r.status_code == 403, pedido


async def test_alcances_se_eligen_de_la_lista(cliente_como: Any) -> None:
    admin = await cliente_como("admin")
    lista = (await admin.get("/api/tokens/alcances")).json()
    assert {a["alcance"] for a in lista} == ALCANCES_VALIDOS
    assert all(a["descripcion"] for a in lista)
    r = await admin.post("/api/tokens", json={"nombre": "x", "alcances": ["todo:todo"]})
    assert r.status_code == 422 and "todo:todo" in r.json()["error"]["mensaje"]
    assert (await admin.post("/api/tokens", json={"nombre": "x", "alcances": []})).status_code == 422
    assert (await admin.post("/api/tokens", json={"nombre": "x"})).status_code == 422
