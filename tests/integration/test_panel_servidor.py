"""Server side of the panel's fixes (issue 18): launch preview = what is queued, past starts refused, the pool count,
accent- and digit-aware search, audit of agent actions with text search, the server clock, compressed static files."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from enlace.carteras.models import Cartera, Contacto

from .test_campanas import crear_cartera


async def test_previa_de_lanzamiento_dice_lo_que_se_encola(nucleo: Any, cliente_como: Any) -> None:
    agente = await cliente_como("agente")
    cartera_id, telefonos = await crear_cartera(nucleo, agente.usuario["agente_id"], 7, sin_monto={1, 5})
    async with nucleo.fabrica() as s:  # one of the complete ones is suppressed: queued, never sent
        await s.execute(
            text("INSERT INTO supresiones (telefono, fuente, motivo) VALUES (:t, 'manual', 'prueba')"),
            {"t": telefonos[0]},
        )
        await s.commit()
    plantilla = (
        await agente.post("/api/plantillas", json={"nombre": "P", "variantes": ["Hola {nombre}, {monto}"]})
    ).json()
    campana = (
        await agente.post("/api/campana", json={"nombre": "C", "carteraId": cartera_id, "plantillaId": plantilla["id"]})
    ).json()
    previa = (await agente.get(f"/api/campana/{campana['id']}/previa-lanzamiento")).json()
    assert (previa["listos"], previa["incompletos"], previa["en_supresion"]) == (5, 2, 1)
    assert {e["nombre"] for e in previa["errores"]} == {"Persona 1", "Persona 5"}
    # Without the skip, the refusal names people and what is missing, not ids or API flags.
    r = await agente.post("/api/campana/iniciar", json={"campanaId": campana["id"]})
    mensaje = r.json()["error"]["mensaje"]
    assert r.status_code == 422 and "Persona 1" in mensaje and "omitirErrores" not in mensaje
    assert "contacto(s)" not in mensaje and "contacto 1" not in mensaje
    r = await agente.post("/api/campana/iniciar", json={"campanaId": campana["id"], "omitirErrores": True})
    assert r.status_code == 200 and r.json()["mensajes"] == previa["listos"]
    async with nucleo.fabrica() as s:
        encolados = await s.scalar(
            text("SELECT count(*) FROM mensajes_enviados WHERE campana_id = :c"), {"c": campana["id"]}
        )
    assert encolados == previa["listos"]


async def test_inicio_programado_en_el_pasado_se_rechaza(nucleo: Any, cliente_como: Any, reloj: Any) -> None:
    agente = await cliente_como("agente")
    cartera_id, _ = await crear_cartera(nucleo, agente.usuario["agente_id"], 1)
    for inicio in ("2020-01-06T10:00:00", "2020-01-06T10:00:00-06:00"):
        r = await agente.post("/api/campana", json={"nombre": "X", "carteraId": cartera_id, "inicioProgramado": inicio})
        assert r.status_code == 422 and "ya pasó" in r.json()["error"]["mensaje"], r.text
    futuro = (reloj.ahora().replace(microsecond=0)).isoformat().replace("+00:00", "Z")
    r = await agente.post("/api/campana", json={"nombre": "X", "carteraId": cartera_id, "inicioProgramado": futuro})
    assert r.status_code == 422  # "now" is not ahead either
    r = await agente.post(
        "/api/campana", json={"nombre": "X", "carteraId": cartera_id, "inicioProgramado": "2099-01-05T09:00:00"}
    )
    assert r.status_code == 201 and r.json()["estado"] == "programada"


async def test_busqueda_sin_acentos_y_por_digitos(nucleo: Any, cliente_como: Any) -> None:
    agente = await cliente_como("agente")
    async with nucleo.fabrica() as s:
        cartera = Cartera(agente_id=agente.usuario["agente_id"], nombre="B", fuente="manual", total_contactos=2)
        s.add(cartera)
        await s.flush()
        s.add_all(
            [
                Contacto(
                    cartera_id=cartera.id, agente_id=cartera.agente_id, nombre="Ramón Núñez", telefono="+525512345678"
                ),
                Contacto(
                    cartera_id=cartera.id, agente_id=cartera.agente_id, nombre="Lucía Peña", telefono="+523398765432"
                ),
            ]
        )
        await s.commit()
    for q, esperado in (
        ("nunez", "Ramón Núñez"),
        ("RAMON", "Ramón Núñez"),
        ("55 1234", "Ramón Núñez"),
        ("pena", "Lucía Peña"),
    ):
        r = await agente.get("/api/contactos", params={"q": q})
        assert [c["nombre"] for c in r.json()["items"]] == [esperado], (q, r.text)


async def test_bitacora_numero_parcial(cliente_como: Any) -> None:
    supervisor = await cliente_como("supervisor")
    ok = await supervisor.get("/api/reportes/mensajes", params={"numero": "55 1234"})
    assert ok.status_code == 200
    corto = await supervisor.get("/api/reportes/mensajes", params={"numero": "55"})
    assert corto.status_code == 422 and "al menos 4 dígitos" in corto.json()["error"]["mensaje"]
    letras = await supervisor.get("/api/reportes/mensajes", params={"numero": "abc"})
    assert letras.status_code == 422 and "solo dígitos" in letras.json()["error"]["mensaje"]


async def test_pool_y_auto_asignacion_auditada_con_nombre_en_hora_de_mexico(
    nucleo: Any, cliente_como: Any, reloj: Any
) -> None:
    admin = await cliente_como("admin")
    agente = await cliente_como("agente")
    async with nucleo.fabrica() as s:
        s.add_all(Contacto(nombre=f"P{i}", telefono=f"+52558000{i:04d}") for i in range(3))
        await s.commit()
    assert (await agente.get("/api/cartera/pool")).json()["disponibles"] == 3
    r = await agente.post("/api/cartera/auto-asignar", json={"cantidad": 2})
    assert r.status_code == 200 and r.json()["asignados"] == 2
    assert (await agente.get("/api/cartera/pool")).json()["disponibles"] == 1
    for malo in (0, -5):
        assert (await agente.post("/api/cartera/auto-asignar", json={"cantidad": malo})).status_code == 422
    async with nucleo.fabrica() as s:
        nombre = await s.scalar(text("SELECT nombre FROM carteras WHERE fuente = 'auto_asignacion'"))
    from zoneinfo import ZoneInfo

    assert nombre == f"Auto-asignación {reloj.ahora().astimezone(ZoneInfo('America/Mexico_City')):%d/%m/%Y %H:%M}"
    registros = (await admin.get("/api/auditoria", params={"texto": "auto_asignar"})).json()
    assert [a["accion"] for a in registros] == ["cartera.auto_asignar"]
    # The panel sends the codes whose Spanish label matches; free text also finds the author's name.
    por_accion = (
        await admin.get("/api/auditoria", params={"texto": "tomó", "acciones": ["cartera.auto_asignar"]})
    ).json()
    assert len(por_accion) == 1
    por_autor = (await admin.get("/api/auditoria", params={"texto": agente.usuario["usuario"].title()[:8]})).json()
    assert any(a["accion"] == "cartera.auto_asignar" for a in por_autor)


async def test_reloj_del_servidor(cliente_como: Any, reloj: Any) -> None:
    agente = await cliente_como("agente")
    r = await agente.get("/api/reloj")
    assert r.status_code == 200 and r.json()["ahora"].startswith(reloj.ahora().isoformat()[:16])
