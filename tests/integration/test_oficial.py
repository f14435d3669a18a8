"""The official channel: Cloud API engine against the local Graph API stand-in, signed webhooks, hand-off."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, text

from enlace.agentes.models import Agente
from enlace.carteras.models import Contacto
from enlace.comun.telefonos import clave_telefono
from enlace.motores.base import (
    ClaseDesconexion,
    EventoConectado,
    EventoDesconectado,
    OpcionesInicio,
    SesionNoDisponible,
)
from enlace.motores.cloud_api.config import leer_numeros
from enlace.motores.cloud_api.motor import (
    ERROR_PAR,
    ERROR_VENTANA,
    ErrorCloud,
    MotorCloudApi,
    crear_ultimo_entrante,
)
from tests.conftest import ajustes_prueba
from tests.soporte.arriendo import arrendar
from tests.soporte.graph_api_falso import GraphFalso


@pytest.fixture
async def graph() -> Any:
    g = GraphFalso()
    # The templates these tests send, as approved in Meta's template manager.
    g.aprobar("p", cuerpo=0)
    g.aprobar("oferta_credito", cuerpo=2)
    g.aprobar("oferta_credito_imss", cuerpo=2)
    await g.iniciar()
    yield g
    await g.detener()


@pytest.fixture
async def linea(nucleo: Any) -> int:
    """The `agentes` row that stands for the official line."""
    async with nucleo.fabrica() as s:
        fila = Agente(nombre="Línea oficial 800")
        s.add(fila)
        await s.commit()
        return fila.id


@pytest.fixture
async def oficial(nucleo: Any, graph: GraphFalso, linea: int, url_bd: str) -> Any:
    """The core configured with the stand-in's number, and a capture service writing webhooks."""
    from enlace.captura.service import Captura

    nucleo.settings = ajustes_prueba(url_bd, cloud_numeros=json.dumps([graph.configuracion(linea)]))
    captura = Captura(nucleo.fabrica, nucleo.reloj, nucleo.settings)
    await captura.iniciar()
    nucleo.captura = captura
    yield nucleo
    nucleo.captura = None
    await captura.detener()


async def _motor(nucleo: Any, reloj: Any, eventos: list[Any]) -> MotorCloudApi:
    motor = MotorCloudApi(leer_numeros(nucleo.settings), reloj, ultimo_entrante=crear_ultimo_entrante(nucleo.fabrica))

    async def recibir(evento: Any) -> None:
        eventos.append(evento)

    await motor.iniciar(recibir)
    return motor


@pytest.fixture
async def ana(oficial: Any, linea: int) -> int:
    """A contact of the official line's campaign (in capture scope)."""
    async with oficial.fabrica() as s:
        contacto = Contacto(nombre="Ana", telefono="+525512345678", agente_id=linea)
        s.add(contacto)
        await s.commit()
        return contacto.id


async def _post(cliente: Any, graph: GraphFalso, payload: dict[str, Any]) -> Any:
    cuerpo, cabeceras = graph.firmado(payload)
    return await cliente.post("/api/webhooks/whatsapp", content=cuerpo, headers=cabeceras)


# ---- webhook verification and signatures ---------------------------------------------------------


async def test_verificacion_del_webhook(cliente: Any, oficial: Any) -> None:
    r = await cliente.get(
        "/api/webhooks/whatsapp",
        params={"hub.mode": "subscribe", "hub.verify_token": "verificame", "hub.challenge": "1158201444"},
    )
    assert r.status_code == 200 and r.text == "1158201444"
    r = await cliente.get(
        "/api/webhooks/whatsapp", params={"hub.mode": "subscribe", "hub.verify_token": "otro", "hub.challenge": "x"}
    )
    assert r.status_code == 403


