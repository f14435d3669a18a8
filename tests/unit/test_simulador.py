"""The simulator engine on a manual clock: linking, sending, receipts, replies, LIDs, failures, ledger."""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from enlace.motores.base import (
    ClaseDesconexion,
    ErrorMotor,
    EstadoEntrega,
    EventoCapping,
    EventoCodigoEmparejamiento,
    EventoConectado,
    EventoCredenciales,
    EventoDesconectado,
    EventoEstado,
    EventoMapeoIdentificador,
    EventoMensaje,
    EventoQR,
    EventoRestriccion,
    NivelCapping,
    OpcionesInicio,
    SesionNoDisponible,
)
from enlace.motores.simulador import Disposicion, EstadoSocket, Fallo, Ledger, MotorSimulador, RedVirtual
from enlace.motores.simulador.perfiles import RESPUESTAS, jid_de, perfil_para, telefono_canonico
from enlace.motores.simulador.red import ALFABETO_CODIGO
from enlace.reloj import RelojManual

TEL = "+525511112222"


class Receptor:
    def __init__(self) -> None:
        self.eventos: list[object] = []

    async def __call__(self, evento: object) -> None:
        self.eventos.append(evento)

    def de(self, tipo: type) -> list:
        return [e for e in self.eventos if isinstance(e, tipo)]


@pytest.fixture
async def sim():
    reloj = RelojManual()
    receptor = Receptor()
    motor = MotorSimulador(reloj, semilla=7)
    await motor.iniciar(receptor)
    yield reloj, motor, receptor
    await motor.detener()


def credenciales_de(receptor: Receptor, agente_id: int) -> dict:
    """Merge the credential deltas the way the SessionManager does."""
    estado: dict = {"creds": {}, "keys": {}}
    for e in receptor.de(EventoCredenciales):
        if e.agente_id != agente_id:
            continue
        if "creds" in e.datos:
            estado["creds"] = e.datos["creds"]
        for tipo, valores in e.datos.get("keys", {}).items():
            for clave, valor in valores.items():
                if valor is None:
                    estado["keys"].get(tipo, {}).pop(clave, None)
                else:
                    estado["keys"].setdefault(tipo, {})[clave] = valor
    return estado


async def vincular(reloj: RelojManual, motor: MotorSimulador, agente_id: int, numero: str | None = None) -> str:
    await motor.iniciar_sesion(agente_id, OpcionesInicio())
    await reloj.avanzar(0)
    numero = await motor.escanear_qr(agente_id, numero=numero)
    await reloj.avanzar(2)
    assert motor.estado_socket(agente_id) == EstadoSocket.conectado
    return numero


def fijar_atento(motor: MotorSimulador, telefono: str = TEL, **extra: object) -> None:
    cambios: dict[str, object] = dict(
        en_whatsapp=True,
        lid=None,
        horas_fuera_de_linea=0.0,
        entrega_s=(5.0, 5.0),
        prob_lectura=1.0,
        lectura_s=(60.0, 60.0),
        prob_respuesta=1.0,
        respuesta_s=(30.0, 30.0),
        disposicion=Disposicion.interesado,
    )
    cambios.update(extra)
    motor.red.fijar_perfil(telefono, **cambios)


async def test_vincular_por_qr_rota_el_codigo_y_conecta(sim):
    reloj, motor, receptor = sim
    await motor.iniciar_sesion(1, OpcionesInicio())
    await reloj.avanzar(0)
    qrs = receptor.de(EventoQR)
    assert len(qrs) == 1 and qrs[0].expira_en_s == 60
    partes = qrs[0].qr.split(",")
    assert len(partes) == 4 and partes[0].startswith("2@")
    assert motor.qr_actual(1) == qrs[0].qr
    # The first unregistered auth state is handed over for storage before the QR.
    assert receptor.eventos.index(receptor.de(EventoCredenciales)[0]) < receptor.eventos.index(qrs[0])
    await reloj.avanzar(59)
    assert len(receptor.de(EventoQR)) == 1
    await reloj.avanzar(1)
    qrs = receptor.de(EventoQR)
    assert len(qrs) == 2 and qrs[1].expira_en_s == 20 and qrs[1].qr != qrs[0].qr
    with pytest.raises(ErrorMotor):
        await motor.escanear_qr(1, qr=qrs[0].qr)
    numero = await motor.escanear_qr(1, qr=qrs[1].qr, numero="55 3333 4444")
    assert numero == "+525533334444"
    await reloj.avanzar(1)
    conectado = receptor.de(EventoConectado)
    assert conectado == [EventoConectado(1, "+525533334444", conectado[0].wa_id, conectado[0].lid)]
    assert re.fullmatch(r"52(1)?5533334444@s\.whatsapp\.net", conectado[0].wa_id)
    assert conectado[0].lid and conectado[0].lid.endswith("@lid")
    creds = credenciales_de(receptor, 1)
    assert creds["creds"]["registered"] is True and creds["keys"]["pre-key"]
    # No more QRs once linked.
    await reloj.avanzar(200)
    assert len(receptor.de(EventoQR)) == 2
    assert motor.qr_actual(1) is None


