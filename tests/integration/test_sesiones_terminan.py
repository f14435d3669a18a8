"""Sessions end for real: logout, revocation, password and role changes close realtime connections at once."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.integration.test_tiempo_real import Oyente, _emitir
from tests.integration.test_tiempo_real import url_rt as url_rt

NUEVA = "otra-clave-muy-larga-2026"


async def _cerrada(oyente: Oyente) -> bool:
    """Whether the server closed the connection (waits a little for the close to arrive)."""
    for _ in range(100):
        if not oyente.cliente.connected:
            return True
        await asyncio.sleep(0.05)
    return False


async def _oyente(url: str, **credencial: Any) -> Oyente:
    oyente = Oyente()
    await oyente.conectar(url, **credencial)
    return oyente


async def test_logout_cierra_la_conexion_y_no_llegan_mas_mensajes(url_rt: str, cliente_como: Any, nucleo: Any) -> None:
    agente = await cliente_como("agente")
    oyente = await _oyente(url_rt, cookie=agente.cookies.get("enlace_sesion"))
    assert (await agente.post("/api/auth/logout")).status_code == 204
    assert await _cerrada(oyente)
    await _emitir(nucleo, agente.usuario["agente_id"], "mensaje.recibido")
    await asyncio.sleep(0.2)
    assert oyente.eventos == []


async def test_cambiar_password_cierra_las_otras_sesiones(
    url_rt: str, app: Any, crear_usuario: Any, cliente: Any
) -> None:
    from tests.conftest import iniciar_sesion_cliente

    u = await crear_usuario("supervisor")
    aqui = await iniciar_sesion_cliente(app, u["usuario"], u["password"])
    alla = await iniciar_sesion_cliente(app, u["usuario"], u["password"])
    oyente_aqui = await _oyente(url_rt, cookie=aqui.cookies.get("enlace_sesion"))
    oyente_alla = await _oyente(url_rt, cookie=alla.cookies.get("enlace_sesion"))
    try:
        r = await aqui.post("/api/auth/password", json={"actual": u["password"], "nueva": NUEVA})
        assert r.status_code == 204, r.text
        assert await _cerrada(oyente_alla)
        assert (await alla.get("/api/auth/yo")).status_code == 401
        # The session that changed the password keeps working, and so does its connection.
        assert (await aqui.get("/api/auth/yo")).status_code == 200
        assert oyente_aqui.cliente.connected
    finally:
        await oyente_aqui.cliente.disconnect()
        await aqui.aclose()
        await alla.aclose()


async def test_revocar_token_cierra_su_conexion(url_rt: str, cliente_como: Any) -> None:
    admin = await cliente_como("admin")
    r = await admin.post("/api/tokens", json={"nombre": "crm", "alcances": ["*"]})
    oyente = await _oyente(url_rt, token=r.json()["token"])
    assert (await admin.delete(f"/api/tokens/{r.json()['id']}")).status_code == 200
    assert await _cerrada(oyente)


async def test_cambio_de_rol_y_desactivar_cierran_conexiones(url_rt: str, cliente_como: Any) -> None:
    admin = await cliente_como("admin")
    supervisor = await cliente_como("supervisor")
    agente = await cliente_como("agente")
    oyente_sup = await _oyente(url_rt, cookie=supervisor.cookies.get("enlace_sesion"))
    oyente_ag = await _oyente(url_rt, cookie=agente.cookies.get("enlace_sesion"))
    r = await admin.patch(f"/api/usuarios/{supervisor.usuario['id']}", json={"rol": "admin"})
    assert r.status_code == 200, r.text
    assert await _cerrada(oyente_sup)
    assert oyente_ag.cliente.connected
    assert (await admin.patch(f"/api/usuarios/{agente.usuario['id']}", json={"activo": False})).status_code == 200
    assert await _cerrada(oyente_ag)
