"""One engine contract, run against the simulator and against the Baileys gateway (stand-in socket).

Each engine gets a small driver for what only a test can do (scan the QR, make someone write, inject a
failure); the assertions are the same for both, so business code can rely on them whatever the engine.
"""

from __future__ import annotations

import asyncio
import re
import shutil
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from enlace.motores.base import (
    ClaseDesconexion,
    EstadoEntrega,
    EventoCapping,
    EventoConectado,
    EventoCredenciales,
    EventoDesconectado,
    EventoEstado,
    EventoMapeoIdentificador,
    EventoMensaje,
    EventoQR,
    Motor,
    NivelCapping,
    OpcionesInicio,
    SesionNoDisponible,
)
from enlace.motores.simulador import MotorSimulador, telefono_canonico
from enlace.reloj import RelojAcelerado
from enlace.sesiones.cifrado import fusionar_credenciales
from tests.soporte.receptor import Receptor

NUMERO_AGENTE = "5215512345678"
DESTINO = "5511112222"
ESCRIBE = "5511113333"
EN_WHATSAPP, FUERA = "525512340001", "525512340000"
LID = "987654321@lid"


class ConductorSimulador:
    def __init__(self) -> None:
        self.motor = MotorSimulador(RelojAcelerado(60), semilla=3)
        red = self.motor.red
        rapido: dict[str, Any] = dict(
            en_whatsapp=True,
            lid=None,
            horas_fuera_de_linea=0.0,
            entrega_s=(1.0, 2.0),
            prob_lectura=1.0,
            lectura_s=(1.0, 2.0),
            prob_respuesta=0.0,
        )
        red.fijar_perfil(DESTINO, **rapido)
        red.fijar_perfil(EN_WHATSAPP, **rapido)
        red.fijar_perfil(FUERA, en_whatsapp=False)
        red.fijar_perfil(ESCRIBE, **{**rapido, "lid": LID, "nombre": "Ana"})

    async def escanear(self, agente_id: int) -> None:
        await self.motor.escanear_qr(agente_id, numero=NUMERO_AGENTE)

    async def recibir(self, agente_id: int) -> None:
        await self.motor.recibir_de(agente_id, ESCRIBE, "Sí me interesa")

    async def escribir_en_telefono(self, agente_id: int, texto: str) -> None:
        await self.motor.escribir_desde_telefono(agente_id, DESTINO, texto)

    async def fallar_envios(self, agente_id: int, codigo: int) -> None:
        await self.motor.inyectar_fallo(agente_id, "error_envio", codigo=codigo)

    async def capping(self, agente_id: int) -> None:
        await self.motor.inyectar_fallo(agente_id, "capping", nivel="primer_aviso")

    async def reemplazar(self, agente_id: int) -> None:
        await self.motor.inyectar_fallo(agente_id, "reemplazo")


class ConductorBaileys:
    def __init__(self) -> None:
        from enlace.motores.baileys.motor import MotorBaileys, entorno_socket_simulado

        self.motor = MotorBaileys(entorno=entorno_socket_simulado(retraso_ms=5), tiempo_espera_s=10)

    async def escanear(self, agente_id: int) -> None:
        await self.motor.simular(agente_id, "escanear", {"numero": NUMERO_AGENTE})

    async def recibir(self, agente_id: int) -> None:
        datos = {"de": f"521{ESCRIBE}@s.whatsapp.net", "lid": LID, "texto": "Sí me interesa", "nombre": "Ana"}
        await self.motor.simular(agente_id, "recibir", datos)

    async def escribir_en_telefono(self, agente_id: int, texto: str) -> None:
        await self.motor.simular(
            agente_id, "escribir_en_telefono", {"a": f"521{DESTINO}@s.whatsapp.net", "texto": texto}
        )

    async def fallar_envios(self, agente_id: int, codigo: int) -> None:
        await self.motor.simular(agente_id, "fallar_envios", {"codigo": codigo})

    async def capping(self, agente_id: int) -> None:
        await self.motor.simular(agente_id, "capping", {"capping_status": "FIRST_WARNING"})

    async def reemplazar(self, agente_id: int) -> None:
        await self.motor.simular(agente_id, "desconectar", {"codigo": 440})


