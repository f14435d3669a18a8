"""Simulator end to end: a running campaign's receipts and replies reach the database and the inbox."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import text

from enlace.captura.service import Captura
from enlace.db.sesion import esperar_post_commit
from enlace.envios.despachador import Despachador
from enlace.motores.base import OpcionesInicio
from enlace.motores.simulador.motor import EstadoSocket
from enlace.motores.simulador.perfiles import Disposicion
from tests.soporte.arriendo import arrendar

pytestmark = pytest.mark.asyncio

TELEFONOS = [f"+52553{i:07d}" for i in range(1, 7)]


async def sql(nucleo: Any, consulta: str, **params: Any) -> list[Any]:
    async with nucleo.fabrica() as s:
        resultado = await s.execute(text(consulta), params)
        filas = list(resultado.all()) if resultado.returns_rows else []
        await s.commit()
        return filas


async def _reposo(nucleo: Any) -> None:
    """Let the dispatcher's loops finish their database work before the virtual clock moves on."""
    despachador = nucleo.despachador
    for _ in range(3000):
        if despachador is None or despachador.en_reposo:
            return
        await asyncio.sleep(0.002)


async def _avanzar(nucleo: Any, captura: Captura, segundos: float, paso: float = 30.0) -> None:
    hecho = 0.0
    while hecho < segundos:
        await _reposo(nucleo)
        await nucleo.reloj.avanzar(paso)
        hecho += paso
        await captura.vaciar()
    await esperar_post_commit()
    await captura.vaciar()


@pytest.fixture
async def entorno(nucleo: Any, cliente_como: Any) -> Any:
    """A logged-in agent with a linked simulator session, capture running, six contacts that answer."""
    motor = nucleo.motor
    captura = Captura(nucleo.fabrica, nucleo.reloj, nucleo.settings, motor=lambda: motor)
    captura.suscribir_en(nucleo)
    await motor.iniciar(nucleo.recibir_evento)
    await captura.iniciar()
    agente = await cliente_como("agente")
    agente_id = agente.usuario["agente_id"]
    await motor.iniciar_sesion(agente_id, OpcionesInicio())
    await nucleo.reloj.avanzar(1)
    numero = await motor.escanear_qr(agente_id)
    await nucleo.reloj.avanzar(2)
    await sql(nucleo, "UPDATE agentes SET numero_wa = :n WHERE id = :a", n=numero, a=agente_id)
    campana = (
        await sql(
            nucleo,
            "INSERT INTO campanas (agente_id, nombre, estado, zona_horaria) VALUES (:a, 'Pensiones', 'activa',"
            " 'America/Mexico_City') RETURNING id",
            a=agente_id,
        )
    )[0][0]
    contactos = {}
    for i, tel in enumerate(TELEFONOS):
        contactos[tel] = (
            await sql(
                nucleo,
                "INSERT INTO contactos (agente_id, nombre, telefono, estado) VALUES (:a, :n, :t, 'contactado')"
                " RETURNING id",
                a=agente_id,
                n=f"Persona {i}",
                t=tel,
            )
        )[0][0]
        # Deterministic people: online, read quickly, always answer with interest; one uses a LID.
        motor.red.fijar_perfil(
            tel,
            en_whatsapp=True,
            horas_fuera_de_linea=0.0,
            prob_lectura=1.0,
            lectura_s=(10.0, 60.0),
            prob_respuesta=1.0,
            respuesta_s=(20.0, 90.0),
            disposicion=Disposicion.interesado,
            lid=f"9876543210{i:03d}@lid" if i == 0 else None,
        )
    # Replies and opt-out confirmations leave through the dispatcher, as in production.
    await arrendar(nucleo.fabrica, agente_id)

    async def conectado(aid: int) -> bool:
        return motor.estado_socket(aid) == EstadoSocket.conectado

    despachador = Despachador(
        reloj=nucleo.reloj,
        fabrica=nucleo.fabrica,
        motor=motor,
        nodo_id="prueba",
        esta_conectado=conectado,
        url_bd=nucleo.database_url,
    )
    nucleo.despachador = despachador
    await despachador.iniciar()
    yield {
        "motor": motor,
        "captura": captura,
        "agente": agente,
        "agente_id": agente_id,
        "campana": campana,
        "contactos": contactos,
        "despachador": despachador,
    }
    await despachador.detener()
    nucleo.despachador = None
    await captura.detener()
    await motor.detener()