async def test_qr_sin_escanear_vence_con_408(sim):
    reloj, motor, receptor = sim
    await motor.iniciar_sesion(1, OpcionesInicio())
    await reloj.avanzar(60 + 5 * 20 + 1)
    assert len(receptor.de(EventoQR)) == 6
    (caida,) = receptor.de(EventoDesconectado)
    assert caida.clase == ClaseDesconexion.transitoria and caida.codigo == 408
    assert motor.estado_socket(1) == EstadoSocket.inactivo
    with pytest.raises(ErrorMotor):
        await motor.escanear_qr(1)


async def test_codigo_de_emparejamiento(sim):
    reloj, motor, receptor = sim
    with pytest.raises(SesionNoDisponible):
        await motor.pedir_codigo_emparejamiento(1, "5215566667777")
    await motor.iniciar_sesion(1, OpcionesInicio())
    await reloj.avanzar(0)
    codigo = await motor.pedir_codigo_emparejamiento(1, "5215566667777")
    assert len(codigo) == 8 and set(codigo) <= set(ALFABETO_CODIGO)
    (evento,) = receptor.de(EventoCodigoEmparejamiento)
    assert (evento.agente_id, evento.codigo) == (1, codigo)
    # The code lives as long as the link attempt: 60 s + 5 × 20 s in real seconds, nothing of it spent yet.
    assert evento.expira_en_s == 160
    with pytest.raises(ErrorMotor):
        await motor.confirmar_codigo(1, "AAAAAAAA" if codigo != "AAAAAAAA" else "BBBBBBBB")
    await motor.confirmar_codigo(1, codigo[:4] + "-" + codigo[4:])
    await reloj.avanzar(2)
    (conectado,) = receptor.de(EventoConectado)
    assert conectado.numero == "+525566667777"


async def test_emparejamiento_desde_opciones_y_auto_escaneo():
    reloj = RelojManual()
    receptor = Receptor()
    motor = MotorSimulador(reloj, auto_escanear=True)
    await motor.iniciar(receptor)
    try:
        await motor.iniciar_sesion(1, OpcionesInicio())
        await motor.iniciar_sesion(2, OpcionesInicio(telefono_emparejamiento="525544443333"))
        await reloj.avanzar(10)
        por_agente = {e.agente_id: e for e in receptor.de(EventoConectado)}
        assert por_agente[1].numero == motor.numero_por_defecto(1)
        assert por_agente[2].numero == "+525544443333"
        assert [e.agente_id for e in receptor.de(EventoCodigoEmparejamiento)] == [2]
        assert all(e.agente_id == 1 for e in receptor.de(EventoQR))
    finally:
        await motor.detener()


async def test_reanuda_sin_qr_tras_reinicio_del_proceso():
    reloj = RelojManual()
    receptor = Receptor()
    motor = MotorSimulador(reloj)
    await motor.iniciar(receptor)
    numero = await vincular(reloj, motor, 5)
    credenciales = credenciales_de(receptor, 5)
    await motor.detener()

    # A new process: a fresh network that only has what PostgreSQL kept.
    receptor2 = Receptor()
    motor2 = MotorSimulador(reloj)
    await motor2.iniciar(receptor2)
    try:
        await motor2.iniciar_sesion(5, OpcionesInicio(credenciales=credenciales))
        await reloj.avanzar(3)
        assert receptor2.de(EventoQR) == []
        (conectado,) = receptor2.de(EventoConectado)
        assert conectado.numero == numero
        await motor2.enviar_texto(5, "525511112222@s.whatsapp.net", "hola", motor2.nuevo_id_mensaje(5))
    finally:
        await motor2.detener()