def _hay_pasarela() -> bool:
    from enlace.motores.baileys.motor import DIRECTORIO_GATEWAY

    return shutil.which("node") is not None and (DIRECTORIO_GATEWAY / "node_modules" / "baileys").exists()


@pytest.fixture(
    params=[
        "simulador",
        pytest.param(
            "baileys",
            marks=[
                pytest.mark.gateway,
                pytest.mark.skipif(not _hay_pasarela(), reason="necesita node y `npm ci` en gateway/"),
            ],
        ),
    ]
)
async def motor(request: Any) -> AsyncIterator[tuple[Motor, Any, Receptor]]:
    conductor = ConductorSimulador() if request.param == "simulador" else ConductorBaileys()
    receptor = Receptor()
    await conductor.motor.iniciar(receptor)
    yield conductor.motor, conductor, receptor
    await conductor.motor.detener()


async def vincular(m: Motor, conductor: Any, r: Receptor, agente_id: int) -> EventoConectado:
    await m.iniciar_sesion(agente_id, OpcionesInicio())
    await r.esperar(lambda e: isinstance(e, EventoQR) and e.agente_id == agente_id)
    await conductor.escanear(agente_id)
    return await r.esperar(lambda e: isinstance(e, EventoConectado) and e.agente_id == agente_id)


def jid_de(telefono10: str) -> Callable[[str | None], bool]:
    return lambda jid: bool(jid) and re.fullmatch(rf"521?{telefono10}@s\.whatsapp\.net", jid) is not None


def guardadas(r: Receptor, agente_id: int) -> dict[str, Any]:
    estado: dict[str, Any] | None = None
    for e in r.de(EventoCredenciales, agente_id):
        estado = fusionar_credenciales(estado, e.datos)
    return estado or {}


async def test_vincula_por_qr_y_guarda_credenciales_antes(motor: Any) -> None:
    m, conductor, r = motor
    await m.iniciar_sesion(1, OpcionesInicio())
    qr = await r.esperar(lambda e: isinstance(e, EventoQR))
    assert qr.expira_en_s == 60 and qr.qr.startswith("2@") and len(qr.qr.split(",")) == 4
    await conductor.escanear(1)
    conectado = await r.esperar(lambda e: isinstance(e, EventoConectado))
    assert conectado.numero == "+525512345678" and jid_de("5512345678")(conectado.wa_id)
    assert conectado.lid and conectado.lid.endswith("@lid")
    indice = r.eventos.index(conectado)
    assert any(isinstance(e, EventoCredenciales) for e in r.eventos[:indice])
    assert guardadas(r, 1)["creds"]["registered"] is True


async def test_codigo_de_emparejamiento(motor: Any) -> None:
    m, _, r = motor
    await m.iniciar_sesion(2, OpcionesInicio())
    await r.esperar(lambda e: isinstance(e, EventoQR))
    codigo = await m.pedir_codigo_emparejamiento(2, "525599998888")
    assert re.fullmatch(r"[0-9A-Z]{8}", codigo)


async def test_envio_eco_y_recibos_en_orden(motor: Any) -> None:
    m, conductor, r = motor
    await vincular(m, conductor, r, 3)
    wa_id = m.nuevo_id_mensaje(3)
    assert re.fullmatch(r"3EB0[0-9A-F]{18}", wa_id)
    resultado = await m.enviar_texto(3, f"521{DESTINO}@s.whatsapp.net", "Hola, le escribe Enlace", wa_id)
    assert resultado.wa_message_id == wa_id
    eco = await r.esperar(lambda e: isinstance(e, EventoMensaje) and e.wa_message_id == wa_id)
    assert eco.de_mi and eco.texto == "Hola, le escribe Enlace"
    await r.esperar(lambda e: isinstance(e, EventoEstado) and e.wa_message_id == wa_id and e.estado == "leido")
    estados = [e.estado for e in r.de(EventoEstado, 3) if e.wa_message_id == wa_id]
    # No server-ack on success: real Baileys emits none, so neither engine does.
    assert estados == [EstadoEntrega.entregado, EstadoEntrega.leido]
    await m.presencia(3, f"521{DESTINO}@s.whatsapp.net", "composing")
    assert await m.consultar_numero(3, [EN_WHATSAPP, FUERA]) == {
        EN_WHATSAPP: (await m.consultar_numero(3, [EN_WHATSAPP]))[EN_WHATSAPP],
        FUERA: None,
    }
    assert jid_de("5512340001")((await m.consultar_numero(3, [EN_WHATSAPP]))[EN_WHATSAPP])