async def _despachar(nucleo: Any, e: dict[str, Any]) -> dict[str, str]:
    """What the dispatcher does for each row: written first with its id, then sent with that id."""
    motor = e["motor"]
    ids = {}
    for tel, contacto in e["contactos"].items():
        wa = motor.nuevo_id_mensaje(e["agente_id"])
        await sql(
            nucleo,
            "INSERT INTO mensajes_enviados (campana_id, agente_id, contacto_id, origen, numero_destino, mensaje,"
            " wa_message_id, estado, intentado_at) VALUES (:c, :a, :k, 'campana', :t, 'Hola, tenemos una oferta',"
            " :w, 'enviando', :m)",
            c=e["campana"],
            a=e["agente_id"],
            k=contacto,
            t=tel,
            w=wa,
            m=nucleo.reloj.ahora(),
        )
        perfil = motor.red.perfil(tel)
        resultado = await motor.enviar_texto(e["agente_id"], perfil.jid, "Hola, tenemos una oferta", wa)
        await sql(
            nucleo,
            "UPDATE mensajes_enviados SET estado = 'enviado', enviado_at = :m WHERE wa_message_id = :w"
            " AND estado = 'enviando'",
            m=resultado.momento,
            w=wa,
        )
        ids[tel] = wa
    return ids


async def test_campana_en_simulador_llega_a_bd_y_bandeja(nucleo: Any, entorno: Any) -> None:
    e = entorno
    ids = await _despachar(nucleo, e)
    await _avanzar(nucleo, e["captura"], 900)

    filas = await sql(
        nucleo, "SELECT wa_message_id, estado, entregado_at, leido_at FROM mensajes_enviados WHERE origen = 'campana'"
    )
    assert {f.wa_message_id for f in filas} == set(ids.values())
    for f in filas:
        assert f.estado == "leido" and f.entregado_at is not None and f.leido_at >= f.entregado_at
    eventos = await sql(nucleo, "SELECT tipo, count(*) FROM eventos_entrega GROUP BY tipo")
    # No server-ack receipt on success (as in Baileys): delivery and read only.
    assert dict((t, n) for t, n in eventos) == {"entregado": 6, "leido": 6}

    respuestas = await sql(
        nucleo,
        "SELECT r.numero_origen, r.contacto_id, r.campana_id, m.wa_message_id FROM mensajes_recibidos r"
        " JOIN mensajes_enviados m ON m.id = r.mensaje_origen_id",
    )
    assert len(respuestas) == 6
    for r in respuestas:
        assert ids[r.numero_origen] == r.wa_message_id  # tied to the campaign message (LID one included)
        assert r.contacto_id == e["contactos"][r.numero_origen] and r.campana_id == e["campana"]
    estados = await sql(nucleo, "SELECT DISTINCT estado FROM contactos")
    assert {s for (s,) in estados} <= {"respondio", "interesado"}

    # The inbox, as the agent sees it.
    agente = e["agente"]
    r = await agente.get("/api/conversaciones")
    assert r.status_code == 200, r.text
    convs = r.json()
    assert len(convs) == 6 and all(c["no_leidos"] == 1 and c["ultimo_direccion"] == "entrante" for c in convs)
    contacto_lid = e["contactos"][TELEFONOS[0]]
    r = await agente.get(f"/api/conversaciones/{contacto_lid}/mensajes")
    assert r.status_code == 200, r.text
    mensajes = r.json()
    assert [m["direccion"] for m in mensajes] == ["saliente", "entrante"]
    assert mensajes[0]["estado"] == "leido" and mensajes[0]["origen"] == "campana"
    r = await agente.post(f"/api/conversaciones/{contacto_lid}/leida")
    assert r.status_code == 200 and r.json()["marcados"] == 1
    r = await agente.get("/api/conversaciones", params={"solo_no_leidas": True})
    assert len(r.json()) == 5


