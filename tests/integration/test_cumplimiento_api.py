"""Compliance over HTTP: suppression list, consent, ARCO, settings and retention, each with its audit row."""

from __future__ import annotations

import csv
import io
from typing import Any

from sqlalchemy import select

from enlace.carteras.models import Contacto
from enlace.cumplimiento.models import Supresion
from tests.integration.test_cumplimiento import nuevo_mensaje


async def _auditoria(admin: Any, accion: str) -> list[dict[str, Any]]:
    r = await admin.get("/api/auditoria", params={"accion": accion})
    assert r.status_code == 200, r.text
    return r.json()


async def test_agregar_listar_quitar_supresion(cliente_como: Any, nucleo: Any) -> None:
    admin = await cliente_como("admin")
    r = await admin.post("/api/supresiones", json={"telefono": "55 1234 5678", "motivo": "Lo pidió por teléfono"})
    assert r.status_code == 201, r.text
    cuerpo = r.json()
    assert cuerpo["nueva"] is True and cuerpo["supresion"]["telefono"] == "+525512345678"
    assert cuerpo["supresion"]["fuente"] == "manual"
    repetida = await admin.post("/api/supresiones", json={"telefono": "+525512345678", "motivo": "otra vez"})
    assert repetida.status_code == 201 and repetida.json()["nueva"] is False

    lista = await admin.get("/api/supresiones", params={"telefono": "1234"})
    assert lista.json()["total"] == 1
    agregadas = await _auditoria(admin, "supresion.agregar")
    assert len(agregadas) == 1 and agregadas[0]["usuario_id"] == admin.usuario["id"]
    assert agregadas[0]["detalle"]["telefono"] == "+52******5678"

    quitar = await admin.post("/api/supresiones/quitar", json={"telefono": "5512345678", "motivo": "Error de captura"})
    assert quitar.status_code == 200, quitar.text
    assert (await admin.get("/api/supresiones")).json()["total"] == 0
    quitadas = await _auditoria(admin, "supresion.quitar")
    assert len(quitadas) == 1 and quitadas[0]["detalle"]["motivo"] == "Error de captura"
    otra_vez = await admin.post("/api/supresiones/quitar", json={"telefono": "5512345678", "motivo": "de nuevo"})
    assert otra_vez.status_code == 404
    assert otra_vez.json()["error"]["codigo"] == "no_encontrado"


async def test_telefono_invalido_es_422_con_el_campo(cliente_como: Any) -> None:
    admin = await cliente_como("admin")
    r = await admin.post("/api/supresiones", json={"telefono": "5.51234E+09", "motivo": "prueba"})
    assert r.status_code == 422
    assert r.json()["error"]["mensaje"].startswith("telefono:")


async def test_importar_y_exportar_csv(cliente_como: Any, crear_usuario: Any, nucleo: Any) -> None:
    admin = await cliente_como("admin")
    agente = await crear_usuario("agente")
    async with nucleo.fabrica() as s:
        pendiente = await nuevo_mensaje(s, agente["agente_id"], "+525522223333")
        await s.commit()
    archivo = b"numero\n5522223333\n5544445555\nabc\n"
    r = await admin.post(
        "/api/supresiones/importar",
        files={"archivo": ("reus.csv", archivo, "text/csv")},
        data={"fuente": "reus"},
    )
    assert r.status_code == 200, r.text
    cuerpo = r.json()
    assert (cuerpo["agregados"], cuerpo["total_rechazados"], cuerpo["cancelados"]) == (2, 1, 1)
    assert cuerpo["rechazados"][0]["fila"] == 4
    async with nucleo.fabrica() as s:
        from enlace.mensajes.models import MensajeEnviado

        assert await s.scalar(select(MensajeEnviado.estado).where(MensajeEnviado.id == pendiente.id)) == "cancelado"
    importaciones = await _auditoria(admin, "supresion.importar")
    assert len(importaciones) == 1 and importaciones[0]["detalle"]["archivo"] == "reus.csv"

    malo = await admin.post("/api/supresiones/importar", files={"archivo": ("x.csv", b"", "text/csv")})
    assert malo.status_code == 422 and "archivo" in malo.json()["error"]["mensaje"]
    sin_archivo = await admin.post("/api/supresiones/importar", data={"fuente": "reus"})
    assert sin_archivo.status_code == 422

    exportado = await admin.get("/api/supresiones/exportar")
    assert exportado.status_code == 200 and exportado.headers["content-type"].startswith("text/csv")
    filas = list(csv.DictReader(io.StringIO(exportado.content.decode("utf-8-sig"))))
    assert {f["telefono"] for f in filas} == {"+525522223333", "+525544445555"}
    assert {f["fuente"] for f in filas} == {"reus"}
    assert len(await _auditoria(admin, "supresion.exportar")) == 1