async def test_firma_valida_ausente_incorrecta_y_cuerpo_modificado(
    cliente: Any, oficial: Any, graph: GraphFalso, db: Any, ana: int
) -> None:
    payload = graph.mensaje_entrante("5215512345678", "Hola, me interesa", wamid="wamid.FIRMA1")
    cuerpo, cabeceras = graph.firmado(payload)

    sin_firma = await cliente.post(
        "/api/webhooks/whatsapp", content=cuerpo, headers={"content-type": "application/json"}
    )
    assert sin_firma.status_code == 401
    mala = await cliente.post(
        "/api/webhooks/whatsapp", content=cuerpo, headers={**cabeceras, "x-hub-signature-256": "sha256=" + "0" * 64}
    )
    assert mala.status_code == 403
    alterado = cuerpo.replace(b"me interesa", b"me interesO")
    r = await cliente.post("/api/webhooks/whatsapp", content=alterado, headers=cabeceras)
    assert r.status_code == 403
    assert (await db.scalar(text("SELECT count(*) FROM mensajes_recibidos"))) == 0, "cuerpo procesado sin firma"

    ok = await cliente.post("/api/webhooks/whatsapp", content=cuerpo, headers=cabeceras)
    assert ok.status_code == 200, ok.text
    again = await cliente.post("/api/webhooks/whatsapp", content=cuerpo, headers=cabeceras)
    assert again.status_code == 200
    filas = (await db.execute(text("SELECT wa_message_id, mensaje, numero_origen FROM mensajes_recibidos"))).all()
    assert filas == [("wamid.FIRMA1", "Hola, me interesa", "+525512345678")], "idempotente por id"


# ---- engine contract against the stand-in --------------------------------------------------------


async def test_motor_conecta_y_envia_plantilla_con_nuestro_id(
    oficial: Any, graph: GraphFalso, linea: int, reloj: Any
) -> None:
    eventos: list[Any] = []
    motor = await _motor(oficial, reloj, eventos)
    await motor.iniciar_sesion(linea, OpcionesInicio())
    assert isinstance(eventos[-1], EventoConectado) and eventos[-1].numero == "+525510000000"
    propio = motor.nuevo_id_mensaje(linea)
    r = await motor.enviar_plantilla(
        linea,
        "5215512345678@s.whatsapp.net",
        nombre="oferta_credito",
        idioma="es_MX",
        parametros=["Ana", "$25,000.00"],
        wa_message_id=propio,
    )
    assert r.wa_message_id == propio
    enviado = graph.enviados[-1].cuerpo
    assert enviado["to"] == "5215512345678" and enviado["type"] == "template"
    assert enviado["template"]["components"][0]["parameters"][1]["text"] == "$25,000.00"
    assert enviado["biz_opaque_callback_data"] == propio
    await motor.detener()


async def test_texto_libre_solo_dentro_de_la_ventana_de_24h(
    oficial: Any, graph: GraphFalso, linea: int, reloj: Any, cliente: Any, ana: int
) -> None:
    eventos: list[Any] = []
    motor = await _motor(oficial, reloj, eventos)
    with pytest.raises(ErrorCloud) as fuera:
        await motor.enviar_texto(linea, "5215512345678@s.whatsapp.net", "Hola", motor.nuevo_id_mensaje(linea))
    assert fuera.value.codigo == ERROR_VENTANA and "24 horas" in str(fuera.value)
    assert graph.enviados == [], "fuera de la ventana no se llama a la API"
    ahora = int(reloj.ahora().timestamp())
    assert (await _post(cliente, graph, graph.mensaje_entrante("5215512345678", "Hola", ts=ahora))).status_code == 200
    await motor.enviar_texto(linea, "5215512345678@s.whatsapp.net", "Con gusto", motor.nuevo_id_mensaje(linea))
    assert graph.enviados[-1].cuerpo["text"]["body"] == "Con gusto"
    await reloj.avanzar(timedelta(hours=25).total_seconds())
    with pytest.raises(ErrorCloud):
        await motor.enviar_texto(linea, "5215512345678@s.whatsapp.net", "¿Sigue ahí?", motor.nuevo_id_mensaje(linea))
    await motor.detener()


async def test_130429_reintenta_con_espera_y_131056_pide_esperar(oficial: Any, graph: GraphFalso, linea: int) -> None:
    import asyncio

    from enlace.reloj import RelojManual

    reloj = RelojManual()
    motor = await _motor(oficial, reloj, [])
    graph.errores_pendientes = [130429, 130429]
    tarea = asyncio.create_task(
        motor.enviar_plantilla(
            linea, "525512345678@s.whatsapp.net", nombre="p", idioma="es_MX", parametros=[], wa_message_id="enl.A"
        )
    )
    for _ in range(50):
        await asyncio.sleep(0.02)
        if reloj.proximo_despertar is not None:
            await reloj.avanzar(1)
        if tarea.done():
            break
        await reloj.avanzar(2)
    assert (await tarea).wa_message_id == "enl.A"
    assert graph.peticiones == 3 and len(graph.enviados) == 1
    graph.errores_pendientes = [ERROR_PAR]
    with pytest.raises(ErrorCloud) as par:
        await motor.enviar_plantilla(
            linea, "525512345678@s.whatsapp.net", nombre="p", idioma="es_MX", parametros=[], wa_message_id="enl.B"
        )
    assert par.value.reintentable and par.value.reintentar_en_s
    await motor.detener()