async def test_envio_eco_recibos_y_respuesta(sim):
    reloj, motor, receptor = sim
    await vincular(reloj, motor, 1)
    fijar_atento(motor, disposicion=Disposicion.baja)
    wid = motor.nuevo_id_mensaje(1)
    assert re.fullmatch(r"3EB0[0-9A-F]{18}", wid)
    jid = motor.red.perfil(TEL).jid
    resultado = await motor.enviar_texto(1, jid, "Hola María, tenemos un préstamo", wid)
    assert resultado.wa_message_id == wid and resultado.momento == reloj.ahora()
    # Written to the phone before the call returns.
    assert [(r.wa_message_id, r.texto) for r in motor.ledger.de(TEL)] == [(wid, "Hola María, tenemos un préstamo")]
    await reloj.avanzar(0)
    (eco,) = [e for e in receptor.de(EventoMensaje) if e.de_mi]
    assert eco.wa_message_id == wid and eco.chat_jid == jid and eco.texto.startswith("Hola María")
    await reloj.avanzar(2)
    # Like Baileys: a successful server ack is not reported (only acks carrying an error are).
    assert [e.estado for e in receptor.de(EventoEstado)] == []
    await reloj.avanzar(5)
    assert [e.estado for e in receptor.de(EventoEstado)] == [EstadoEntrega.entregado]
    await reloj.avanzar(60)
    assert receptor.de(EventoEstado)[-1].estado == EstadoEntrega.leido
    await reloj.avanzar(30)
    (respuesta,) = [e for e in receptor.de(EventoMensaje) if not e.de_mi]
    assert respuesta.texto in RESPUESTAS[Disposicion.baja]
    assert respuesta.chat_jid == jid and respuesta.telefono_jid == jid and respuesta.nombre_perfil
    assert respuesta.wa_message_id != wid
    assert motor.red.dio_baja(TEL)
    # Messaged again after opting out: only anger comes back.
    await motor.enviar_texto(1, jid, "Segundo mensaje", motor.nuevo_id_mensaje(1))
    await reloj.avanzar(200)
    ultima = [e for e in receptor.de(EventoMensaje) if not e.de_mi][-1]
    assert ultima.texto in RESPUESTAS[Disposicion.molesto]
    assert all(m.momento <= reloj.ahora() for m in receptor.de(EventoMensaje))


async def test_numeros_521_y_52_segun_semilla_y_fuera_de_whatsapp(sim):
    reloj, motor, receptor = sim
    await vincular(reloj, motor, 1)
    telefonos = [f"+52551000{i:04d}" for i in range(300)]
    formas = Counter()
    for tel in telefonos:
        perfil = motor.red.perfil(tel)
        if perfil.en_whatsapp:
            formas["521" if perfil.jid.startswith("521") else "52"] += 1
    assert formas["521"] > 60 and formas["52"] > 60
    # The same seed gives the same network; another seed another one.
    assert [perfil_para(7, t).usa_521 for t in telefonos] == [motor.red.perfil(t).usa_521 for t in telefonos]
    assert [perfil_para(8, t).usa_521 for t in telefonos] != [perfil_para(7, t).usa_521 for t in telefonos]
    # onWhatsApp answers like the server: 52+10 finds a mobile under 521+10 (the only place that mapping
    # happens), 521+10 finds only numbers registered that way, and nobody maps 521 back to 52.
    movil = next(t for t in telefonos if motor.red.perfil(t).en_whatsapp and motor.red.perfil(t).usa_521)
    fijo = next(t for t in telefonos if motor.red.perfil(t).en_whatsapp and not motor.red.perfil(t).usa_521)
    m, f = movil.removeprefix("+52"), fijo.removeprefix("+52")
    consulta = await motor.consultar_numero(1, ["52" + m, "521" + m, "52" + f, "521" + f, m, "123"])
    assert consulta == {
        "52" + m: "521" + m + "@s.whatsapp.net",
        "521" + m: "521" + m + "@s.whatsapp.net",
        "52" + f: "52" + f + "@s.whatsapp.net",
        "521" + f: None,
        m: None,
        "123": None,
    }
    assert motor.red.consultas[1][-1][1] == 6
    ausente = next(t for t in telefonos if not motor.red.perfil(t).en_whatsapp)
    assert (await motor.consultar_numero(1, [ausente.removeprefix("+52")]))[ausente.removeprefix("+52")] is None
    # A send to a number not on WhatsApp is accepted and echoed, then nothing: no receipt, no error, no phone.
    await motor.enviar_texto(1, "52" + ausente.removeprefix("+52") + "@s.whatsapp.net", "hola", "3EB0AAAA")
    await reloj.avanzar(3600)
    assert motor.ledger.de(ausente) == []
    assert [e.estado for e in receptor.de(EventoEstado) if e.wa_message_id == "3EB0AAAA"] == []
    assert [e.wa_message_id for e in receptor.de(EventoMensaje) if e.de_mi] == ["3EB0AAAA"]
    # The unresolved 52 form of a mobile is the same silence: the message never reaches the phone.
    motor.red.fijar_perfil(movil, prob_lectura=1.0, prob_respuesta=0.0, entrega_s=(1.0, 2.0), horas_fuera_de_linea=0.0)
    await motor.enviar_texto(1, "52" + m + "@s.whatsapp.net", "hola", "3EB0BBBB")
    await reloj.avanzar(3600)
    assert motor.ledger.de(movil) == []
    assert [e for e in receptor.de(EventoEstado) if e.wa_message_id == "3EB0BBBB"] == []
    assert motor.consultar_envio(1, "52" + m + "@s.whatsapp.net", "3EB0BBBB") is None
    # The jid the lookup returned does reach it.
    await motor.enviar_texto(1, consulta["52" + m], "hola", "3EB0BBBC")
    await reloj.avanzar(3600)
    assert [r.wa_message_id for r in motor.ledger.de(movil)] == ["3EB0BBBC"]
    assert EstadoEntrega.entregado in [e.estado for e in receptor.de(EventoEstado) if e.wa_message_id == "3EB0BBBC"]