async def test_consentimiento_por_api(cliente_como: Any, crear_usuario: Any, equipo: Any, nucleo: Any) -> None:
    admin = await cliente_como("admin")
    eq = await equipo("Norte")
    supervisor = await cliente_como("supervisor", equipo_id=eq)
    agente = await crear_usuario("agente", equipo_id=eq)
    async with nucleo.fabrica() as s:
        contacto = Contacto(telefono="+525566667777", agente_id=agente["agente_id"], nombre="Ana")
        s.add(contacto)
        await s.commit()
    cuerpo = {"fuente": "formulario web", "fecha": "2026-11-01T10:00:00-06:00", "evidencia": "Acepto (v3)"}
    r = await supervisor.put(f"/api/cumplimiento/consentimiento/{contacto.id}", json=cuerpo)
    assert r.status_code == 200, r.text
    assert r.json()["consentimiento_fuente"] == "formulario web"
    futuro = await admin.put(
        f"/api/cumplimiento/consentimiento/{contacto.id}", json={**cuerpo, "fecha": "2030-01-01T00:00:00Z"}
    )
    assert futuro.status_code == 422
    filas = await _auditoria(admin, "contacto.consentimiento")
    assert len(filas) == 1 and filas[0]["objeto_id"] == str(contacto.id)
    assert filas[0]["usuario_id"] == supervisor.usuario["id"]


async def test_arco_por_api(cliente_como: Any, crear_usuario: Any, nucleo: Any) -> None:
    admin = await cliente_como("admin")
    agente = await crear_usuario("agente")
    async with nucleo.fabrica() as s:
        contacto = Contacto(telefono="+525588889999", agente_id=agente["agente_id"], nombre="Beto")
        s.add(contacto)
        await s.flush()
        await nuevo_mensaje(s, agente["agente_id"], "+525588889999", contacto_id=contacto.id, mensaje="Hola Beto")
        await s.commit()
    exportado = await admin.post("/api/arco/exportar", json={"telefono": "55 8888 9999"})
    assert exportado.status_code == 200, exportado.text
    datos = exportado.json()
    assert datos["contactos"][0]["nombre"] == "Beto"
    assert datos["mensajes_enviados"][0]["mensaje"] == "Hola Beto"
    cancelado = await admin.post("/api/arco/cancelar", json={"telefono": "5588889999"})
    assert cancelado.status_code == 200, cancelado.text
    assert cancelado.json()["contactos"] == 1 and cancelado.json()["cancelados"] == 1
    async with nucleo.fabrica() as s:
        fila = await s.scalar(select(Supresion).where(Supresion.telefono == "+525588889999"))
        assert fila is not None and fila.fuente == "arco"
    assert len(await _auditoria(admin, "arco.exportar")) == 1
    assert len(await _auditoria(admin, "arco.cancelar")) == 1
    # Prefix filter: every ARCO action at once.
    assert {f["accion"] for f in await _auditoria(admin, "arco.")} == {"arco.exportar", "arco.cancelar"}


async def test_ajustes_y_retencion_por_api(cliente_como: Any) -> None:
    admin = await cliente_como("admin")
    actuales = (await admin.get("/api/cumplimiento/ajustes")).json()
    assert actuales["frecuencia_max_mensajes"] == 1 and actuales["frecuencia_dias"] == 7
    assert (actuales["hora_min_contacto"], actuales["hora_max_contacto"]) == (7, 22)
    r = await admin.put("/api/cumplimiento/ajustes", json={"frecuencia_dias": 10, "confirmar_baja": True})
    assert r.status_code == 200, r.text
    assert r.json()["frecuencia_dias"] == 10 and r.json()["confirmar_baja"] is True
    # Nothing can widen the legal window.
    fuera = await admin.put("/api/cumplimiento/ajustes", json={"hora_min_contacto": 5})
    assert fuera.status_code == 422 and "hora_min_contacto" in fuera.json()["error"]["mensaje"]
    assert len(await _auditoria(admin, "ajuste.cambiar")) == 2
    retencion = await admin.post("/api/cumplimiento/retencion")
    assert retencion.status_code == 200 and retencion.json()["retencion_dias"] == 365