async def test_responder_desde_la_bandeja_y_mensaje_tecleado(nucleo: Any, entorno: Any) -> None:
    e = entorno
    await _despachar(nucleo, e)
    await _avanzar(nucleo, e["captura"], 900)
    tel = TELEFONOS[1]
    contacto = e["contactos"][tel]
    agente = e["agente"]
    r = await agente.post(f"/api/conversaciones/{contacto}/responder", json={"texto": "Con gusto le explico"})
    assert r.status_code == 202, r.text
    respuesta = r.json()
    assert respuesta["estado"] == "pendiente" and respuesta["origen"] == "respuesta"
    await esperar_post_commit()
    await _avanzar(nucleo, e["captura"], 300)
    fila = (
        await sql(
            nucleo,
            "SELECT estado, origen, contacto_id FROM mensajes_enviados WHERE wa_message_id = :w",
            w=respuesta["wa_message_id"],
        )
    )[0]
    assert fila.origen == "respuesta" and fila.contacto_id == contacto
    assert fila.estado in ("entregado", "leido")
    recibidos = [x for x in e["motor"].ledger.de(tel) if x.wa_message_id == respuesta["wa_message_id"]]
    assert len(recibidos) == 1 and recibidos[0].texto == "Con gusto le explico"

    # Typed on the phone, not through Enlace: captured with origen 'telefono', tied to the contact.
    wa = await e["motor"].escribir_desde_telefono(e["agente_id"], TELEFONOS[2], "Le marco en 5 minutos")
    await _avanzar(nucleo, e["captura"], 120)
    fila = (
        await sql(nucleo, "SELECT origen, contacto_id, estado FROM mensajes_enviados WHERE wa_message_id = :w", w=wa)
    )[0]
    assert fila.origen == "telefono" and fila.contacto_id == e["contactos"][TELEFONOS[2]]
    r = await agente.get(f"/api/conversaciones/{e['contactos'][TELEFONOS[2]]}/mensajes")
    assert [m["origen"] for m in r.json() if m["direccion"] == "saliente"][-1] == "telefono"


async def test_responder_a_contacto_ajeno_o_suprimido(nucleo: Any, entorno: Any, cliente_como: Any) -> None:
    e = entorno
    await _despachar(nucleo, e)
    await _avanzar(nucleo, e["captura"], 900)
    otro = await cliente_como("agente")
    contacto = e["contactos"][TELEFONOS[3]]
    r = await otro.post(f"/api/conversaciones/{contacto}/responder", json={"texto": "Hola"})
    assert r.status_code == 404
    r = await e["agente"].post(f"/api/conversaciones/{contacto}/responder", json={"texto": ""})
    assert r.status_code == 422
    from enlace.cumplimiento.service import suprimir

    async with nucleo.fabrica() as s:
        await suprimir(s, telefono=TELEFONOS[3], motivo="Pidió no ser contactado", fuente="manual", actor=None)
        await s.commit()
    r = await e["agente"].post(f"/api/conversaciones/{contacto}/responder", json={"texto": "Hola"})
    assert r.status_code == 409 and r.json()["error"]["codigo"] == "suprimido"
    enviados = await sql(nucleo, "SELECT count(*) FROM mensajes_enviados WHERE origen = 'respuesta'")
    assert enviados[0][0] == 0