async def test_contacto_por_lid(sim):
    reloj, motor, receptor = sim
    await vincular(reloj, motor, 1)
    fijar_atento(motor, lid="12345678901234@lid")
    jid = motor.red.perfil(TEL).jid
    await motor.enviar_texto(1, jid, "hola", "3EB0CCCC")
    await reloj.avanzar(200)
    mapeos = receptor.de(EventoMapeoIdentificador)
    assert mapeos == [EventoMapeoIdentificador(1, "12345678901234@lid", jid)]
    primero_lid = min(
        receptor.eventos.index(e) for e in receptor.eventos if getattr(e, "chat_jid", None) == "12345678901234@lid"
    )
    assert receptor.eventos.index(mapeos[0]) < primero_lid
    assert {e.chat_jid for e in receptor.de(EventoEstado)} == {"12345678901234@lid"}
    (respuesta,) = [e for e in receptor.de(EventoMensaje) if not e.de_mi]
    assert respuesta.chat_jid == "12345678901234@lid" and respuesta.telefono_jid == jid
    # Replying to the LID reaches the same phone, and the mapping is not repeated.
    await motor.enviar_texto(1, "12345678901234@lid", "¿Le marco?", "3EB0DDDD")
    await reloj.avanzar(1)
    assert [r.wa_message_id for r in motor.ledger.de(TEL)] == ["3EB0CCCC", "3EB0DDDD"]
    assert len(receptor.de(EventoMapeoIdentificador)) == 1


async def test_telefono_apagado_por_horas(sim):
    reloj, motor, receptor = sim
    await vincular(reloj, motor, 1)
    fijar_atento(motor, horas_fuera_de_linea=4.0)
    await motor.enviar_texto(1, motor.red.perfil(TEL).jid, "hola", "3EB0EEEE")
    await reloj.avanzar(3600)
    assert [e.estado for e in receptor.de(EventoEstado)] == []
    await reloj.avanzar(4 * 3600)
    assert EstadoEntrega.entregado in [e.estado for e in receptor.de(EventoEstado)]


async def test_caida_transitoria_y_recibos_pendientes(sim):
    reloj, motor, receptor = sim
    await vincular(reloj, motor, 1)
    fijar_atento(motor)
    await motor.enviar_texto(1, motor.red.perfil(TEL).jid, "hola", "3EB0F001")
    await reloj.avanzar(2)
    await motor.inyectar_fallo(1, Fallo.desconexion, caida_s=30)
    (caida,) = receptor.de(EventoDesconectado)
    assert caida.clase == ClaseDesconexion.transitoria and caida.codigo == 428
    with pytest.raises(SesionNoDisponible):
        await motor.enviar_texto(1, motor.red.perfil(TEL).jid, "otra", "3EB0F002")
    await reloj.avanzar(10)  # delivered while the socket is down: waits on the network
    assert [e.estado for e in receptor.de(EventoEstado)] == []
    credenciales = credenciales_de(receptor, 1)
    await motor.iniciar_sesion(1, OpcionesInicio(credenciales=credenciales))
    await reloj.avanzar(3)  # the network is still down: another transient failure
    assert [e.codigo for e in receptor.de(EventoDesconectado)] == [428, 408]
    await reloj.avanzar(30)
    await motor.iniciar_sesion(1, OpcionesInicio(credenciales=credenciales))
    await reloj.avanzar(3)
    assert len(receptor.de(EventoConectado)) == 2
    assert [e.estado for e in receptor.de(EventoEstado)] == [EstadoEntrega.entregado]
    ultimo_conectado = receptor.eventos.index(receptor.de(EventoConectado)[-1])
    assert receptor.eventos.index(receptor.de(EventoEstado)[-1]) > ultimo_conectado


