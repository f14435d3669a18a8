"""The real dispatcher on the simulator honours opt-outs (before and during a campaign) and the frequency cap."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from enlace.campanas.models import Campana
from enlace.cumplimiento import service
from enlace.envios.despachador import Despachador
from enlace.mensajes.models import MensajeEnviado
from enlace.motores.simulador.motor import EstadoSocket
from tests.integration.test_campanas import RAPIDO, VARIANTES, conectar_simulador, correr_hasta, crear_cartera
from tests.integration.test_cumplimiento import nuevo_recibido

N = 30


async def _baja(nucleo: Any, agente_id: int, telefono: str) -> None:
    async with nucleo.fabrica() as s:
        recibido = await nuevo_recibido(s, agente_id, telefono, "Ya no me manden mensajes por favor")
        r = await service.evaluar_respuesta(
            s,
            mensaje_recibido_id=recibido.id,
            telefono=telefono,
            texto=recibido.mensaje,
            contacto_id=None,
            agente_id=agente_id,
            ahora=nucleo.reloj.ahora(),
        )
        assert r.clase == "baja"
        await s.commit()


async def test_campana_real_respeta_bajas_y_tope(nucleo: Any, cliente_como: Any, reloj: Any) -> None:
    agente = await cliente_como("agente")
    agente_id = agente.usuario["agente_id"]
    cartera_id, telefonos = await crear_cartera(nucleo, agente_id, N)
    motor = await conectar_simulador(nucleo, agente_id)
    for t in telefonos:
        motor.red.fijar_perfil(t, en_whatsapp=True, prob_respuesta=0.0)
    plantilla = (await agente.post("/api/plantillas", json={"nombre": "P", "variantes": VARIANTES})).json()
    campana = (await agente.post("/api/campana", json={"nombre": "C1", "carteraId": cartera_id})).json()

    async def conectado(aid: int) -> bool:
        return motor.estado_socket(aid) == EstadoSocket.conectado

    despachador = Despachador(
        reloj=reloj, fabrica=nucleo.fabrica, motor=motor, nodo_id="prueba", esta_conectado=conectado
    )
    nucleo.despachador = despachador
    await despachador.iniciar()
    antes, durante = telefonos[:3], telefonos[-1]
    marca: dict[str, int] = {}
    try:
        r = await agente.post(
            "/api/campana/iniciar",
            json={"campanaId": campana["id"], "plantillaId": plantilla["id"], "configDelay": RAPIDO},
        )
        assert r.status_code == 200, r.text
        # Three people answered an earlier message with an opt-out before this campaign starts sending.
        for t in antes:
            await _baja(nucleo, agente_id, t)
        despachador.asegurar(agente_id)

        async def condicion() -> bool:
            if "baja" not in marca and len(motor.ledger) >= 10:
                await _baja(nucleo, agente_id, durante)  # the last person opts out mid-campaign
                marca["baja"] = len(motor.ledger)
            async with nucleo.fabrica() as s:
                estado = await s.scalar(select(Campana.estado).where(Campana.id == campana["id"]))
                pendientes = await s.scalar(
                    select(MensajeEnviado.id)
                    .where(
                        MensajeEnviado.campana_id == campana["id"], MensajeEnviado.estado.in_(("pendiente", "enviando"))
                    )
                    .limit(1)
                )
            return estado == "completada" or ("baja" in marca and pendientes is None)

        await correr_hasta(reloj, despachador, condicion)
    finally:
        await despachador.detener()

    entradas = motor.ledger.todas()
    assert not [e for e in entradas if e.telefono in antes]
    assert not [i for i, e in enumerate(entradas) if e.telefono == durante and i >= marca["baja"]]
    async with nucleo.fabrica() as s:
        filas = {
            f.numero_destino: f
            for f in (await s.scalars(select(MensajeEnviado).where(MensajeEnviado.campana_id == campana["id"]))).all()
        }
    assert {filas[t].estado for t in antes} == {"cancelado"}
    assert filas[durante].estado == "cancelado"
    enviados = [t for t, f in filas.items() if f.estado == "enviado"]
    assert len(enviados) == N - 4
    assert len(entradas) == N - 4 and not motor.ledger.ids_duplicados()

    # A second campaign to the same people the same week: the frequency cap holds every row back
    # (1 campaign message per person per 7 days), and nothing more reaches anyone.
    segunda = (await agente.post("/api/campana", json={"nombre": "C2", "carteraId": cartera_id})).json()
    despachador = Despachador(
        reloj=reloj, fabrica=nucleo.fabrica, motor=motor, nodo_id="prueba", esta_conectado=conectado
    )
    nucleo.despachador = despachador
    await despachador.iniciar()
    try:
        r = await agente.post(
            "/api/campana/iniciar",
            json={"campanaId": segunda["id"], "plantillaId": plantilla["id"], "configDelay": RAPIDO},
        )
        assert r.status_code == 200, r.text
        despachador.asegurar(agente_id)
        inicio = reloj.ahora()

        async def una_hora() -> bool:
            return reloj.ahora() - inicio >= timedelta(hours=1)

        await correr_hasta(reloj, despachador, una_hora)
    finally:
        await despachador.detener()
    assert len(motor.ledger) == N - 4
    async with nucleo.fabrica() as s:
        filas2 = (await s.scalars(select(MensajeEnviado).where(MensajeEnviado.campana_id == segunda["id"]))).all()
    assert filas2, "la segunda campaña no generó filas"
    assert not [f for f in filas2 if f.estado in ("enviando", "enviado", "entregado", "leido")]
    diferidas = [f for f in filas2 if f.estado == "pendiente"]
    assert diferidas and all(f.programado_para and f.programado_para >= inicio + timedelta(days=6) for f in diferidas)
    assert not [f for f in filas2 if f.numero_destino in (*antes, durante) and f.estado == "pendiente"]