async def test_ajustes_solo_mas_estrictos_que_los_pisos_legales(cliente_como: Any) -> None:
    admin = await cliente_como("admin")
    antes = (await admin.get("/api/cumplimiento/ajustes")).json()
    assert antes["limites"]["frecuencia_max_mensajes"] == {"minimo": 1, "maximo": 1}
    # Loosening the per-recipient cap is refused, with the legal maximum named.
    flojo = await admin.put("/api/cumplimiento/ajustes", json={"frecuencia_max_mensajes": 10})
    assert flojo.status_code == 422
    assert flojo.json()["error"]["mensaje"].startswith("frecuencia_max_mensajes: el máximo legal configurado es 1")
    # A cap of 0 would block every campaign: refused, saying what to do instead.
    cero = await admin.put("/api/cumplimiento/ajustes", json={"frecuencia_max_mensajes": 0})
    assert cero.status_code == 422 and "pausa las campañas" in cero.json()["error"]["mensaje"]
    # A refusal anywhere in the form writes nothing, not even the valid fields.
    mixto = await admin.put("/api/cumplimiento/ajustes", json={"retencion_dias": 90, "frecuencia_dias": 2})
    assert mixto.status_code == 422 and "frecuencia_dias" in mixto.json()["error"]["mensaje"]
    despues = (await admin.get("/api/cumplimiento/ajustes")).json()
    assert despues == antes
    # Moving both hours at once works even when each alone would cross the other.
    r = await admin.put("/api/cumplimiento/ajustes", json={"hora_min_contacto": 9, "hora_max_contacto": 10})
    assert r.status_code == 200, r.text
    r = await admin.put("/api/cumplimiento/ajustes", json={"hora_min_contacto": 12, "hora_max_contacto": 20})
    assert r.status_code == 200, r.text
    # Saving never moves another value; what the server normalised is returned as such.
    texto = "  Listo: ya no le escribiremos a este número.  "
    r = await admin.put("/api/cumplimiento/ajustes", json={"retencion_dias": 400, "texto_confirmacion_baja": texto})
    assert r.status_code == 200, r.text
    cuerpo = r.json()
    assert cuerpo["normalizados"] == {"texto_confirmacion_baja": texto.strip()}
    esperado = {**antes, "hora_min_contacto": 12, "hora_max_contacto": 20, "retencion_dias": 400}
    esperado["texto_confirmacion_baja"] = texto.strip()
    assert (await admin.get("/api/cumplimiento/ajustes")).json() == esperado
    cruzado = await admin.put("/api/cumplimiento/ajustes", json={"hora_max_contacto": 11})
    assert cruzado.status_code == 422 and "menor que la máxima" in cruzado.json()["error"]["mensaje"]


async def test_clasificar_explica_la_decision(cliente_como: Any) -> None:
    agente = await cliente_como("agente")
    r = await agente.post("/api/cumplimiento/clasificar", json={"texto": "No me escrivan más!!"})
    assert r.status_code == 200
    assert r.json()["clase"] == "baja" and r.json()["regla"] == "no_escribir"


async def test_auditoria_solo_para_admins(cliente_como: Any) -> None:
    for rol in ("agente", "supervisor"):
        c = await cliente_como(rol)
        assert (await c.get("/api/auditoria")).status_code == 403


async def test_horario_de_contacto_para_el_panel(cliente_como: Any) -> None:
    """The panel reads the contact hours the gate applies (minute resolution, settings narrowing the limit)."""
    admin = await cliente_como("admin")
    r = await admin.put("/api/cumplimiento/ajustes", json={"hora_min_contacto": 9, "hora_max_contacto": 20})
    assert r.status_code == 200, r.text
    agente = await cliente_como("agente")
    r = await agente.get("/api/cumplimiento/horario")
    assert r.status_code == 200, r.text
    datos = r.json()
    assert datos["limite"] == {"inicio": "07:00", "fin": "22:00"}
    assert datos["ventana"] == {"inicio": "09:00", "fin": "20:00"}
    assert datos["precedencia_zona"] == ["contacto", "estado", "campana"]
    zonas = {z["estado"]: z["zona"] for z in datos["zonas_por_estado"]}
    assert zonas["Baja California"] == "America/Tijuana" and zonas["Quintana Roo"] == "America/Cancun"
    assert len(zonas) == 32