async def test_cierre_reemplazo_bloqueo(sim):
    reloj, motor, receptor = sim
    for agente in (1, 2, 3):
        await vincular(reloj, motor, agente)
    creds1 = credenciales_de(receptor, 1)
    await motor.inyectar_fallo(1, Fallo.cierre)
    await motor.inyectar_fallo(2, Fallo.reemplazo)
    await motor.inyectar_fallo(3, Fallo.bloqueo)
    clases = {e.agente_id: (e.clase, e.codigo) for e in receptor.de(EventoDesconectado)}
    assert clases == {
        1: (ClaseDesconexion.sesion_cerrada, 401),
        2: (ClaseDesconexion.reemplazada, 440),
        3: (ClaseDesconexion.bloqueada, 403),
    }
    # Logged-out credentials are void: resuming gets 401 again, never a connection.
    await motor.iniciar_sesion(1, OpcionesInicio(credenciales=creds1))
    await reloj.avanzar(3)
    assert [e.codigo for e in receptor.de(EventoDesconectado) if e.agente_id == 1] == [401, 401]
    assert motor.estado_socket(1) == EstadoSocket.inactivo
    # Replaced credentials are still good.
    await motor.iniciar_sesion(2, OpcionesInicio(credenciales=credenciales_de(receptor, 2)))
    await reloj.avanzar(3)
    assert motor.estado_socket(2) == EstadoSocket.conectado


async def test_cerrar_sesion_desde_enlace(sim):
    reloj, motor, receptor = sim
    await vincular(reloj, motor, 1)
    creds = credenciales_de(receptor, 1)
    await motor.cerrar_sesion(1)
    assert [(e.clase, e.codigo) for e in receptor.de(EventoDesconectado)] == [(ClaseDesconexion.sesion_cerrada, 401)]
    await motor.iniciar_sesion(1, OpcionesInicio(credenciales=creds))
    await reloj.avanzar(3)
    assert receptor.de(EventoDesconectado)[-1].codigo == 401


async def test_otro_nodo_con_las_mismas_credenciales_reemplaza():
    reloj = RelojManual()
    red = RedVirtual(reloj)
    r1, r2 = Receptor(), Receptor()
    nodo1, nodo2 = MotorSimulador(reloj, red=red), MotorSimulador(reloj, red=red)
    await nodo1.iniciar(r1)
    await nodo2.iniciar(r2)
    try:
        await vincular(reloj, nodo1, 9)
        await nodo2.iniciar_sesion(9, OpcionesInicio(credenciales=credenciales_de(r1, 9)))
        await reloj.avanzar(3)
        assert [e.clase for e in r1.de(EventoDesconectado)] == [ClaseDesconexion.reemplazada]
        assert nodo1.estado_socket(9) == EstadoSocket.inactivo
        assert nodo2.estado_socket(9) == EstadoSocket.conectado and r2.de(EventoDesconectado) == []
        # Replies now reach the node that holds the session.
        await nodo2.recibir_de(9, TEL, "Hola, ¿quién habla?")
        assert [e.texto for e in r2.de(EventoMensaje)] == ["Hola, ¿quién habla?"]
    finally:
        await nodo1.detener()
        await nodo2.detener()
        await red.cerrar()


async def test_restriccion_capping_y_errores_de_envio(sim):
    reloj, motor, receptor = sim
    await vincular(reloj, motor, 1)
    fijar_atento(motor)
    jid = motor.red.perfil(TEL).jid
    await motor.inyectar_fallo(1, Fallo.error_envio, excepcion=True)
    with pytest.raises(ErrorMotor) as error:
        await motor.enviar_texto(1, jid, "hola", "3EB0A001")
    assert error.value.reintentable
    await motor.inyectar_fallo(1, Fallo.error_envio, codigo=479)
    await motor.enviar_texto(1, jid, "hola", "3EB0A002")
    await reloj.avanzar(2)
    (fallido,) = [e for e in receptor.de(EventoEstado) if e.wa_message_id == "3EB0A002"]
    assert fallido.estado == EstadoEntrega.fallido and fallido.codigo_error == 479
    await motor.inyectar_fallo(1, Fallo.capping, nivel=NivelCapping.segundo_aviso)
    assert receptor.de(EventoCapping) == [EventoCapping(1, NivelCapping.segundo_aviso, "Cupo de chats nuevos")]
    await motor.inyectar_fallo(1, Fallo.restriccion, duracion_s=3600)
    assert [(e.clase, e.codigo) for e in receptor.de(EventoDesconectado)] == [(ClaseDesconexion.restringida, 463)]
    assert motor.estado_socket(1) == EstadoSocket.conectado  # still receives, may not reach out
    await motor.enviar_texto(1, jid, "hola", "3EB0A003")
    await reloj.avanzar(2)
    (restringido,) = [e for e in receptor.de(EventoEstado) if e.wa_message_id == "3EB0A003"]
    assert restringido.estado == EstadoEntrega.fallido and restringido.codigo_error == 463
    assert motor.ledger.de(TEL) == []
    await reloj.avanzar(3600)
    await motor.enviar_texto(1, jid, "hola", "3EB0A004")
    assert [r.wa_message_id for r in motor.ledger.de(TEL)] == ["3EB0A004"]


