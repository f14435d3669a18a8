"""MotorBaileys against the real Node gateway, with makeWASocket swapped for the stand-in socket."""

from __future__ import annotations

import os
import re
import shutil
import signal
from collections.abc import AsyncIterator
from typing import Any

import pytest

from enlace.motores.baileys.motor import (
    DIRECTORIO_GATEWAY,
    MotorBaileys,
    entorno_socket_simulado,
    fusionar_credenciales,
)
from enlace.motores.base import (
    ClaseDesconexion,
    ErrorMotor,
    EstadoEntrega,
    Evento,
    EventoCapping,
    EventoConectado,
    EventoCredenciales,
    EventoDesconectado,
    EventoEstado,
    EventoMapeoIdentificador,
    EventoMensaje,
    EventoQR,
    NivelCapping,
    OpcionesInicio,
    SesionNoDisponible,
    TipoContenido,
)
from tests.soporte.receptor import Receptor

pytestmark = [
    pytest.mark.gateway,
    pytest.mark.skipif(
        shutil.which("node") is None or not (DIRECTORIO_GATEWAY / "node_modules" / "baileys").exists(),
        reason="necesita node y `npm ci` en gateway/",
    ),
]


@pytest.fixture
async def motor() -> AsyncIterator[tuple[MotorBaileys, Receptor]]:
    receptor = Receptor()
    m = MotorBaileys(entorno=entorno_socket_simulado(retraso_ms=5), tiempo_espera_s=10)
    await m.iniciar(receptor)
    yield m, receptor
    await m.detener()


def credenciales_guardadas(receptor: Receptor, agente_id: int) -> dict[str, Any]:
    """What the sessions domain would have stored: every delta merged, in order."""
    estado: dict[str, Any] = {}
    for e in receptor.de_tipo(EventoCredenciales):
        if e.agente_id == agente_id:
            fusionar_credenciales(estado, e.datos)
    return estado


async def vincular(motor: MotorBaileys, receptor: Receptor, agente_id: int) -> EventoConectado:
    await motor.iniciar_sesion(agente_id, OpcionesInicio())
    await receptor.esperar(lambda e: isinstance(e, EventoQR) and e.agente_id == agente_id)
    await motor.simular(agente_id, "escanear", {"numero": "5215512345678"})
    return await receptor.esperar(lambda e: isinstance(e, EventoConectado) and e.agente_id == agente_id)


async def test_vincular_conectar_enviar_estados_y_recibir(motor: tuple[MotorBaileys, Receptor]) -> None:
    m, r = motor
    await m.iniciar_sesion(7, OpcionesInicio())
    qr = await r.esperar(lambda e: isinstance(e, EventoQR))
    assert qr.expira_en_s == 60 and qr.qr.startswith("2@")

    await m.simular(7, "escanear", {"numero": "5215512345678"})
    conectado = await r.esperar(lambda e: isinstance(e, EventoConectado))
    assert (conectado.numero, conectado.wa_id, conectado.lid) == (
        "+525512345678",
        "5215512345678@s.whatsapp.net",
        "190000000000001@lid",
    )
    # The credentials came before the connected event, as the sessions domain needs to store them first.
    indice_conectado = r.eventos.index(conectado)
    assert any(isinstance(e, EventoCredenciales) and "creds" in e.datos for e in r.eventos[:indice_conectado])
    assert credenciales_guardadas(r, 7)["creds"]["registered"] is True

    wa_id = m.nuevo_id_mensaje(7)
    assert re.fullmatch(r"3EB0[0-9A-F]{18}", wa_id)
    resultado = await m.enviar_texto(7, "5215511112222@s.whatsapp.net", "Hola, le escribe Enlace", wa_id)
    assert resultado.wa_message_id == wa_id
    eco = await r.esperar(lambda e: isinstance(e, EventoMensaje) and e.wa_message_id == wa_id)
    assert eco.de_mi and eco.texto == "Hola, le escribe Enlace" and eco.tipo == TipoContenido.texto
    await r.esperar(lambda e: isinstance(e, EventoEstado) and e.estado == EstadoEntrega.leido)
    estados = [e.estado for e in r.de_tipo(EventoEstado) if e.wa_message_id == wa_id]
    # No server-ack: Baileys emits none on success, so neither does the stand-in.
    assert estados == [EstadoEntrega.entregado, EstadoEntrega.leido]

    await m.simular(
        7,
        "recibir",
        {"de": "5215511112222@s.whatsapp.net", "lid": "987654321@lid", "texto": "Sí me interesa", "nombre": "Ana"},
    )
    recibido = await r.esperar(lambda e: isinstance(e, EventoMensaje) and not e.de_mi)
    assert (recibido.chat_jid, recibido.telefono_jid, recibido.texto, recibido.nombre_perfil) == (
        "987654321@lid",
        "5215511112222@s.whatsapp.net",
        "Sí me interesa",
        "Ana",
    )
    mapeo = await r.esperar(lambda e: isinstance(e, EventoMapeoIdentificador))
    assert (mapeo.lid, mapeo.telefono_jid) == ("987654321@lid", "5215511112222@s.whatsapp.net")