async def test_alcance_para_el_panel(nucleo: Any, cliente_como: Any) -> None:
    agente = await cliente_como("agente")
    agente_id = agente.usuario["agente_id"]
    captura = Captura(nucleo.fabrica, nucleo.reloj, nucleo.settings)
    from enlace.motores.base import EventoMensaje, TipoContenido

    ahora = nucleo.reloj.ahora()
    await captura.procesar(
        [
            EventoMensaje(
                agente_id, "X1", False, "5215577777777@s.whatsapp.net", None, ahora, TipoContenido.texto, "?"
            ),
            EventoMensaje(agente_id, "X2", True, "5215577777777@s.whatsapp.net", None, ahora, TipoContenido.texto, "!"),
        ]
    )
    r = await agente.get("/api/captura/alcance")
    assert r.status_code == 200, r.text
    assert r.json()["alcance"] == "negocio" and r.json()["fuera_de_alcance_hoy"] == 2
    otro = await cliente_como("agente")
    assert (await otro.get("/api/captura/alcance")).json()["fuera_de_alcance_hoy"] == 0


async def test_campana_real_con_despachador_captura_y_bandeja(nucleo: Any, cliente_como: Any, reloj: Any) -> None:
    """The campaigns engineer's dispatcher sends; capture records echoes, receipts and replies; the inbox shows them."""
    from enlace.envios.despachador import Despachador
    from enlace.motores.simulador.motor import EstadoSocket
    from tests.integration.test_campanas import RAPIDO, VARIANTES, correr_hasta, crear_cartera

    agente = await cliente_como("agente")
    agente_id = agente.usuario["agente_id"]
    cartera_id, telefonos = await crear_cartera(nucleo, agente_id, 12)
    motor = nucleo.motor
    captura = Captura(nucleo.fabrica, nucleo.reloj, nucleo.settings, motor=lambda: motor)
    captura.suscribir_en(nucleo)
    await motor.iniciar(nucleo.recibir_evento)
    await captura.iniciar()
    await motor.iniciar_sesion(agente_id, OpcionesInicio())
    await motor.escanear_qr(agente_id)
    for _ in range(50):
        if motor.estado_socket(agente_id) == EstadoSocket.conectado:
            break
        await reloj.avanzar(1)
    for t in telefonos:
        motor.red.fijar_perfil(
            t,
            en_whatsapp=True,
            horas_fuera_de_linea=0.0,
            prob_lectura=1.0,
            lectura_s=(5.0, 30.0),
            prob_respuesta=1.0,
            respuesta_s=(10.0, 60.0),
            disposicion=Disposicion.pregunton,
        )

    async def conectado(aid: int) -> bool:
        return motor.estado_socket(aid) == EstadoSocket.conectado

    await arrendar(nucleo.fabrica, agente_id)
    despachador = Despachador(
        reloj=reloj, fabrica=nucleo.fabrica, motor=motor, nodo_id="prueba", esta_conectado=conectado
    )
    await despachador.iniciar()
    try:
        plantilla = (await agente.post("/api/plantillas", json={"nombre": "P", "variantes": VARIANTES})).json()
        campana = (await agente.post("/api/campana", json={"nombre": "C", "carteraId": cartera_id})).json()
        r = await agente.post(
            "/api/campana/iniciar",
            json={"campanaId": campana["id"], "plantillaId": plantilla["id"], "configDelay": RAPIDO},
        )
        assert r.status_code == 200, r.text
        despachador.asegurar(agente_id)

        async def todo_respondido() -> bool:
            await captura.vaciar()
            filas = await sql(nucleo, "SELECT count(*) FROM mensajes_recibidos WHERE campana_id = :c", c=campana["id"])
            return filas[0][0] == len(telefonos)

        await correr_hasta(reloj, despachador, todo_respondido)
    finally:
        await despachador.detener()
        await captura.detener()
        await motor.detener()
    filas = await sql(
        nucleo, "SELECT estado, count(*) FROM mensajes_enviados WHERE campana_id = :c GROUP BY estado", c=campana["id"]
    )
    assert dict((e, n) for e, n in filas) == {"leido": len(telefonos)}
    r = await agente.get("/api/conversaciones")
    assert r.status_code == 200 and len(r.json()) == len(telefonos)
    assert all(c["no_leidos"] >= 1 for c in r.json())
    estado = (await agente.get(f"/api/campana/{campana['id']}/estado")).json()
    assert estado["leidos"] == len(telefonos)