async def test_token_expirado_cierra_la_sesion_con_mensaje_claro(
    oficial: Any, graph: GraphFalso, linea: int, reloj: Any
) -> None:
    eventos: list[Any] = []
    motor = await _motor(oficial, reloj, eventos)
    graph.token_expirado = True
    with pytest.raises(SesionNoDisponible):
        await motor.enviar_plantilla(
            linea, "525512345678@s.whatsapp.net", nombre="p", idioma="es_MX", parametros=[], wa_message_id="enl.C"
        )
    desconexion = eventos[-1]
    assert isinstance(desconexion, EventoDesconectado)
    assert desconexion.clase == ClaseDesconexion.sesion_cerrada and "token" in desconexion.detalle
    await motor.iniciar_sesion(linea, OpcionesInicio())
    assert isinstance(eventos[-1], EventoDesconectado) and eventos[-1].clase == ClaseDesconexion.sesion_cerrada
    await motor.detener()


# ---- statuses, opt-outs and coexistence through capture -------------------------------------------


async def _fila_enviada(nucleo: Any, linea: int, propio: str, telefono: str = "+525512345678") -> int:
    async with nucleo.fabrica() as s:
        fila_id = await s.scalar(
            text("""INSERT INTO mensajes_enviados (agente_id, origen, numero_destino, mensaje, wa_message_id, estado,
                                                   enviado_at)
                    VALUES (:a, 'campana', :t, 'Hola Ana', :w, 'enviado', now()) RETURNING id"""),
            {"a": linea, "t": telefono, "w": propio},
        )
        await s.commit()
        return int(fila_id)


async def test_estados_por_webhook_se_aplican_a_nuestra_fila(
    oficial: Any, graph: GraphFalso, linea: int, reloj: Any, cliente: Any, db: Any
) -> None:
    motor = await _motor(oficial, reloj, [])
    propio = motor.nuevo_id_mensaje(linea)
    await motor.enviar_plantilla(
        linea, "525512345678@s.whatsapp.net", nombre="p", idioma="es_MX", parametros=[], wa_message_id=propio
    )
    fila_id = await _fila_enviada(oficial, linea, propio)
    envio = graph.enviados[-1]
    # Out of order and repeated: read before delivered, delivered twice.
    for estado in ("read", "delivered", "delivered", "sent"):
        assert (await _post(cliente, graph, graph.estado(envio, estado))).status_code == 200
    fila = (
        await db.execute(
            text(
                "SELECT estado, entregado_at IS NOT NULL, leido_at IS NOT NULL, wa_message_id "
                "FROM mensajes_enviados WHERE id = :i"
            ),
            {"i": fila_id},
        )
    ).one()
    assert fila == ("leido", True, True, propio)
    eventos = await db.scalar(text("SELECT count(*) FROM eventos_entrega WHERE mensaje_id = :i"), {"i": fila_id})
    assert eventos == 4
    await motor.detener()


async def test_fallo_131026_marca_fallido_con_su_codigo(
    oficial: Any, graph: GraphFalso, linea: int, reloj: Any, cliente: Any, db: Any
) -> None:
    motor = await _motor(oficial, reloj, [])
    propio = motor.nuevo_id_mensaje(linea)
    await motor.enviar_plantilla(
        linea, "525512345679@s.whatsapp.net", nombre="p", idioma="es_MX", parametros=[], wa_message_id=propio
    )
    fila_id = await _fila_enviada(oficial, linea, propio, "+525512345679")
    await _post(cliente, graph, graph.estado(graph.enviados[-1], "failed", codigo_error=131026))
    estado, codigo = (
        await db.execute(text("SELECT estado, codigo_error FROM mensajes_enviados WHERE id = :i"), {"i": fila_id})
    ).one()
    assert (estado, codigo) == ("fallido", 131026)
    await motor.detener()


async def test_preferencia_de_marketing_stop_suprime_el_numero(
    oficial: Any, graph: GraphFalso, cliente: Any, db: Any
) -> None:
    r = await _post(cliente, graph, graph.preferencia("5215512340000", "stop"))
    assert r.status_code == 200
    assert await db.scalar(text("SELECT count(*) FROM supresiones WHERE telefono = '+525512340000'")) == 1