async def test_consulta_presencia_463_capping_y_cierre(motor: tuple[MotorBaileys, Receptor]) -> None:
    m, r = motor
    await vincular(m, r, 8)
    assert await m.consultar_numero(8, ["525512340001", "525512340000"]) == {
        "525512340001": "5215512340001@s.whatsapp.net",
        "525512340000": None,
    }
    await m.presencia(8, "5215512340001@s.whatsapp.net", "composing")

    await m.simular(8, "fallar_envios", {"codigo": 463})
    wa_id = m.nuevo_id_mensaje(8)
    await m.enviar_texto(8, "5215512340001@s.whatsapp.net", "x", wa_id)
    fallo = await r.esperar(lambda e: isinstance(e, EventoEstado) and e.wa_message_id == wa_id)
    assert (fallo.estado, fallo.codigo_error) == (EstadoEntrega.fallido, 463)

    await m.simular(8, "capping", {"capping_status": "FIRST_WARNING"})
    capping = await r.esperar(lambda e: isinstance(e, EventoCapping))
    assert capping.nivel == NivelCapping.primer_aviso

    await m.cerrar_sesion(8)
    cierre = await r.esperar(lambda e: isinstance(e, EventoDesconectado))
    assert (cierre.clase, cierre.codigo) == (ClaseDesconexion.sesion_cerrada, 401)
    with pytest.raises(SesionNoDisponible):
        await m.enviar_texto(8, "5215512340001@s.whatsapp.net", "x", m.nuevo_id_mensaje(8))


async def test_reanudar_con_credenciales_guardadas_sin_qr(motor: tuple[MotorBaileys, Receptor]) -> None:
    m, r = motor
    await vincular(m, r, 9)
    await m.detener_sesion(9)
    guardadas = credenciales_guardadas(r, 9)
    assert guardadas["keys"]["pre-key"]  # keys.set reached us, not only creds
    r.eventos.clear()
    await m.iniciar_sesion(9, OpcionesInicio(credenciales=guardadas))
    conectado = await r.esperar(lambda e: isinstance(e, EventoConectado))
    assert conectado.wa_id == "5215512345678@s.whatsapp.net"
    assert r.de_tipo(EventoQR) == []


async def test_440_reemplazada_no_reconecta(motor: tuple[MotorBaileys, Receptor]) -> None:
    m, r = motor
    await vincular(m, r, 10)
    await m.simular(10, "desconectar", {"codigo": 440})
    d = await r.esperar(lambda e: isinstance(e, EventoDesconectado))
    assert d.clase == ClaseDesconexion.reemplazada
    assert m.sesiones_activas == 0
    assert (await m.ping())["sesiones"] == 0


async def test_caida_de_la_pasarela_reinicia_y_reanuda_sesiones(motor: tuple[MotorBaileys, Receptor]) -> None:
    m, r = motor
    await vincular(m, r, 11)
    pid = m.pid
    assert pid is not None
    r.eventos.clear()
    os.kill(pid, signal.SIGKILL)
    conectado = await r.esperar(lambda e: isinstance(e, EventoConectado), limite_s=40)
    assert conectado.agente_id == 11
    assert m.reinicios == 1 and m.pid != pid
    assert r.de_tipo(EventoQR) == [], "reanudó con las credenciales fusionadas, sin QR"
    await m.enviar_texto(11, "5215511112222@s.whatsapp.net", "tras el reinicio", m.nuevo_id_mensaje(11))


async def test_receptor_que_vuelve_a_llamar_al_motor_no_se_bloquea(motor: tuple[MotorBaileys, Receptor]) -> None:
    m, r = motor
    guardadas: dict[str, Any] = {}

    async def reconectar(evento: Evento) -> None:
        # What SessionManager does on a transient drop: start the session again from inside the handler.
        if isinstance(evento, EventoDesconectado) and evento.clase == ClaseDesconexion.transitoria:
            await m.iniciar_sesion(evento.agente_id, OpcionesInicio(credenciales=guardadas))

    r.al_recibir = reconectar
    await vincular(m, r, 12)
    guardadas.update(credenciales_guardadas(r, 12))
    r.eventos.clear()
    await m.simular(12, "desconectar", {"codigo": 428})
    await r.esperar(lambda e: isinstance(e, EventoConectado))
    assert r.de_tipo(EventoQR) == []


async def test_errores_sin_sesion(motor: tuple[MotorBaileys, Receptor]) -> None:
    m, _ = motor
    with pytest.raises(SesionNoDisponible):
        await m.presencia(99, "5215511112222@s.whatsapp.net", "composing")
    with pytest.raises(ErrorMotor):
        await m.presencia(99, "5215511112222@s.whatsapp.net", "bailando")
