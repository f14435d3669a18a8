"""The audit log: append-only in the database, secrets masked, filtered reading, and the foundation's actions."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from enlace.comun.actor import Actor
from enlace.comun.auditoria import FiltroAuditoria, enmascarar_telefono, listar_auditoria, registrar_auditoria


async def test_la_auditoria_rechaza_update_y_delete(db: AsyncSession) -> None:
    fila = await registrar_auditoria(db, None, "prueba.crear", ("prueba", 1), {"a": 1})
    fila_id = fila.id
    await db.commit()
    for sql in ("UPDATE auditoria SET accion = 'otra' WHERE id = :id", "DELETE FROM auditoria WHERE id = :id"):
        with pytest.raises(DBAPIError, match="solo admite agregar"):
            await db.execute(text(sql), {"id": fila_id})
        await db.rollback()
    assert await db.scalar(text("SELECT accion FROM auditoria WHERE id = :id"), {"id": fila_id}) == "prueba.crear"


async def test_registrar_enmascara_secretos_y_cuerpos(db: AsyncSession) -> None:
    actor = Actor(usuario_id=0, rol="admin", nombre="sistema")
    fila = await registrar_auditoria(
        db,
        actor,
        "prueba.sensible",
        objeto_tipo="contacto",
        objeto_id=7,
        detalle={
            "password": "secreta",
            "datos": {"nss": "12345678901", "curp": "AAAA000000HDFXXX00", "monto": 1000},
            "mensaje": "Hola Ana, su crédito...",
            "lista": [{"token": "abc"}],
        },
    )
    await db.commit()
    assert fila.usuario_id is None  # the system actor has no user row
    assert fila.objeto_id == "7"
    assert fila.detalle == {
        "password": "***",
        "datos": {"nss": "***", "curp": "***", "monto": 1000},
        "mensaje": "<23 caracteres>",
        "lista": [{"token": "***"}],
    }
    assert enmascarar_telefono("+525512345678") == "+52******5678"


async def test_filtros_y_paginacion(db: AsyncSession) -> None:
    actor = Actor(usuario_id=0, rol="admin", nombre="sistema")
    ids = []
    for i in range(5):
        fila = await registrar_auditoria(db, actor, f"prueba.{'a' if i % 2 else 'b'}", ("cosa", i), {"i": i})
        ids.append(fila.id)
    await db.commit()
    todas = await listar_auditoria(db, FiltroAuditoria(accion="prueba."))
    assert [f.id for f in todas] == sorted(ids, reverse=True)
    solo_a = await listar_auditoria(db, FiltroAuditoria(accion="prueba.a"))
    assert [f.detalle["i"] for f in solo_a] == [3, 1]
    pagina = await listar_auditoria(db, FiltroAuditoria(accion="prueba.", limite=2))
    siguiente = await listar_auditoria(db, FiltroAuditoria(accion="prueba.", limite=2, antes_de_id=pagina[-1].id))
    assert [f.detalle["i"] for f in pagina + siguiente] == [4, 3, 2, 1]
    objeto = await listar_auditoria(db, FiltroAuditoria(objeto_tipo="cosa", objeto_id="2"))
    assert len(objeto) == 1 and objeto[0].accion == "prueba.b"


async def test_api_filtra_por_usuario_y_fecha(cliente_como: Any) -> None:
    admin = await cliente_como("admin")
    otro = await cliente_como("admin")
    await admin.put("/api/cumplimiento/ajustes", json={"frecuencia_dias": 8})
    await otro.put("/api/cumplimiento/ajustes", json={"frecuencia_dias": 9})
    r = await admin.get("/api/auditoria", params={"usuario_id": otro.usuario["id"], "accion": "ajuste.cambiar"})
    assert [f["detalle"]["nuevo"] for f in r.json()] == [9]
    futuro = await admin.get("/api/auditoria", params={"desde": "2100-01-01T00:00:00Z"})
    assert futuro.status_code == 200 and futuro.json() == []
    malo = await admin.get("/api/auditoria", params={"desde": "ayer"})
    assert malo.status_code == 422


async def test_acciones_de_usuarios_roles_y_equipos_quedan_auditadas(cliente_como: Any, crear_usuario: Any) -> None:
    """The foundation's audited actions (users and roles, tokens, agents, teams), each with its row."""
    admin = await cliente_como("admin")

    async def ultima(accion: str) -> dict[str, Any]:
        filas = (await admin.get("/api/auditoria", params={"accion": accion})).json()
        assert filas, f"sin fila de auditoría para {accion}"
        assert filas[0]["usuario_id"] == admin.usuario["id"]
        return filas[0]

    r = await admin.post(
        "/api/usuarios",
        json={"usuario": "nueva_sup", "nombre": "Nueva", "rol": "supervisor", "password": "sol-de-otoño-en-puebla"},
    )
    assert r.status_code == 201, r.text
    usuario_id = r.json()["id"]
    assert (await ultima("usuario.crear"))["objeto_id"] == str(usuario_id)
    assert "sol-de-otoño-en-puebla" not in str(await ultima("usuario.crear"))

    r = await admin.patch(f"/api/usuarios/{usuario_id}", json={"rol": "admin"})
    assert r.status_code == 200, r.text
    assert (await ultima("usuario.actualizar"))["objeto_id"] == str(usuario_id)

    r = await admin.post("/api/tokens", json={"nombre": "crm", "alcances": ["reportes:leer"]})
    assert r.status_code == 201, r.text
    token_id = r.json()["id"]
    assert (await ultima("token.crear"))["objeto_id"] == str(token_id)
    assert r.json()["token"] not in str(await ultima("token.crear"))
    assert (await admin.delete(f"/api/tokens/{token_id}")).status_code == 200
    assert (await ultima("token.revocar"))["objeto_id"] == str(token_id)

    r = await admin.post("/api/equipos", json={"nombre": "Auditado"})
    assert r.status_code == 201, r.text
    equipo_id = r.json()["id"]
    assert (await ultima("equipo.crear"))["objeto_id"] == str(equipo_id)
    assert (await admin.patch(f"/api/equipos/{equipo_id}", json={"nombre": "Auditado 2"})).status_code == 200
    assert (await ultima("equipo.actualizar"))["objeto_id"] == str(equipo_id)

    agente = await crear_usuario("agente")
    r = await admin.patch(f"/api/agentes/{agente['agente_id']}", json={"activo": False})
    assert r.status_code == 200, r.text
    assert (await ultima("agente.actualizar"))["objeto_id"] == str(agente["agente_id"])