async def test_mensaje_escrito_en_el_telefono(sim):
    reloj, motor, receptor = sim
    await vincular(reloj, motor, 1)
    fijar_atento(motor, prob_respuesta=0.0)
    wid = await motor.escribir_desde_telefono(1, TEL, "Le escribo desde mi celular")
    assert not wid.startswith("3EB0")
    (propio,) = [e for e in receptor.de(EventoMensaje) if e.de_mi]
    assert propio.wa_message_id == wid and propio.texto == "Le escribo desde mi celular"
    (recibido,) = motor.ledger.de(TEL)
    assert recibido.origen == "telefono" and recibido.wa_message_id == wid
    await reloj.avanzar(100)
    assert [e.estado for e in receptor.de(EventoEstado)] == [EstadoEntrega.entregado, EstadoEntrega.leido]


async def test_presencia_y_sesion_no_conectada(sim):
    reloj, motor, _ = sim
    with pytest.raises(SesionNoDisponible):
        await motor.presencia(1, "525511112222@s.whatsapp.net", "composing")
    with pytest.raises(SesionNoDisponible):
        await motor.consultar_numero(1, ["525511112222"])
    await vincular(reloj, motor, 1)
    await motor.presencia(1, "525511112222@s.whatsapp.net", "composing")
    assert motor.presencia_en(1, "525511112222@s.whatsapp.net") == "composing"
    with pytest.raises(ErrorMotor):
        await motor.presencia(1, "525511112222@s.whatsapp.net", "bailando")
    await motor.detener_sesion(1)
    with pytest.raises(SesionNoDisponible):
        await motor.enviar_texto(1, "525511112222@s.whatsapp.net", "hola", "3EB0B001")


async def test_respuestas_realistas_en_una_campana():
    reloj = RelojManual()
    receptor = Receptor()
    motor = MotorSimulador(reloj, semilla=11)
    await motor.iniciar(receptor)
    try:
        await vincular(reloj, motor, 1)
        for i in range(400):
            tel = f"+52331000{i:04d}"
            await motor.enviar_texto(1, motor.red.perfil(tel).jid, f"Hola {i}", motor.nuevo_id_mensaje(1))
        await reloj.avanzar(20 * 3600)
        respuestas = [e.texto for e in receptor.de(EventoMensaje) if not e.de_mi]
        categorias = {d for d, textos in RESPUESTAS.items() for texto in respuestas if texto in textos}
        assert categorias == set(Disposicion)
        assert 20 < len(respuestas) < 200
        estados = Counter(e.estado for e in receptor.de(EventoEstado))
        assert estados[EstadoEntrega.enviado] == 0  # no server-ack receipts, as in Baileys
        assert len([e for e in receptor.de(EventoMensaje) if e.de_mi]) == 400  # every send is echoed
        assert 300 < estados[EstadoEntrega.entregado] < 400  # some are not on WhatsApp
        assert estados[EstadoEntrega.leido] < estados[EstadoEntrega.entregado]
        assert len(motor.ledger) == estados[EstadoEntrega.entregado]
        assert motor.ledger.ids_duplicados() == []
        assert motor.red.tareas_pendientes == 0
    finally:
        await motor.detener()


async def test_ledger_en_archivo_sobrevive_y_tolera_linea_cortada(tmp_path):
    ruta = tmp_path / "sub" / "ledger.jsonl"
    reloj = RelojManual()
    receptor = Receptor()
    motor = MotorSimulador(reloj, ruta_ledger=ruta)
    await motor.iniciar(receptor)
    await vincular(reloj, motor, 1)
    fijar_atento(motor)
    jid = motor.red.perfil(TEL).jid
    await motor.enviar_texto(1, jid, "uno", "3EB0L001")
    await motor.enviar_texto(1, jid, "dos ñ", "3EB0L002")
    await motor.detener()
    # A kill in the middle of the next write leaves a torn line.
    with ruta.open("ab") as f:
        f.write(b'{"telefono":"+525511112222","wa_message_id":"3EB0L0')
    leido = Ledger.leer(ruta)
    assert [(w, t) for w, t, _ in leido.por_telefono()[TEL]] == [("3EB0L001", "uno"), ("3EB0L002", "dos ñ")]
    # The restarted server appends after the torn line without losing a record.
    motor2 = MotorSimulador(reloj, ruta_ledger=ruta)
    await motor2.iniciar(receptor)
    try:
        assert len(motor2.ledger) == 2
        await vincular(reloj, motor2, 1)
        await motor2.enviar_texto(1, jid, "tres", "3EB0L003")
        await motor2.enviar_texto(1, jid, "uno otra vez", "3EB0L001")
    finally:
        await motor2.detener()
    final = Ledger.leer(ruta)
    assert [w for w, _, _ in final.por_telefono()[TEL]] == ["3EB0L001", "3EB0L002", "3EB0L003", "3EB0L001"]
    assert final.ids_duplicados() == ["3EB0L001"]
    assert final.de(TEL)[0].remitente == motor2.numero_por_defecto(1)