async def test_responder_sin_sesion_conectada_no_escribe_nada(nucleo: Any, cliente_como: Any) -> None:
    from enlace.sesiones.manager import SessionManager

    agente = await cliente_como("agente")
    agente_id = agente.usuario["agente_id"]
    contacto = (
        await sql(
            nucleo,
            "INSERT INTO contactos (agente_id, nombre, telefono, estado) VALUES (:a, 'P', '+525566660000',"
            " 'contactado') RETURNING id",
            a=agente_id,
        )
    )[0][0]
    nucleo.sesiones = SessionManager.desde_nucleo(nucleo)  # never linked: nothing to resume
    try:
        r = await agente.post(f"/api/conversaciones/{contacto}/responder", json={"texto": "Hola"})
    finally:
        nucleo.sesiones = None
    assert r.status_code == 409 and r.json()["error"]["codigo"] == "sesion_no_conectada"
    assert (await sql(nucleo, "SELECT count(*) FROM mensajes_enviados"))[0][0] == 0


async def test_admin_cambia_el_alcance_en_caliente(nucleo: Any, cliente_como: Any) -> None:
    admin = await cliente_como("admin")
    agente = await cliente_como("agente")
    agente_id = agente.usuario["agente_id"]
    captura = Captura(nucleo.fabrica, nucleo.reloj, nucleo.settings)
    nucleo.captura = captura
    try:
        assert (await agente.put("/api/captura/alcance", json={"alcance": "todo"})).status_code == 403
        r = await admin.put("/api/captura/alcance", json={"alcance": "todo"})
        assert r.status_code == 200 and r.json()["alcance"] == "todo"
        await esperar_post_commit()
        assert captura.alcance == "todo"
        from enlace.motores.base import EventoMensaje, TipoContenido

        personal = EventoMensaje(
            agente_id,
            "P1",
            False,
            "5215577777777@s.whatsapp.net",
            None,
            nucleo.reloj.ahora(),
            TipoContenido.texto,
            "hola",
        )
        await captura.procesar([personal])
        assert (await sql(nucleo, "SELECT count(*) FROM mensajes_recibidos"))[0][0] == 1
        r = await agente.get("/api/captura/alcance")
        assert r.json()["alcance"] == "todo" and "personales" in r.json()["aviso"]
        auditoria = await sql(nucleo, "SELECT accion FROM auditoria WHERE accion = 'captura.alcance'")
        assert len(auditoria) == 1
        # A fresh capture (another node, a restart) reads the stored setting.
        otra = Captura(nucleo.fabrica, nucleo.reloj, nucleo.settings)
        await otra.procesar([])
        assert otra.alcance == "todo"
    finally:
        nucleo.captura = None


async def test_respuesta_no_sale_si_la_baja_se_confirmo_despues_de_aceptarla(nucleo: Any, entorno: Any) -> None:
    """Accepted, then the person opted out before the dispatcher got to it: the gate stops it, nothing leaves."""
    e = entorno
    await _despachar(nucleo, e)
    await _avanzar(nucleo, e["captura"], 900)
    tel = TELEFONOS[4]
    # Hold the dispatcher's loop back so the opt-out lands between acceptance and send.
    await e["despachador"].detener()
    r = await e["agente"].post(f"/api/conversaciones/{e['contactos'][tel]}/responder", json={"texto": "Con gusto"})
    assert r.status_code == 202, r.text
    # Written straight to the list (as a bulk REPEP load would), so only the dispatcher's gate can stop it.
    await sql(nucleo, "INSERT INTO supresiones (telefono, motivo, fuente) VALUES (:t, 'BAJA', 'baja')", t=tel)
    await e["despachador"].iniciar()
    e["despachador"].asegurar(e["agente_id"])
    await _avanzar(nucleo, e["captura"], 120)
    fila = (await sql(nucleo, "SELECT estado FROM mensajes_enviados WHERE id = :i", i=r.json()["id"]))[0]
    assert fila.estado == "suprimido"
    assert not [x for x in e["motor"].ledger.de(tel) if x.wa_message_id == r.json()["wa_message_id"]]