async def test_eco_de_coexistencia_se_guarda_como_enviado_por_el_agente(
    oficial: Any, graph: GraphFalso, linea: int, cliente: Any, db: Any, ana: int
) -> None:
    r = await _post(cliente, graph, graph.eco("5215512345678", "Le marco en 5 minutos"))
    assert r.status_code == 200
    fila = (await db.execute(text("SELECT origen, mensaje, numero_destino FROM mensajes_enviados"))).one()
    assert fila == ("telefono", "Le marco en 5 minutos", "+525512345678")


# ---- hand-off ---------------------------------------------------------------------------------------


async def test_transferir_contacto_a_un_agente(
    oficial: Any, linea: int, cliente_como: Any, equipo: Any, crear_usuario: Any, db: Any
) -> None:
    eq = await equipo("Norte")
    supervisor = await cliente_como("supervisor", equipo_id=eq)
    agente = await crear_usuario("agente", equipo_id=eq)
    async with oficial.fabrica() as s:
        contacto = Contacto(nombre="Ana", telefono="+525512345678", agente_id=None)
        s.add(contacto)
        await s.commit()
        contacto_id = contacto.id
    r = await supervisor.post(
        "/api/oficial/transferir", json={"contactoId": contacto_id, "agenteId": agente["agente_id"]}
    )
    assert r.status_code == 200, r.text
    assert await db.scalar(select(Contacto.agente_id).where(Contacto.id == contacto_id)) == agente["agente_id"]
    assert await db.scalar(text("SELECT count(*) FROM auditoria WHERE accion = 'contacto.transferir'")) == 1
    otro_agente = await cliente_como("agente", equipo_id=eq)
    r = await otro_agente.post(
        "/api/oficial/transferir", json={"contactoId": contacto_id, "agenteId": otro_agente.usuario["agente_id"]}
    )
    assert r.status_code == 403


# ---- the hybrid model end to end ---------------------------------------------------------------------