@settings(max_examples=200, deadline=None)
@given(nacional=st.from_regex(r"[1-9][0-9]{9}", fullmatch=True), usa_521=st.booleans(), semilla=st.integers(0, 10**6))
def test_ids_de_whatsapp_vuelven_al_mismo_telefono(nacional, usa_521, semilla):
    telefono = "+52" + nacional
    jid = jid_de(telefono, usa_521)
    assert jid.startswith("521" if usa_521 else "52") and jid.endswith("@s.whatsapp.net")
    for forma in (jid, jid.replace("@", ":3@"), nacional, "52" + nacional, "521" + nacional, f"+52 {nacional}"):
        assert telefono_canonico(forma) == telefono
    perfil = perfil_para(semilla, telefono)
    assert perfil == perfil_para(semilla, telefono)  # deterministic per (seed, phone)
    assert telefono_canonico(perfil.jid) == telefono
    assert perfil.lid is None or re.fullmatch(r"\d{14,15}@lid", perfil.lid)


async def test_qr_vive_lo_mismo_en_tiempo_real_con_el_reloj_acelerado():
    """At 600x a 60-second QR must not vanish in 0.1 real seconds: its virtual life is scaled."""
    from datetime import UTC, datetime, timedelta

    from enlace.reloj import RelojAcelerado

    reloj = RelojAcelerado(600, datetime(2026, 11, 23, 15, tzinfo=UTC))
    receptor = Receptor()
    motor = MotorSimulador(reloj, semilla=7, auto_escanear=False)
    await motor.iniciar(receptor)
    try:
        await motor.iniciar_sesion(1, OpcionesInicio())
        for _ in range(100):
            if receptor.de(EventoQR):
                break
            await asyncio.sleep(0.01)
        (qr,) = receptor.de(EventoQR)
        # WhatsApp's 60 real seconds, which on this clock are 600 times as many virtual ones.
        assert qr.expira_en_s == 60
        vida = motor._sesiones[1].qr_expira - reloj.ahora()
        assert timedelta(seconds=60 * 600 - 60) < vida <= timedelta(seconds=60 * 600)
        assert motor.qr_actual(1) == qr.qr
    finally:
        await motor.detener()