async def test_reintento_con_la_misma_clave_no_envia_dos_veces(nucleo: Any, entorno: Any) -> None:
    e = entorno
    await _despachar(nucleo, e)
    await _avanzar(nucleo, e["captura"], 900)
    tel = TELEFONOS[5]
    url = f"/api/conversaciones/{e['contactos'][tel]}/responder"
    cabecera = {"Idempotency-Key": "c0ffee00-1234-4abc-9def-000000000001"}
    primera = await e["agente"].post(url, json={"texto": "Le llamo a las 5"}, headers=cabecera)
    assert primera.status_code == 202, primera.text
    await _avanzar(nucleo, e["captura"], 60)
    # The client did not see the answer (timeout) and retries, before and after the send.
    for _ in range(2):
        otra = await e["agente"].post(url, json={"texto": "Le llamo a las 5"}, headers=cabecera)
        assert otra.status_code == 202 and otra.json()["id"] == primera.json()["id"]
        assert otra.json()["wa_message_id"] == primera.json()["wa_message_id"]
    await _avanzar(nucleo, e["captura"], 120)
    recibidos = [x for x in e["motor"].ledger.de(tel) if x.texto == "Le llamo a las 5"]
    assert len(recibidos) == 1
    filas = await sql(nucleo, "SELECT estado FROM mensajes_enviados WHERE origen = 'respuesta'")
    assert len(filas) == 1 and filas[0].estado in ("enviado", "entregado", "leido")
    # The same key for another text is a client bug: refused, nothing queued.
    r = await e["agente"].post(url, json={"texto": "Otra cosa"}, headers=cabecera)
    assert r.status_code == 422 and r.json()["error"]["codigo"] == "clave_idempotencia_reutilizada"
    r = await e["agente"].post(url, json={"texto": "Hola"}, headers={"Idempotency-Key": "con espacio"})
    assert r.status_code == 422 and "Idempotency-Key" in r.json()["error"]["mensaje"]
    assert (await sql(nucleo, "SELECT count(*) FROM mensajes_enviados WHERE origen = 'respuesta'"))[0][0] == 1


async def test_confirmacion_de_baja_sale_una_vez(nucleo: Any, entorno: Any) -> None:
    """The person writes BAJA: suppressed, and the confirmation really reaches their phone, exactly once."""
    e = entorno
    await _despachar(nucleo, e)
    await _avanzar(nucleo, e["captura"], 900)
    await sql(nucleo, "INSERT INTO ajustes (clave, valor) VALUES ('confirmar_baja', 'true')")
    tel = TELEFONOS[2]
    antes = len(e["motor"].ledger.de(tel))
    await e["motor"].recibir_de(e["agente_id"], tel, "BAJA")
    await _avanzar(nucleo, e["captura"], 300)
    fila = await sql(nucleo, "SELECT estado, wa_message_id FROM mensajes_enviados WHERE origen = 'sistema'")
    assert len(fila) == 1 and fila[0].estado in ("enviado", "entregado", "leido"), fila
    nuevos = e["motor"].ledger.de(tel)[antes:]
    assert [x.wa_message_id for x in nuevos] == [fila[0].wa_message_id]
    # A repeated BAJA does not send a second confirmation.
    await e["motor"].recibir_de(e["agente_id"], tel, "BAJA")
    await _avanzar(nucleo, e["captura"], 300)
    assert len(e["motor"].ledger.de(tel)) == antes + 1
