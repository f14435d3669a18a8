"""Compliance is never silent: NULs are cleaned, failed evaluations are swept, LID opt-outs wait for the phone."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from enlace.captura import service as servicio_captura
from enlace.captura.limpieza import limpiar_texto
from enlace.motores.base import EventoMapeoIdentificador, EventoMensaje, TipoContenido
from enlace.settings import AlcanceCaptura
from tests.integration.test_captura import captura, crear_agente, crear_campana, crear_contacto, crear_enviado, jid, sql


def test_limpiar_texto_quita_nul_y_controles_pero_no_saltos() -> None:
    assert limpiar_texto("BAJA\x00") == "BAJA"
    assert limpiar_texto("a\x01b\x1bc\x7fd\x9fe") == "abcde"
    assert limpiar_texto("línea 1\nlínea 2\tfin\r\n") == "línea 1\nlínea 2\tfin\r\n"
    assert limpiar_texto(None) is None


async def test_baja_con_caracter_nulo_se_guarda_y_se_honra(nucleo: Any) -> None:
    agente = await crear_agente(nucleo)
    campana = await crear_campana(nucleo, agente)
    tel = "+525512349001"
    contacto = await crear_contacto(nucleo, agente, tel)
    t0 = nucleo.reloj.ahora()
    await crear_enviado(nucleo, agente, campana, contacto, tel, "ENVNUL", "enviado", t0)
    await crear_enviado(nucleo, agente, campana, contacto, tel, "PENDNUL", "pendiente", t0)
    evento = EventoMensaje(
        agente, "RNUL", False, jid(tel), None, t0 + timedelta(minutes=1), TipoContenido.texto, "BAJA\u0000"
    )
    await captura(nucleo).procesar([evento])
    fila = (await sql(nucleo, "SELECT mensaje, clasificacion FROM mensajes_recibidos WHERE wa_message_id = 'RNUL'"))[0]
    assert fila.mensaje == "BAJA" and fila.clasificacion == "baja"
    assert [s[0] for s in await sql(nucleo, "SELECT telefono FROM supresiones")] == [tel]
    pendiente = await sql(nucleo, "SELECT estado FROM mensajes_enviados WHERE wa_message_id = 'PENDNUL'")
    assert pendiente[0][0] == "cancelado"


async def test_evaluacion_fallida_se_reevalua_en_el_barrido(nucleo: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """evaluar_respuesta fails (its savepoint rolls back): the reply is kept, and the sweep applies the opt-out."""
    agente = await crear_agente(nucleo)
    tel = "+525512349002"
    await crear_contacto(nucleo, agente, tel)
    t0 = nucleo.reloj.ahora()

    async def falla(*_a: Any, **_k: Any) -> None:
        raise RuntimeError("cumplimiento caído")

    c = captura(nucleo)
    with monkeypatch.context() as m:
        m.setattr(servicio_captura, "evaluar_respuesta", falla)
        await c.procesar(
            [EventoMensaje(agente, "RFALLA", False, jid(tel), None, t0, TipoContenido.texto, "Ya no me escriban")]
        )
    fila = (await sql(nucleo, "SELECT clasificacion FROM mensajes_recibidos WHERE wa_message_id = 'RFALLA'"))[0]
    assert fila.clasificacion is None
    assert not await sql(nucleo, "SELECT 1 FROM supresiones")
    # Rows of batches that may still be in flight are left alone...
    assert await c.reevaluar_cumplimiento(gracia_s=3600) == 0
    # ...and once past the grace period, the sweep decides and acts.
    assert await c.reevaluar_cumplimiento(gracia_s=0) == 1
    fila = (await sql(nucleo, "SELECT clasificacion FROM mensajes_recibidos WHERE wa_message_id = 'RFALLA'"))[0]
    assert fila.clasificacion == "baja"
    assert [s[0] for s in await sql(nucleo, "SELECT telefono FROM supresiones")] == [tel]
    assert await c.reevaluar_cumplimiento(gracia_s=0) == 0  # nothing left to do


async def test_historial_no_se_reevalua(nucleo: Any) -> None:
    agente = await crear_agente(nucleo)
    tel = "+525512349003"
    await crear_contacto(nucleo, agente, tel)
    viejo = EventoMensaje(
        agente,
        "RHIST",
        False,
        jid(tel),
        None,
        nucleo.reloj.ahora() - timedelta(days=400),
        TipoContenido.texto,
        "BAJA",
        historial=True,
    )
    c = captura(nucleo)
    await c.procesar([viejo])
    assert await c.reevaluar_cumplimiento(gracia_s=0) == 0
    assert not await sql(nucleo, "SELECT 1 FROM supresiones")


@pytest.mark.parametrize("alcance", [AlcanceCaptura.negocio, AlcanceCaptura.todo])
async def test_baja_desde_lid_se_aplica_cuando_se_conoce_el_telefono(nucleo: Any, alcance: AlcanceCaptura) -> None:
    agente = await crear_agente(nucleo)
    campana = await crear_campana(nucleo, agente)
    tel = "+525512349004"
    contacto = await crear_contacto(nucleo, agente, tel)
    t0 = nucleo.reloj.ahora()
    await crear_enviado(nucleo, agente, campana, contacto, tel, "PENDLID", "pendiente", t0)
    lid = "987654321012345@lid"
    c = captura(nucleo, alcance)
    await c.procesar([EventoMensaje(agente, "RLID", False, lid, None, t0, TipoContenido.texto, "BAJA por favor")])
    assert not await sql(nucleo, "SELECT 1 FROM supresiones")  # no phone yet: nothing to suppress by
    assert (await sql(nucleo, "SELECT count(*) FROM bajas_lid_pendientes"))[0][0] == 1
    assert await c.reevaluar_cumplimiento(gracia_s=0) == 0  # still unmapped
    # The engine learns whose LID it is.
    await c.procesar([EventoMapeoIdentificador(agente, lid, jid(tel))])
    assert await c.reevaluar_cumplimiento(gracia_s=0) >= 1
    assert [s[0] for s in await sql(nucleo, "SELECT telefono FROM supresiones")] == [tel]
    assert (await sql(nucleo, "SELECT count(*) FROM bajas_lid_pendientes"))[0][0] == 0
    estado = await sql(nucleo, "SELECT estado FROM mensajes_enviados WHERE wa_message_id = 'PENDLID'")
    assert estado[0][0] == "cancelado"


async def test_api_rechaza_caracter_nulo_con_422(cliente_como: Any) -> None:
    admin = await cliente_como("admin")
    r = await admin.post("/api/plantillas", json={"nombre": "Oferta", "variantes": ["Hola {nombre}", "Hola\u0000"]})
    assert r.status_code == 422
    assert r.json()["error"]["codigo"] == "caracter_nulo"
    assert r.json()["error"]["mensaje"].startswith("variantes[1]:")
    r = await admin.post("/api/plantillas", json={"nombre": "Sin nulos \\u0000", "variantes": ["Hola {nombre}"]})
    assert r.status_code != 422 or r.json()["error"]["codigo"] != "caracter_nulo"  # an escaped backslash is text