async def test_tokens_de_contacto_confiable_y_timelock(sim):
    """Baileys rc14: a chat the person answered carries their token and passes a timelock; a cold one is 463."""
    reloj, motor, receptor = sim
    await vincular(reloj, motor, 1)
    amigo, extrano = TEL, "+525533334444"
    fijar_atento(motor, amigo, prob_respuesta=0.0)
    fijar_atento(motor, extrano, prob_respuesta=0.0)
    # The person writes first: the account's client gets (and stores, as an auth-state key) their token.
    await motor.recibir_de(1, amigo, "Hola, me pasaron su número")
    jid_amigo, jid_extrano = motor.red.perfil(amigo).jid, motor.red.perfil(extrano).jid
    guardado = credenciales_de(receptor, 1)["keys"]["tctoken"]
    assert set(guardado) == {jid_amigo} and guardado[jid_amigo]["token"] and guardado[jid_amigo]["timestamp"]
    # Read on open (nothing active yet), then the timelock notification.
    assert [e.timelock_activo for e in receptor.eventos if isinstance(e, EventoRestriccion)] == [False]
    await motor.inyectar_fallo(1, Fallo.restriccion, duracion_s=6 * 3600)
    aviso = [e for e in receptor.eventos if isinstance(e, EventoRestriccion)][-1]
    assert aviso.timelock_activo and aviso.timelock_hasta == reloj.ahora() + timedelta(hours=6)
    await motor.enviar_texto(1, jid_amigo, "Con gusto le explico", "3EB0T001")
    await motor.enviar_texto(1, jid_extrano, "Hola, le ofrecemos un crédito", "3EB0T002")
    await reloj.avanzar(60)
    assert [r.wa_message_id for r in motor.ledger.de(amigo)] == ["3EB0T001"]
    assert motor.ledger.de(extrano) == []
    (rechazo,) = [e for e in receptor.de(EventoEstado) if e.wa_message_id == "3EB0T002"]
    assert (rechazo.estado, rechazo.codigo_error) == (EstadoEntrega.fallido, 463)
    # Tokens are auth state: a restart with the stored keys still carries them...
    credenciales = credenciales_de(receptor, 1)
    await motor.iniciar_sesion(1, OpcionesInicio(credenciales=credenciales))
    await reloj.avanzar(3)
    assert motor.estado_socket(1) == EstadoSocket.conectado
    # ...and the account reports its timelock again on open.
    avisos = [e for e in receptor.eventos if isinstance(e, EventoRestriccion)]
    assert avisos[-1].timelock_activo and avisos[-1].timelock_hasta == aviso.timelock_hasta
    await motor.enviar_texto(1, jid_amigo, "¿Le marco?", "3EB0T003")
    await reloj.avanzar(1)
    assert [r.wa_message_id for r in motor.ledger.de(amigo)] == ["3EB0T001", "3EB0T003"]
    # Without the keys (lost auth state) the same chat is refused; Baileys' 463 recovery re-issues the
    # token (the person does trust the account) and the next message passes.
    sin_llaves = {"creds": credenciales["creds"], "keys": {}}
    await motor.iniciar_sesion(1, OpcionesInicio(credenciales=sin_llaves))
    await reloj.avanzar(3)
    await motor.enviar_texto(1, jid_amigo, "¿Sigue ahí?", "3EB0T004")
    await reloj.avanzar(2)
    (perdido,) = [e for e in receptor.de(EventoEstado) if e.wa_message_id == "3EB0T004"]
    assert perdido.codigo_error == 463
    await motor.enviar_texto(1, jid_amigo, "¿Sigue ahí?", "3EB0T005")
    await reloj.avanzar(1)
    assert [r.wa_message_id for r in motor.ledger.de(amigo)][-1] == "3EB0T005"
    # Recovery never invents trust: the stranger is still refused.
    await motor.enviar_texto(1, jid_extrano, "Hola otra vez", "3EB0T006")
    await reloj.avanzar(2)
    assert motor.ledger.de(extrano) == []
    # Tokens expire after ~4 weekly buckets (isTcTokenExpired) while the timelock is still on.
    await motor.inyectar_fallo(1, Fallo.restriccion, duracion_s=60 * 86400)
    await reloj.avanzar(35 * 86400)
    await motor.enviar_texto(1, jid_amigo, "Hace mucho que no hablamos", "3EB0T007")
    await reloj.avanzar(2)
    assert [e.codigo_error for e in receptor.de(EventoEstado) if e.wa_message_id == "3EB0T007"] == [463]


async def test_cupo_de_chats_nuevos_y_version_desactualizada(sim):
    reloj, motor, receptor = sim
    await vincular(reloj, motor, 1)
    telefonos = [f"+52557777{i:04d}" for i in range(4)]
    for t in telefonos:
        fijar_atento(motor, t, prob_respuesta=0.0)
    await motor.inyectar_fallo(1, Fallo.cupo, cupo=2)
    assert [e.cupo_chats_nuevos for e in receptor.eventos if isinstance(e, EventoRestriccion)] == [None, 2]
    for i, t in enumerate(telefonos):
        await motor.enviar_texto(1, motor.red.perfil(t).jid, "hola", f"3EB0C00{i}")
    await reloj.avanzar(60)
    assert [bool(motor.ledger.de(t)) for t in telefonos] == [True, True, False, False]
    assert sorted(e.wa_message_id for e in receptor.de(EventoEstado) if e.codigo_error == 463) == [
        "3EB0C002",
        "3EB0C003",
    ]
    # A chat already started is not a new chat.
    await motor.enviar_texto(1, motor.red.perfil(telefonos[0]).jid, "seguimiento", "3EB0C010")
    await reloj.avanzar(1)
    assert len(motor.ledger.de(telefonos[0])) == 2
    # An outdated WhatsApp Web client is refused with 405 on connect, every time.
    motor.red.version_minima = (2, 3000, 1030000000)
    credenciales = credenciales_de(receptor, 1)
    for _ in range(2):
        await motor.iniciar_sesion(1, OpcionesInicio(credenciales=credenciales))
        await reloj.avanzar(3)
        assert motor.estado_socket(1) == EstadoSocket.inactivo
    assert [(e.clase, e.codigo) for e in receptor.de(EventoDesconectado)][-2:] == [
        (ClaseDesconexion.desactualizada, 405)
    ] * 2
    await motor.iniciar_sesion(
        1, OpcionesInicio(credenciales=credenciales, extra={"version_web": [2, 3000, 1030000001]})
    )
    await reloj.avanzar(3)
    assert motor.estado_socket(1) == EstadoSocket.conectado
