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
