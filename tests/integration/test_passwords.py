"""Passwords: at least 12 characters and not guessable; the one-time admin password is changed first."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text

from tests.conftest import iniciar_sesion_cliente


def _usuario(password: str) -> dict[str, str]:
    return {"usuario": "laura.perez", "nombre": "Laura Pérez", "rol": "agente", "password": password}


async def test_minimo_doce_caracteres(cliente_como: Any) -> None:
    admin = await cliente_como("admin")
    r = await admin.post("/api/usuarios", json=_usuario("Ab3$kq9!zX1"))  # 11
    assert r.status_code == 422
    assert "password" in r.json()["error"]["mensaje"] and "12" in r.json()["error"]["mensaje"]


@pytest.mark.parametrize(
    "password", ["aaaaaaaaaaaa", "1234567890ab", "password1234", "qwertyuiop12", "Contraseña2024", "laura.perez2026"]
)
async def test_contrasenas_comunes_se_rechazan(cliente_como: Any, password: str) -> None:
    admin = await cliente_como("admin")
    r = await admin.post("/api/usuarios", json=_usuario(password))
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert error["codigo"] == "password_debil" and error["mensaje"].startswith("password: ")
    assert (await admin.post("/api/usuarios", json=_usuario("tres-tristes-tigres-trigo"))).status_code == 201


async def test_cambio_propio_exige_fuerte_y_distinta(cliente_como: Any) -> None:
    agente = await cliente_como("agente")
    actual = agente.usuario["password"]
    r = await agente.post("/api/auth/password", json={"actual": actual, "nueva": "aaaaaaaaaaaa"})
    assert r.status_code == 422 and r.json()["error"]["codigo"] == "password_debil"
    r = await agente.post("/api/auth/password", json={"actual": actual, "nueva": actual})
    assert r.status_code == 422 and "distinta" in r.json()["error"]["mensaje"]


async def test_password_temporal_se_cambia_antes_de_todo(app: Any, crear_usuario: Any, db: Any) -> None:
    u = await crear_usuario("admin")
    await db.execute(text("UPDATE usuarios SET debe_cambiar_password = true WHERE id = :i"), {"i": u["id"]})
    await db.commit()
    c = await iniciar_sesion_cliente(app, u["usuario"], u["password"])
    try:
        yo = (await c.get("/api/auth/yo")).json()
        assert yo["debe_cambiar_password"] is True
        r = await c.get("/api/usuarios")
        assert r.status_code == 403 and r.json()["error"]["codigo"] == "cambiar_password"
        assert (await c.post("/api/equipos", json={"nombre": "No"})).status_code == 403
        r = await c.post("/api/auth/password", json={"actual": u["password"], "nueva": "la-mañana-del-lunes-gris"})
        assert r.status_code == 204, r.text
        assert (await c.get("/api/auth/yo")).json()["debe_cambiar_password"] is False
        assert (await c.get("/api/usuarios")).status_code == 200
    finally:
        await c.aclose()