async def test_flujo_hibrido_campana_oficial_respuesta_traspaso_y_respuesta_del_agente(
    oficial: Any,
    graph: GraphFalso,
    linea: int,
    reloj: Any,
    cliente: Any,
    cliente_como: Any,
    equipo: Any,
    db: Any,
) -> None:
    """Official campaign → reply → hand-off to an agent → agent replies on its own number → one history."""
    import asyncio

    from enlace.envios.despachador import Despachador
    from enlace.motores.enrutado import MotorEnrutado
    from enlace.motores.simulador import EstadoSocket
    from tests.integration.test_campanas import RAPIDO, VARIANTES, correr_hasta, crear_cartera

    eq = await equipo("Prospección")
    admin = await cliente_como("admin")
    supervisor = await cliente_como("supervisor", equipo_id=eq)
    agente = await cliente_como("agente", equipo_id=eq)
    agente_id = agente.usuario["agente_id"]
    async with oficial.fabrica() as s:
        await s.execute(text("UPDATE agentes SET equipo_id = :e WHERE id = :l"), {"e": eq, "l": linea})
        await s.commit()

    motor = oficial.motor
    assert isinstance(motor, MotorEnrutado) and motor.es_oficial(linea) and not motor.es_oficial(agente_id)

    async def ignorar(_evento: Any) -> None:
        return None

    await motor.iniciar(ignorar)
    simulador = motor.principal
    await simulador.iniciar_sesion(agente_id, OpcionesInicio())
    await simulador.escanear_qr(agente_id)
    for _ in range(50):
        if simulador.estado_socket(agente_id) == EstadoSocket.conectado:
            break
        await reloj.avanzar(1)

    # 1) The official line's campaign: an approved template with cartera columns as parameters.
    cartera_id, telefonos = await crear_cartera(oficial, linea, 3)
    plantilla = await admin.post(
        "/api/plantillas",
        json={
            "nombre": "Oferta IMSS (oficial)",
            "variantes": VARIANTES[:1],
            "plantilla_oficial": {
                "nombre": "oferta_credito_imss",
                "idioma": "es_MX",
                "parametros": ["nombre", "monto"],
            },
        },
    )
    assert plantilla.status_code == 201, plantilla.text
    campana = await admin.post(
        "/api/campana",
        json={"nombre": "Prospección 800", "carteraId": cartera_id, "agenteId": linea, "canal": "oficial"},
    )
    assert campana.status_code == 201, campana.text
    campana_id = campana.json()["id"]

    async def conectado(aid: int) -> bool:
        return aid == linea

    await arrendar(oficial.fabrica, linea, motor="cloud_api")
    despachador = Despachador(
        reloj=reloj, fabrica=oficial.fabrica, motor=motor, nodo_id="prueba", esta_conectado=conectado
    )
    oficial.despachador = despachador
    await despachador.iniciar()
    try:
        r = await admin.post(
            "/api/campana/iniciar",
            json={"campanaId": campana_id, "plantillaId": plantilla.json()["id"], "configDelay": RAPIDO},
        )
        assert r.status_code == 200, r.text
        despachador.asegurar(linea)

        async def terminada() -> bool:
            async with oficial.fabrica() as s:
                return (
                    await s.scalar(text("SELECT estado FROM campanas WHERE id = :c"), {"c": campana_id}) == "completada"
                )

        await correr_hasta(reloj, despachador, terminada)
    finally:
        await despachador.detener()
    assert len(graph.enviados) == 3
    # Matched by number whatever the form the dispatcher addressed (521… or 52…: comun.telefonos).
    plantillas_enviadas = {clave_telefono(e.cuerpo["to"]): e.cuerpo["template"] for e in graph.enviados}
    primero = plantillas_enviadas["52" + telefonos[0][3:]]
    assert primero["name"] == "oferta_credito_imss"
    assert [p["text"] for p in primero["components"][0]["parameters"]] == ["Persona 0", "$10,000.00"]

    # 2) Receipts and the person's answer arrive by signed webhook.
    envio = next(e for e in graph.enviados if clave_telefono(e.cuerpo["to"]) == "52" + telefonos[0][3:])
    ahora = int(reloj.ahora().timestamp())
    for estado in ("delivered", "read"):
        assert (await _post(cliente, graph, graph.estado(envio, estado, ts=ahora))).status_code == 200
    respuesta = graph.mensaje_entrante("52" + telefonos[0][3:], "Sí me interesa, ¿me pueden llamar?", ts=ahora + 60)
    assert (await _post(cliente, graph, respuesta)).status_code == 200
    fila = (
        await db.execute(
            text("SELECT estado, wa_message_id, wamid FROM mensajes_enviados WHERE numero_destino = :t"),
            {"t": telefonos[0]},
        )
    ).one()
    assert fila.estado == "leido" and fila.wa_message_id == envio.cuerpo["biz_opaque_callback_data"]
    assert fila.wamid == envio.wamid, "el despachador guarda el wamid que devolvió Meta"
    contacto_id, estado_contacto = (
        await db.execute(text("SELECT id, estado FROM contactos WHERE telefono = :t"), {"t": telefonos[0]})
    ).one()
    assert estado_contacto == "respondio"
    assert await db.scalar(text("SELECT campana_id FROM mensajes_recibidos")) == campana_id

    # 3) The supervisor hands the interested person to an agent of the team.
    r = await supervisor.post("/api/oficial/transferir", json={"contactoId": contacto_id, "agenteId": agente_id})
    assert r.status_code == 200, r.text

    # 4) The agent answers from its own number (the simulator), inside the compliance rules.
    await reloj.avanzar(120)

    async def agente_conectado(aid: int) -> bool:
        return aid == agente_id

    await arrendar(oficial.fabrica, agente_id)
    despachador = Despachador(
        reloj=reloj, fabrica=oficial.fabrica, motor=motor, nodo_id="prueba", esta_conectado=agente_conectado
    )
    oficial.despachador = despachador
    await despachador.iniciar()
    try:
        r = await agente.post(
            f"/api/conversaciones/{contacto_id}/responder",
            json={"texto": "Con gusto, le marco en 10 minutos. Soy Laura de Créditos Enlace."},
        )
        assert r.status_code == 202, r.text
        for _ in range(500):
            if simulador.ledger.por_telefono().get(telefonos[0]):
                break
            await asyncio.sleep(0.02)
    finally:
        await despachador.detener()
        oficial.despachador = None
    recibidos = simulador.ledger.por_telefono()[telefonos[0]]
    assert [t for _, t, *_ in recibidos] == ["Con gusto, le marco en 10 minutos. Soy Laura de Créditos Enlace."]

    # 5) One contact history, across the official line and the agent's number, visible to the agent.
    historia = (await agente.get(f"/api/conversaciones/{contacto_id}/mensajes")).json()
    assert [(m["direccion"], m["agente_id"]) for m in historia] == [
        ("saliente", linea),
        ("entrante", linea),
        ("saliente", agente_id),
    ]
    await motor.detener()
