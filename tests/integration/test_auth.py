"""Login, cookies, CSRF, throttling, API tokens and user management."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from enlace.auth.service import COOKIE_CSRF, COOKIE_SESION, MENSAJE_LOGIN_FALLIDO


async def test_login_pone_cookie_httponly_y_yo_devuelve_el_usuario(cliente: Any, crear_usuario: Any) -> None:
    u = await crear_usuario("agente")
    r = await cliente.post("/api/auth/login", json={"usuario": u["usuario"], "password": u["password"]})
    assert r.status_code == 200
    cabeceras = r.headers.get_list("set-cookie")
    sesion = next(c for c in cabeceras if c.startswith(COOKIE_SESION + "="))
    csrf = next(c for c in cabeceras if c.startswith(COOKIE_CSRF + "="))
    assert "httponly" in sesion.lower() and "samesite=lax" in sesion.lower()
    assert "httponly" not in csrf.lower()
    yo = await cliente.get("/api/auth/yo")
    assert yo.status_code == 200
    assert yo.json()["usuario"] == u["usuario"]
    assert yo.json()["agente_id"] == u["agente_id"]


async def test_sin_sesion_da_401_con_la_forma_de_error(cliente: Any) -> None:
    r = await cliente.get("/api/auth/yo")
    assert r.status_code == 401
    assert r.json()["error"]["codigo"] == "no_autenticado"
    assert "sesión" in r.json()["error"]["mensaje"]


async def test_post_con_cookie_sin_csrf_se_rechaza(cliente_como: Any) -> None:
    c = await cliente_como("admin")
    token_csrf = c.headers.pop("X-CSRF-Token")
    r = await c.post("/api/equipos", json={"nombre": "Sin CSRF"})
    assert r.status_code == 403
    assert r.json()["error"]["codigo"] == "csrf_invalido"
    c.headers["X-CSRF-Token"] = token_csrf
    r = await c.post("/api/equipos", json={"nombre": "Con CSRF"})
    assert r.status_code == 201


async def test_diez_fallos_seguidos_se_frenan_y_el_mensaje_no_enumera(cliente: Any, crear_usuario: Any) -> None:
    u = await crear_usuario("agente")
    desconocido = await cliente.post("/api/auth/login", json={"usuario": "nadie_existe", "password": "x"})
    assert desconocido.status_code == 401
    assert desconocido.json()["error"]["mensaje"] == MENSAJE_LOGIN_FALLIDO
    estados = []
    for _ in range(10):
        r = await cliente.post("/api/auth/login", json={"usuario": u["usuario"], "password": "incorrecta"})
        estados.append(r.status_code)
        if r.status_code == 401:
            assert r.json()["error"]["mensaje"] == MENSAJE_LOGIN_FALLIDO
    assert estados[:5] == [401] * 5
    assert set(estados[5:]) == {429}
    # Even the right password is refused while throttled.
    r = await cliente.post("/api/auth/login", json={"usuario": u["usuario"], "password": u["password"]})
    assert r.status_code == 429
    assert "Retry-After" in r.headers


async def test_el_freno_se_levanta_cuando_pasa_la_ventana(cliente: Any, crear_usuario: Any, reloj: Any) -> None:
    u = await crear_usuario("agente")
    for _ in range(5):
        await cliente.post("/api/auth/login", json={"usuario": u["usuario"], "password": "mala"})
    r = await cliente.post("/api/auth/login", json={"usuario": u["usuario"], "password": u["password"]})
    assert r.status_code == 429
    await reloj.avanzar(timedelta(minutes=16).total_seconds())
    r = await cliente.post("/api/auth/login", json={"usuario": u["usuario"], "password": u["password"]})
    assert r.status_code == 200


async def test_logout_invalida_la_cookie(cliente: Any, crear_usuario: Any) -> None:
    u = await crear_usuario("supervisor")
    r = await cliente.post("/api/auth/login", json={"usuario": u["usuario"], "password": u["password"]})
    cookie = cliente.cookies.get(COOKIE_SESION)
    cliente.headers["X-CSRF-Token"] = r.json()["csrf_token"]
    assert (await cliente.post("/api/auth/logout")).status_code == 204
    cliente.cookies.set(COOKIE_SESION, cookie)
    assert (await cliente.get("/api/auth/yo")).status_code == 401


async def test_la_sesion_expira(cliente: Any, crear_usuario: Any, reloj: Any) -> None:
    u = await crear_usuario("agente")
    await cliente.post("/api/auth/login", json={"usuario": u["usuario"], "password": u["password"]})
    assert (await cliente.get("/api/auth/yo")).status_code == 200
    await reloj.avanzar(timedelta(hours=13).total_seconds())
    assert (await cliente.get("/api/auth/yo")).status_code == 401


async def test_token_api_autentica_se_guarda_hasheado_y_se_revoca(cliente_como: Any, cliente: Any, db: Any) -> None:
    from sqlalchemy import text

    admin = await cliente_como("admin")
    r = await admin.post("/api/tokens", json={"nombre": "CRM", "alcances": ["agentes:escribir"]})
    assert r.status_code == 201
    token = r.json()["token"]
    guardados = (await db.execute(text("SELECT token_hash FROM tokens_api"))).scalars().all()
    assert token not in guardados and len(guardados[0]) == 64
    r = await cliente.get("/api/equipos", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200
    # Bearer requests need no CSRF token.
    r = await cliente.post("/api/equipos", json={"nombre": "Por token"}, headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 201
    token_id = (await admin.get("/api/tokens")).json()[0]["id"]
    assert (await admin.delete(f"/api/tokens/{token_id}")).status_code == 200
    r = await cliente.get("/api/equipos", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401


async def test_crear_usuario_agente_crea_su_fila_de_agente(cliente_como: Any) -> None:
    admin = await cliente_como("admin")
    r = await admin.post(
        "/api/usuarios",
        json={"usuario": "laura", "nombre": "Laura Pérez", "rol": "agente", "password": "una-clave-larga"},
    )
    assert r.status_code == 201
    assert r.json()["agente_id"] is not None
    dup = await admin.post(
        "/api/usuarios", json={"usuario": "LAURA", "nombre": "Otra", "rol": "agente", "password": "una-clave-larga"}
    )
    assert dup.status_code == 409
    assert dup.json()["error"]["codigo"] == "usuario_duplicado"


async def test_validacion_422_nombra_el_campo_en_espanol(cliente_como: Any) -> None:
    admin = await cliente_como("admin")
    r = await admin.post("/api/usuarios", json={"usuario": "x", "rol": "jefe", "password": "corta"})
    assert r.status_code == 422
    cuerpo = r.json()["error"]
    assert cuerpo["codigo"] == "entrada_invalida"
    for campo in ("usuario", "nombre", "rol", "password"):
        assert campo in cuerpo["mensaje"]
    assert "obligatorio" in cuerpo["mensaje"]


async def test_json_roto_y_ruta_inexistente_no_dan_500(cliente_como: Any) -> None:
    admin = await cliente_como("admin")
    r = await admin.post("/api/equipos", content=b"{no es json", headers={"content-type": "application/json"})
    assert r.status_code == 422
    r = await admin.get("/api/no-existe")
    assert r.status_code == 404
    assert r.json()["error"]["codigo"] == "no_encontrado"


async def test_admin_no_puede_desactivarse_a_si_mismo(cliente_como: Any) -> None:
    admin = await cliente_como("admin")
    r = await admin.patch(f"/api/usuarios/{admin.usuario['id']}", json={"activo": False})
    assert r.status_code == 409


async def test_desactivar_usuario_cierra_sus_sesiones(cliente_como: Any) -> None:
    admin = await cliente_como("admin")
    agente = await cliente_como("agente")
    assert (await agente.get("/api/auth/yo")).status_code == 200
    r = await admin.patch(f"/api/usuarios/{agente.usuario['id']}", json={"activo": False})
    assert r.status_code == 200
    assert (await agente.get("/api/auth/yo")).status_code == 401
