"""Official lines managed through the API, against the Graph API stand-in: credentials, verification,
quality and tier, the 24 h tier gate, pricing and costs, template review, quick replies, wamid lookups
and a 360dialog-style BSP."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import text

from enlace.motores.cloud_api.motor import MotorCloudApi
from enlace.motores.cloud_api.webhook import PAYLOAD_BAJA, PAYLOAD_NO_INTERESADO
from enlace.oficial import lineas as lineas_mod
from enlace.oficial.eventos import revisar_linea
from enlace.sesiones.cifrado import Llavero
from tests.soporte.graph_api_falso import GraphFalso


@pytest.fixture
async def graph() -> Any:
    g = GraphFalso()
    g.aprobar("oferta", cuerpo=1, botones=["quick_reply", "quick_reply"])
    g.aprobar("aviso_pago", cuerpo=0, categoria="UTILITY")
    await g.iniciar()
    yield g
    await g.detener()


@pytest.fixture
async def captura(nucleo: Any) -> Any:
    from enlace.captura.service import Captura

    c = Captura(nucleo.fabrica, nucleo.reloj, nucleo.settings)
    await c.iniciar()
    nucleo.captura = c
    yield c
    nucleo.captura = None
    await c.detener()


async def _alta(admin: Any, graph: GraphFalso, equipo_id: int, **extra: Any) -> dict[str, Any]:
    datos = {
        "phone_number_id": graph.phone_number_id,
        "waba_id": graph.waba_id,
        "token": graph.token,
        "app_secret": graph.app_secret,
        "numero": "+525510000000",
        "base_url": graph.url,
        "equipo_id": equipo_id,
        "proveedor": graph.proveedor,
        **extra,
    }
    r = await admin.post("/api/oficial/lineas", json=datos)
    assert r.status_code == 201, r.text
    return r.json()


@pytest.fixture
async def linea(cliente_como: Any, equipo: Any, graph: GraphFalso) -> dict[str, Any]:
    eq = await equipo("Prospección")
    admin = await cliente_como("admin")
    return {**(await _alta(admin, graph, eq)), "admin": admin, "equipo": eq}


async def _post(cliente: Any, graph: GraphFalso, payload: dict[str, Any]) -> Any:
    cuerpo, cabeceras = graph.firmado(payload)
    r = await cliente.post("/api/webhooks/whatsapp", content=cuerpo, headers=cabeceras)
    assert r.status_code == 200, r.text
    return r


async def _motor(nucleo: Any, reloj: Any) -> MotorCloudApi:
    async with nucleo.fabrica() as s:
        numeros = await lineas_mod.numeros_activos(s, Llavero.desde_settings(nucleo.settings))
    motor = MotorCloudApi(numeros, reloj)

    async def nada(_: Any) -> None:
        return None

    await motor.iniciar(nada)
    return motor


async def _fila(nucleo: Any, agente_id: int, propio: str, wamid: str | None, telefono: str, **extra: Any) -> int:
    campos = {"campana_id": None, "contacto_id": None, **extra}
    async with nucleo.fabrica() as s:
        fila_id = await s.scalar(
            text("""INSERT INTO mensajes_enviados (agente_id, campana_id, contacto_id, origen, numero_destino, mensaje,
                                                   wa_message_id, wamid, estado, enviado_at, intentado_at, tipo)
                    VALUES (:a, :c, :k, 'campana', :t, 'Hola', :p, :w, 'enviado', now(), now(), 'plantilla')
                    RETURNING id"""),
            {
                "a": agente_id,
                "c": campos["campana_id"],
                "k": campos["contacto_id"],
                "t": telefono,
                "p": propio,
                "w": wamid,
            },
        )
        await s.commit()
        return int(fila_id)


# ---- item 5: lines managed by admins ------------------------------------------------------------------


async def test_alta_cifra_secretos_verifica_rota_y_deshabilita(
    linea: dict[str, Any], graph: GraphFalso, db: Any, cliente_como: Any, nucleo: Any
) -> None:
    admin = linea["admin"]
    assert "token" not in linea and "app_secret" not in linea, "los secretos nunca salen por la API"
    assert linea["agente_nombre"] == "Línea oficial +525510000000" and linea["equipo_id"] == linea["equipo"]
    blob = await db.scalar(text("SELECT secretos FROM lineas_oficiales WHERE id = :i"), {"i": linea["id"]})
    assert graph.token.encode() not in blob and graph.app_secret.encode() not in blob

    r = await admin.post(f"/api/oficial/lineas/{linea['id']}/verificar")
    assert r.status_code == 200, r.text
    v = r.json()
    assert v["verificada_at"] and v["calidad"] == "GREEN" and v["nivel"] == "TIER_1K" and v["limite_24h"] == 1000
    assert v["nombre_verificado"] == "Créditos Enlace"

    # Rotation: a new token is stored (encrypted) and the line must be verified again.
    graph.token = "EAAtokenrotado1234"
    r = await admin.patch(f"/api/oficial/lineas/{linea['id']}", json={"token": "EAAtokenrotado1234"})
    assert r.status_code == 200 and r.json()["verificada_at"] is None and r.json()["secretos_rotados_at"]
    r = await admin.post(f"/api/oficial/lineas/{linea['id']}/verificar")
    assert r.json()["verificada_at"], r.json()["verificacion_error"]
    graph.token = "EAAotroquenoes"
    r = await admin.post(f"/api/oficial/lineas/{linea['id']}/verificar")
    assert r.json()["verificada_at"] is None and "190" in r.json()["verificacion_error"]

    # Disabled: the engine stops serving it.
    r = await admin.patch(f"/api/oficial/lineas/{linea['id']}", json={"activa": False})
    assert r.status_code == 200 and r.json()["activa"] is False
    async with nucleo.fabrica() as s:
        assert await lineas_mod.numeros_activos(s, Llavero.desde_settings(nucleo.settings)) == []
    assert await db.scalar(text("SELECT count(*) FROM auditoria WHERE accion LIKE 'linea_oficial.%'")) == 3

    supervisor = await cliente_como("supervisor", equipo_id=linea["equipo"])
    vistas = (await supervisor.get("/api/oficial/lineas")).json()
    assert [x["id"] for x in vistas] == [linea["id"]]
    historial = (await supervisor.get(f"/api/oficial/lineas/{linea['id']}/historial")).json()
    assert {h["evento"] for h in historial} >= {"creada", "correcta", "fallida", "deshabilitada"}
    assert (await supervisor.patch(f"/api/oficial/lineas/{linea['id']}", json={"activa": True})).status_code == 403
    agente = await cliente_como("agente", equipo_id=linea["equipo"])
    assert (await agente.get("/api/oficial/lineas")).status_code == 403


async def test_alta_con_datos_malos_dice_el_campo(cliente_como: Any, equipo: Any, graph: GraphFalso) -> None:
    admin = await cliente_como("admin")
    eq = await equipo("Norte")
    base = {"phone_number_id": "1100", "waba_id": "2200000", "token": "EAAxxxxxxxxxxx", "base_url": graph.url}
    r = await admin.post("/api/oficial/lineas", json={**base, "phone_number_id": "11000001", "equipo_id": eq})
    assert r.status_code == 422 and "app_secret" in r.json()["error"]["mensaje"]
    r = await admin.post(
        "/api/oficial/lineas", json={**base, "phone_number_id": "11000001", "app_secret": "s", "equipo_id": 999}
    )
    assert r.status_code == 422 and "equipo_id" in r.json()["error"]["mensaje"]
    r = await admin.post(
        "/api/oficial/lineas",
        json={**base, "phone_number_id": "11000001", "app_secret": "s", "equipo_id": eq, "base_url": "ftp://x"},
    )
    assert r.status_code == 422 and "base_url" in r.json()["error"]["mensaje"]
    r = await admin.post("/api/oficial/lineas", json={**base, "app_secret": "s", "equipo_id": eq})
    assert r.status_code == 422 and "phone_number_id" in r.text, "phone_number_id demasiado corto"


async def test_lineas_de_settings_se_migran_cifradas(nucleo: Any, graph: GraphFalso, db: Any, url_bd: str) -> None:
    import json

    from enlace.agentes.models import Agente
    from tests.conftest import ajustes_prueba

    async with nucleo.fabrica() as s:
        agente = Agente(nombre="Línea 800")
        s.add(agente)
        await s.commit()
        agente_id = agente.id
    settings = ajustes_prueba(url_bd, cloud_numeros=json.dumps([graph.configuracion(agente_id)]))
    llavero = Llavero.desde_settings(settings)
    for _ in range(2):  # idempotent
        async with nucleo.fabrica() as s:
            await lineas_mod.migrar_desde_settings(s, settings, llavero, nucleo.reloj.ahora())
            await s.commit()
    assert await db.scalar(text("SELECT count(*) FROM lineas_oficiales")) == 1
    async with nucleo.fabrica() as s:
        (numero,) = await lineas_mod.numeros_activos(s, llavero)
    assert numero.token == graph.token and numero.agente_id == agente_id


# ---- item 3: quality, tier, account events; the 24 h tier gate ---------------------------------------------


async def test_calidad_nivel_y_cuenta_por_webhook(
    linea: dict[str, Any], graph: GraphFalso, cliente: Any, db: Any, captura: Any
) -> None:
    await _post(cliente, graph, graph.calidad_numero("FLAGGED"))
    await _post(cliente, graph, graph.calidad_numero("DOWNGRADE", "TIER_250"))
    fila = (await db.execute(text("SELECT marcada, nivel FROM lineas_oficiales"))).one()
    assert fila == (True, "TIER_250")
    await _post(cliente, graph, graph.calidad_numero("UNFLAGGED"))
    assert await db.scalar(text("SELECT marcada FROM lineas_oficiales")) is False
    eventos = [
        e for (e,) in (await db.execute(text("SELECT evento FROM historial_lineas_oficiales ORDER BY id"))).all()
    ]
    assert eventos[-3:] == ["FLAGGED", "DOWNGRADE", "UNFLAGGED"]
    await _post(
        cliente,
        graph,
        graph.cuenta(
            "ACCOUNT_RESTRICTION",
            restriction_info=[{"restriction_type": "RESTRICTED_BIZ_INITIATED_MESSAGING", "expiration": 1900000000}],
        ),
    )
    parada = (await db.execute(text("SELECT motivo, detalle FROM paradas_seguridad WHERE resuelta_at IS NULL"))).one()
    assert parada.motivo == "oficial_cuenta" and "RESTRICTED_BIZ_INITIATED_MESSAGING" in parada.detalle


async def test_tope_de_nivel_en_24h_y_pausa_de_marketing(linea: dict[str, Any], nucleo: Any, db: Any) -> None:
    agente_id = linea["agente_id"]
    await db.execute(text("UPDATE lineas_oficiales SET nivel = 'TIER_50'"))
    await db.commit()
    ahora = nucleo.reloj.ahora()
    async with nucleo.fabrica() as s:
        for i in range(50):
            await s.execute(
                text("""INSERT INTO mensajes_enviados (agente_id, origen, numero_destino, wa_message_id, estado,
                                                       intentado_at, enviado_at, tipo)
                        VALUES (:a, 'campana', :t, :w, 'enviado', :m, :m, 'plantilla')"""),
                {
                    "a": agente_id,
                    "t": f"+5255100{i:05d}",
                    "w": f"enl.T{i}",
                    "m": ahora - timedelta(hours=23, minutes=i),
                },
            )
        await s.commit()
    oferta = {"plantilla": {"nombre": "oferta", "categoria": "MARKETING"}}
    async with nucleo.fabrica() as s:
        bloqueo = await revisar_linea(
            s, agente_id=agente_id, telefono="+525599999999", tipo="plantilla", medio=oferta, ahora=ahora
        )
        assert bloqueo is not None and bloqueo.codigo == "limite_nivel" and "50" in bloqueo.mensaje
        # Frees up when the oldest of the 50 leaves the rolling window.
        assert bloqueo.reintentar_en == ahora - timedelta(hours=23, minutes=49) + timedelta(hours=24)
        # Someone already reached inside the window is no new conversation.
        assert (
            await revisar_linea(
                s, agente_id=agente_id, telefono="+525510000003", tipo="plantilla", medio=oferta, ahora=ahora
            )
            is None
        )
        assert (
            await revisar_linea(
                s,
                agente_id=agente_id,
                telefono="+525599999999",
                tipo="plantilla",
                medio=oferta,
                ahora=ahora + timedelta(hours=2),
            )
            is None
        ), "después de la ventana hay cupo"
    await db.execute(text("UPDATE lineas_oficiales SET calidad = 'RED', nivel = 'TIER_UNLIMITED'"))
    await db.commit()
    async with nucleo.fabrica() as s:
        pausa = await revisar_linea(
            s, agente_id=agente_id, telefono="+525599999999", tipo="plantilla", medio=oferta, ahora=ahora
        )
        assert pausa is not None and pausa.codigo == "linea_pausada" and "ROJA" in pausa.mensaje
        utilidad = {"plantilla": {"nombre": "aviso_pago", "categoria": "UTILITY"}}
        assert (
            await revisar_linea(
                s, agente_id=agente_id, telefono="+525599999999", tipo="plantilla", medio=utilidad, ahora=ahora
            )
            is None
        ), "la calidad roja pausa marketing, no utilidad"


# ---- item 8 + 2: wamid lookups, pricing and costs -------------------------------------------------------------


async def test_wamid_encuentra_la_fila_y_el_precio_da_costos(
    linea: dict[str, Any], graph: GraphFalso, nucleo: Any, reloj: Any, cliente: Any, db: Any, captura: Any
) -> None:
    agente_id = linea["agente_id"]
    admin = linea["admin"]
    async with nucleo.fabrica() as s:
        campana_id = await s.scalar(
            text(
                "INSERT INTO campanas (agente_id, nombre, canal, zona_horaria)"
                " VALUES (:a, 'Otoño', 'oficial', 'America/Mexico_City') RETURNING id"
            ),
            {"a": agente_id},
        )
        contacto_id = await s.scalar(
            text(
                "INSERT INTO contactos (nombre, telefono, agente_id) VALUES ('Ana', '+525512345678', :a) RETURNING id"
            ),
            {"a": agente_id},
        )
        await s.commit()
    motor = await _motor(nucleo, reloj)
    envios = []
    for i, telefono in enumerate(("5215512345678", "5215512345679")):
        r = await motor.enviar_plantilla(
            agente_id,
            f"{telefono}@s.whatsapp.net",
            nombre="oferta",
            idioma="es_MX",
            componentes=[{"type": "body", "parameters": [{"type": "text", "text": "Ana"}]}],
            wa_message_id=f"enl.P{i}",
        )
        assert r.wamid and r.wamid == graph.enviados[-1].wamid, "el motor devuelve el wamid de Meta"
        await _fila(
            nucleo,
            agente_id,
            f"enl.P{i}",
            r.wamid,
            "+52" + telefono[3:],
            campana_id=campana_id,
            contacto_id=contacto_id if i == 0 else None,
        )
        envios.append(graph.enviados[-1])
    await motor.detener()

    # Statuses without biz_opaque_callback_data find the row by wamid.
    await _post(cliente, graph, graph.estado(envios[0], "delivered", con_propio=False, categoria="marketing"))
    await _post(
        cliente, graph, graph.estado(envios[1], "read", con_propio=False, categoria="service", facturable=False)
    )
    estados = dict((await db.execute(text("SELECT wa_message_id, estado FROM mensajes_enviados ORDER BY id"))).all())
    assert estados == {"enl.P0": "entregado", "enl.P1": "leido"}
    # A quoted reply and a reaction name only the wamid: both point at our row's id.
    await _post(cliente, graph, graph.mensaje_entrante("5215512345678", "¿Cuánto sería?", responde_a=envios[0]))
    await _post(cliente, graph, graph.reaccion("5215512345678", envios[0], "👍"))
    refs = {r for (r,) in (await db.execute(text("SELECT referencia_id FROM mensajes_recibidos"))).all()}
    assert refs == {"enl.P0"}

    precios = (
        await db.execute(text("SELECT categoria, facturable, modelo FROM precios_mensajes ORDER BY mensaje_id"))
    ).all()
    assert precios == [("marketing", True, "PMP"), ("service", False, "PMP")]
    r = await admin.get("/api/oficial/costos", params={"por": "campana"})
    assert r.status_code == 200, r.text
    costos = r.json()
    assert costos["total_mxn"] == "0.56"
    assert {(f["clave"], f["categoria"], f["facturables"]) for f in costos["filas"]} == {
        (str(campana_id), "marketing", 1),
        (str(campana_id), "service", 0),
    }
    r = await admin.put("/api/oficial/tarifas", json=[{"categoria": "marketing", "precio_mxn": "1.2500"}])
    assert r.status_code == 200, r.text
    mes = (await admin.get("/api/oficial/costos", params={"por": "mes"})).json()
    assert mes["total_mxn"] == "1.25" and mes["filas"][0]["clave"].count("-") == 1
    r = await admin.put("/api/oficial/tarifas", json=[{"categoria": "sms", "precio_mxn": "1"}])
    assert r.status_code == 422 and "tarifas[0].categoria" in r.json()["error"]["mensaje"]


# ---- item 4: template review and quick replies ------------------------------------------------------------------


async def test_plantilla_pausada_detiene_sus_campanas_y_sincronizar(
    linea: dict[str, Any], graph: GraphFalso, nucleo: Any, cliente: Any, db: Any, captura: Any
) -> None:
    admin = linea["admin"]
    r = await admin.post(
        "/api/plantillas",
        json={
            "nombre": "Oferta",
            "variantes": ["Hola {nombre}"],
            "plantilla_oficial": {"nombre": "oferta", "idioma": "es_MX"},
        },
    )
    plantilla_id = r.json()["id"]
    async with nucleo.fabrica() as s:
        campana_id = await s.scalar(
            text(
                "INSERT INTO campanas (agente_id, nombre, canal, estado, plantilla_id, zona_horaria)"
                " VALUES (:a, 'Otoño', 'oficial', 'activa', :p, 'America/Mexico_City') RETURNING id"
            ),
            {"a": linea["agente_id"], "p": plantilla_id},
        )
        await s.commit()
    await _post(cliente, graph, graph.estado_plantilla("oferta", "PAUSED", motivo="LOW_QUALITY"))
    estado, motivo = (
        await db.execute(text("SELECT estado, motivo_pausa FROM campanas WHERE id = :c"), {"c": campana_id})
    ).one()
    assert estado == "pausada" and "oferta" in motivo and "pausada" in motivo
    assert await db.scalar(text("SELECT estado_meta FROM plantillas")) == "PAUSED"

    # The refresh call reads Meta's template manager.
    graph.plantillas[("oferta", "es_MX")]["status"] = "REJECTED"
    graph.plantillas[("oferta", "es_MX")]["rejected_reason"] = "INVALID_FORMAT"
    r = await admin.post("/api/oficial/plantillas/sincronizar")
    assert r.status_code == 200, r.text
    assert r.json()["plantillas"] == 2 and r.json()["actualizadas"] >= 1
    assert (await db.execute(text("SELECT estado_meta, motivo_meta FROM plantillas"))).one() == (
        "REJECTED",
        "INVALID_FORMAT",
    )


async def test_botones_de_respuesta_rapida_son_baja_y_no_interesado(
    linea: dict[str, Any], graph: GraphFalso, nucleo: Any, reloj: Any, cliente: Any, db: Any, captura: Any
) -> None:
    agente_id = linea["agente_id"]
    async with nucleo.fabrica() as s:
        for telefono in ("+525512345678", "+525512345679"):
            await s.execute(
                text("INSERT INTO contactos (nombre, telefono, agente_id, estado) VALUES ('X', :t, :a, 'contactado')"),
                {"t": telefono, "a": agente_id},
            )
        await s.commit()
    motor = await _motor(nucleo, reloj)
    botones = [
        {"type": "body", "parameters": [{"type": "text", "text": "Ana"}]},
        {
            "type": "button",
            "sub_type": "quick_reply",
            "index": "0",
            "parameters": [{"type": "payload", "payload": PAYLOAD_NO_INTERESADO}],
        },
        {
            "type": "button",
            "sub_type": "quick_reply",
            "index": "1",
            "parameters": [{"type": "payload", "payload": PAYLOAD_BAJA}],
        },
    ]
    envios = []
    for i, telefono in enumerate(("5215512345678", "5215512345679")):
        r = await motor.enviar_plantilla(
            agente_id,
            f"{telefono}@s.whatsapp.net",
            nombre="oferta",
            idioma="es_MX",
            componentes=botones,
            wa_message_id=f"enl.B{i}",
        )
        await _fila(nucleo, agente_id, f"enl.B{i}", r.wamid, "+52" + telefono[3:])
        envios.append(graph.enviados[-1])
    await motor.detener()
    # Labels that a text classifier would not read as an opt-out: the payload decides.
    await _post(cliente, graph, graph.boton("5215512345678", envios[0], "Quizá después", PAYLOAD_NO_INTERESADO))
    await _post(cliente, graph, graph.boton("5215512345679", envios[1], "Dejar de recibir", PAYLOAD_BAJA))
    await captura.vaciar()
    estados = dict((await db.execute(text("SELECT telefono, estado FROM contactos"))).all())
    assert estados["+525512345678"] == "no_interesado"
    assert await db.scalar(text("SELECT count(*) FROM supresiones WHERE telefono = '+525512345679'")) == 1
    assert await db.scalar(text("SELECT count(*) FROM supresiones WHERE telefono = '+525512345678'")) == 0


async def test_la_plantilla_se_valida_como_en_meta(
    linea: dict[str, Any], graph: GraphFalso, nucleo: Any, reloj: Any
) -> None:
    from enlace.motores.cloud_api.motor import ErrorCloud

    motor = await _motor(nucleo, reloj)
    casos = [
        ("no_existe", [], 132001),
        ("oferta", [], 132000),  # the body needs one parameter
        (
            "oferta",
            [
                {"type": "body", "parameters": [{"type": "text", "text": "Ana"}]},
                {"type": "header", "parameters": [{"type": "image", "image": {"link": "http://x/a.png"}}]},
            ],
            132000,
        ),
    ]
    try:
        for nombre, componentes, codigo in casos:
            with pytest.raises(ErrorCloud) as exc:
                await motor.enviar_plantilla(
                    linea["agente_id"],
                    "5215512345678@s.whatsapp.net",
                    nombre=nombre,
                    idioma="es_MX",
                    componentes=componentes,
                    wa_message_id="enl.V",
                )
            assert exc.value.codigo == codigo, (nombre, componentes)
        assert graph.enviados == []
    finally:
        await motor.detener()


# ---- item 6: a 360dialog-style BSP ----------------------------------------------------------------------------


async def test_proveedor_360dialog_envia_verifica_y_recibe_webhooks_sin_firma(
    cliente_como: Any, equipo: Any, nucleo: Any, reloj: Any, cliente: Any, db: Any, captura: Any
) -> None:
    bsp = GraphFalso(proveedor="360dialog", phone_number_id="330000000000003", token="d360-api-key-de-prueba")
    bsp.aprobar("oferta", cuerpo=1)
    await bsp.iniciar()
    try:
        admin = await cliente_como("admin")
        linea = await _alta(admin, bsp, await equipo("BSP"), app_secret="")
        assert linea["webhook_url"] == f"/api/webhooks/whatsapp/bsp/{linea['verify_token']}"
        v = (await admin.post(f"/api/oficial/lineas/{linea['id']}/verificar")).json()
        assert v["verificada_at"], v["verificacion_error"]

        motor = await _motor(nucleo, reloj)
        r = await motor.enviar_plantilla(
            linea["agente_id"],
            "5215512345678@s.whatsapp.net",
            nombre="oferta",
            idioma="es_MX",
            componentes=[{"type": "body", "parameters": [{"type": "text", "text": "Ana"}]}],
            wa_message_id="enl.D",
        )
        await motor.detener()
        assert r.wamid and bsp.enviados[-1].cuerpo["biz_opaque_callback_data"] == "enl.D"
        await _fila(nucleo, linea["agente_id"], "enl.D", r.wamid, "+525512345678")

        cuerpo, _ = bsp.firmado(bsp.estado(bsp.enviados[-1], "delivered"))
        sin_firma = {"content-type": "application/json"}
        # Meta's signed route refuses it; the line's secret URL takes it; a wrong secret is refused.
        assert (await cliente.post("/api/webhooks/whatsapp", content=cuerpo, headers=sin_firma)).status_code == 401
        assert (
            await cliente.post("/api/webhooks/whatsapp/bsp/otra-clave", content=cuerpo, headers=sin_firma)
        ).status_code == 403
        ok = await cliente.post(linea["webhook_url"], content=cuerpo, headers=sin_firma)
        assert ok.status_code == 200, ok.text
        assert (
            await db.scalar(text("SELECT estado FROM mensajes_enviados WHERE wa_message_id = 'enl.D'")) == "entregado"
        )
    finally:
        await bsp.detener()


async def test_plantilla_rica_de_la_campana_pasa_la_validacion_de_meta(
    linea: dict[str, Any], graph: GraphFalso, nucleo: Any, reloj: Any
) -> None:
    """Header document, named body and three buttons, built by the campaign path, accepted by the stand-in."""
    from enlace.campanas.service import _fila_oficial, _plantilla_oficial
    from enlace.carteras.models import Contacto

    graph.aprobar(
        "oferta_doc", cuerpo=["cliente", "monto"], encabezado="document", botones=["quick_reply", "quick_reply", "url"]
    )
    config = _plantilla_oficial(
        {
            "nombre": "oferta_doc",
            "parametros_nombrados": {"cliente": "nombre", "monto": "monto"},
            "encabezado": {"tipo": "document", "url": "https://cdn.example/oferta.pdf", "nombre_archivo": "oferta.pdf"},
            "botones": [
                {"tipo": "quick_reply", "accion": "no_interesado"},
                {"tipo": "quick_reply", "accion": "baja"},
                {"tipo": "url", "columna": "folio"},
            ],
        }
    )
    contacto = Contacto(nombre="Ana", telefono="+525512345678", datos_credito={"monto": 25000, "folio": "F-17"})
    fila = _fila_oficial(config, contacto, reloj.ahora(), "America/Mexico_City")
    oficial = fila["medio"]["plantilla"]
    motor = await _motor(nucleo, reloj)
    try:
        r = await motor.enviar_plantilla(
            linea["agente_id"],
            "5215512345678@s.whatsapp.net",
            nombre=oficial["nombre"],
            idioma=oficial["idioma"],
            componentes=oficial["componentes"],
            wa_message_id="enl.R",
        )
    finally:
        await motor.detener()
    assert r.wamid
    enviado = graph.enviados[-1].cuerpo["template"]["components"]
    assert enviado[1]["parameters"][1] == {"type": "text", "parameter_name": "monto", "text": "$25,000.00"}
    assert enviado[4]["parameters"] == [{"type": "text", "text": "F-17"}]


async def test_rotar_clave_recifra_los_secretos_de_las_lineas(linea: dict[str, Any], nucleo: Any, db: Any) -> None:
    from enlace.oficial.lineas import numeros_activos, rotar_lineas
    from enlace.sesiones.cifrado import generar_clave

    anterior = Llavero.desde_settings(nucleo.settings)
    nueva = generar_clave()
    # The new key first (it encrypts), the old one still listed (it opens what is stored).
    ambos = Llavero([*Llavero.desde_texto(f"nueva:{nueva}")._claves.values(), *anterior._claves.values()])
    async with nucleo.fabrica() as s:
        assert await rotar_lineas(s, ambos) == (1, [])
        await s.commit()
    assert await db.scalar(text("SELECT clave_id FROM lineas_oficiales")) == "nueva"
    solo_nueva = Llavero.desde_texto(f"nueva:{nueva}")
    async with nucleo.fabrica() as s:
        (numero,) = await numeros_activos(s, solo_nueva)
        assert numero.token.startswith("EAA")
        assert await rotar_lineas(s, solo_nueva) == (0, []), "ya estaban al día"


async def test_el_despachador_no_pasa_el_nivel_de_la_linea(
    linea: dict[str, Any], graph: GraphFalso, nucleo: Any, reloj: Any, db: Any
) -> None:
    """A TIER_50 line that already wrote to 49 people in the last 24 h: of a 3-person campaign one message
    leaves; the other two wait until the oldest conversation leaves the rolling window."""
    from enlace.envios.despachador import Despachador
    from tests.integration.test_campanas import RAPIDO, correr_hasta, crear_cartera
    from tests.soporte.arriendo import arrendar

    agente_id = linea["agente_id"]
    await arrendar(nucleo.fabrica, agente_id, motor="cloud_api")
    admin = linea["admin"]
    graph.aprobar("oferta_simple", cuerpo=0)
    ahora = reloj.ahora()
    await db.execute(text("UPDATE lineas_oficiales SET nivel = 'TIER_50'"))
    for i in range(49):
        await db.execute(
            text("""INSERT INTO mensajes_enviados (agente_id, origen, numero_destino, wa_message_id, estado,
                                                   intentado_at, enviado_at, tipo)
                    VALUES (:a, 'campana', :t, :w, 'enviado', :m, :m, 'plantilla')"""),
            {"a": agente_id, "t": f"+5255300{i:05d}", "w": f"enl.N{i}", "m": ahora - timedelta(hours=1, minutes=i)},
        )
    await db.commit()
    cartera_id, _ = await crear_cartera(nucleo, agente_id, 3)
    plantilla = await admin.post(
        "/api/plantillas",
        json={"nombre": "Oferta", "variantes": ["Hola {nombre}"], "plantilla_oficial": {"nombre": "oferta_simple"}},
    )
    campana = await admin.post(
        "/api/campana", json={"nombre": "Tope", "carteraId": cartera_id, "agenteId": agente_id, "canal": "oficial"}
    )
    assert campana.status_code == 201, campana.text
    motor = await _motor(nucleo, reloj)

    async def conectado(aid: int) -> bool:
        return aid == agente_id

    despachador = Despachador(
        reloj=reloj, fabrica=nucleo.fabrica, motor=motor, nodo_id="prueba", esta_conectado=conectado
    )
    await despachador.iniciar()
    try:
        r = await admin.post(
            "/api/campana/iniciar",
            json={"campanaId": campana.json()["id"], "plantillaId": plantilla.json()["id"], "configDelay": RAPIDO},
        )
        assert r.status_code == 200, r.text
        despachador.asegurar(agente_id)

        async def repartida() -> bool:
            async with nucleo.fabrica() as s:
                filas = (
                    await s.execute(
                        text("SELECT estado, programado_para FROM mensajes_enviados WHERE campana_id = :c"),
                        {"c": campana.json()["id"]},
                    )
                ).all()
            enviados = sum(1 for f in filas if f.estado == "enviado")
            esperando = [f for f in filas if f.estado == "pendiente" and f.programado_para > reloj.ahora()]
            return enviados == 1 and len(esperando) == 2

        await correr_hasta(reloj, despachador, repartida, max_pasos=3000)
    finally:
        await despachador.detener()
        await motor.detener()
    assert len(graph.enviados) == 1, "nunca más personas que el nivel en 24 h"
    esperas = (
        await db.execute(
            text(
                "SELECT programado_para, detalle_error FROM mensajes_enviados"
                " WHERE campana_id = :c AND estado = 'pendiente'"
            ),
            {"c": campana.json()["id"]},
        )
    ).all()
    libre = ahora - timedelta(hours=1, minutes=48) + timedelta(hours=24)
    assert all(e.programado_para >= libre and "límite de 50" in e.detalle_error for e in esperas)