async def test_recibe_por_lid_y_mensajes_del_telefono(motor: Any) -> None:
    m, conductor, r = motor
    await vincular(m, conductor, r, 4)
    await conductor.recibir(4)
    recibido = await r.esperar(lambda e: isinstance(e, EventoMensaje) and not e.de_mi)
    assert recibido.chat_jid == LID and jid_de(ESCRIBE)(recibido.telefono_jid)
    assert telefono_canonico(recibido.telefono_jid) == f"+52{ESCRIBE}"
    assert recibido.texto == "Sí me interesa" and recibido.nombre_perfil == "Ana"
    mapeo = await r.esperar(lambda e: isinstance(e, EventoMapeoIdentificador))
    assert mapeo.lid == LID and jid_de(ESCRIBE)(mapeo.telefono_jid)
    await conductor.escribir_en_telefono(4, "Le escribo desde mi cel")
    propio = await r.esperar(lambda e: isinstance(e, EventoMensaje) and e.de_mi)
    assert propio.texto == "Le escribo desde mi cel" and jid_de(DESTINO)(propio.telefono_jid or propio.chat_jid)


async def test_463_y_capping(motor: Any) -> None:
    m, conductor, r = motor
    await vincular(m, conductor, r, 5)
    await conductor.fallar_envios(5, 463)
    wa_id = m.nuevo_id_mensaje(5)
    await m.enviar_texto(5, f"521{DESTINO}@s.whatsapp.net", "x", wa_id)
    fallo = await r.esperar(
        lambda e: isinstance(e, EventoEstado) and e.wa_message_id == wa_id and e.estado == "fallido"
    )
    assert fallo.codigo_error == 463
    await conductor.capping(5)
    capping = await r.esperar(lambda e: isinstance(e, EventoCapping))
    assert capping.nivel == NivelCapping.primer_aviso


async def test_reanuda_sin_qr_y_cierre_de_sesion(motor: Any) -> None:
    m, conductor, r = motor
    await vincular(m, conductor, r, 6)
    await m.detener_sesion(6)
    credenciales = guardadas(r, 6)
    qrs = len(r.de(EventoQR, 6))
    await m.iniciar_sesion(6, OpcionesInicio(credenciales=credenciales))
    await r.esperar(lambda e: len(r.de(EventoConectado, 6)) == 2)
    assert len(r.de(EventoQR, 6)) == qrs
    await m.cerrar_sesion(6)
    cierre = await r.esperar(lambda e: isinstance(e, EventoDesconectado) and e.agente_id == 6)
    assert (cierre.clase, cierre.codigo) == (ClaseDesconexion.sesion_cerrada, 401)
    with pytest.raises(SesionNoDisponible):
        await m.enviar_texto(6, f"521{DESTINO}@s.whatsapp.net", "x", m.nuevo_id_mensaje(6))


async def test_reemplazada_no_reconecta(motor: Any) -> None:
    m, conductor, r = motor
    await vincular(m, conductor, r, 7)
    await conductor.reemplazar(7)
    d = await r.esperar(lambda e: isinstance(e, EventoDesconectado) and e.agente_id == 7)
    assert d.clase == ClaseDesconexion.reemplazada and d.codigo == 440
    await asyncio.sleep(0.2)
    assert len(r.de(EventoConectado, 7)) == 1
    with pytest.raises(SesionNoDisponible):
        await m.enviar_texto(7, f"521{DESTINO}@s.whatsapp.net", "x", m.nuevo_id_mensaje(7))
