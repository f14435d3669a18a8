"""Liveness, readiness and the request id."""

from __future__ import annotations

from typing import Any


async def test_healthz_y_readyz(cliente: Any) -> None:
    assert (await cliente.get("/healthz")).json() == {"estado": "vivo"}
    r = await cliente.get("/readyz")
    assert r.status_code == 200
    assert r.json()["estado"] == "listo"


async def test_readyz_503_si_faltan_migraciones(cliente: Any, db: Any) -> None:
    from sqlalchemy import text

    await db.execute(text("UPDATE alembic_version SET version_num = '0001_base'"))
    await db.commit()
    try:
        r = await cliente.get("/readyz")
        assert r.status_code == 503
        assert r.json()["error"]["codigo"] == "migraciones_pendientes"
    finally:
        from enlace.db.migrar import revision_cabeza

        await db.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": revision_cabeza()})
        await db.commit()


async def test_request_id_se_devuelve(cliente: Any) -> None:
    r = await cliente.get("/healthz", headers={"X-Request-ID": "abc123"})
    assert r.headers["x-request-id"] == "abc123"
    r = await cliente.get("/healthz")
    assert len(r.headers["x-request-id"]) == 32


async def test_openapi_en_docs(cliente: Any) -> None:
    assert (await cliente.get("/docs")).status_code == 200
    assert "/api/auth/login" in (await cliente.get("/openapi.json")).json()["paths"]


async def test_metodo_equivocado_responde_405_en_espanol(cliente_como: Any) -> None:
    from enlace.api import DIRECTORIO_WEB

    admin = await cliente_como("admin")
    # GET on a POST-only route (the panel's catch-all used to answer 404 here).
    r = await admin.get("/api/cumplimiento/retencion")
    assert r.status_code == 405, r.text
    assert r.json()["error"]["codigo"] == "metodo_no_permitido"
    assert "POST" in r.headers["allow"]
    r = await admin.delete("/api/cumplimiento/ajustes")
    assert r.status_code == 405 and set(r.headers["allow"].split(", ")) >= {"GET", "PUT"}
    # A route that does not exist is still 404, whatever the method.
    assert (await admin.get("/api/no-existe")).status_code == 404
    assert (await admin.post("/api/no-existe", json={})).status_code == 404
    if (DIRECTORIO_WEB / "index.html").exists():
        assert (await admin.get("/campanas")).status_code == 200  # the panel's client-side routes
