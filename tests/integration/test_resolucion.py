"""Number resolution before first contact, the delivery watchdog and WhatsApp's stops, on the strict simulator.

Black box: a portfolio file with numbers of every kind goes in through the API, a campaign runs on the
simulator with the real dispatcher and capture, and the simulator's ledger (what each virtual phone
really received) is the judge.
"""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import Any

from sqlalchemy import select, text

from enlace.campanas.models import Campana, ParadaSeguridad
from enlace.captura.service import Captura
from enlace.carteras.models import Contacto
from enlace.envios.despachador import Despachador
from enlace.envios.resolucion import Resolutor
from enlace.mensajes.estados import CUENTAN_PARA_TOPE
from enlace.mensajes.models import MensajeEnviado
from enlace.motores.base import (
    EventoCapping,
    EventoConectado,
    EventoDesconectado,
    EventoEstado,
    EventoRestriccion,
    TiempoAgotado,
)
from enlace.motores.simulador.motor import EstadoSocket
from enlace.tiempo_real import bus
from tests.integration.test_campanas import RAPIDO, VARIANTES, conectar_simulador, correr_hasta
from tests.integration.test_carteras import CABECERA, subir

RAPIDA = {"entrega_s": (1.0, 5.0), "horas_fuera_de_linea": 0.0, "prob_respuesta": 0.0, "lid": None}


def _numeros() -> dict[str, list[str]]:
    """National numbers (10 digits) of each kind; the simulator is pinned to treat them so."""
    return {
        "movil": [f"55{20000000 + i:08d}" for i in range(15)],  # registered as 521 + 10
        "fijo": [f"33{30000000 + i:08d}" for i in range(8)],  # landlines: 52 + 10
        "business": [f"81{40000000 + i:08d}" for i in range(5)],  # WhatsApp Business on a landline: 52 + 10
        "ausente": [f"55{50000000 + i:08d}" for i in range(10)],  # not on WhatsApp at all
    }


async def _preparar(nucleo: Any, cliente_como: Any, reloj: Any, **opciones_despachador: Any) -> dict[str, Any]:
    agente = await cliente_como("agente")
    agente_id = agente.usuario["agente_id"]
    numeros = _numeros()
    filas = [n for grupo in numeros.values() for n in grupo]
    contenido = CABECERA + "".join(
        f"Persona {i},{n},{1000 + i}.50,{10000000000 + i},,Jalisco,S1\n" for i, n in enumerate(filas)
    )
    importacion = (await subir(agente, contenido)).json()
    assert importacion["aceptados"] == len(filas), importacion
    motor = await conectar_simulador(nucleo, agente_id)
    for tipo, grupo in numeros.items():
        for n in grupo:
            motor.red.fijar_perfil(n, en_whatsapp=tipo != "ausente", usa_521=tipo == "movil", **RAPIDA)

    async def conectado(aid: int) -> bool:
        return motor.estado_socket(aid) == EstadoSocket.conectado

    resolutor = Resolutor(reloj=reloj, fabrica=nucleo.fabrica, motor=motor, lote=10, pausa_s=30, max_hora=300)
    despachador = Despachador(
        reloj=reloj,
        fabrica=nucleo.fabrica,
        motor=motor,
        nodo_id="prueba",
        esta_conectado=conectado,
        resolutor=resolutor,
        **opciones_despachador,
    )
    nucleo.despachador = despachador
    captura = Captura(nucleo.fabrica, nucleo.reloj, nucleo.settings, evaluar_respuestas=False)
    manejadores = {
        EventoConectado: despachador._al_conectado,
        EventoDesconectado: despachador._al_desconectado,
        EventoCapping: despachador._al_capping,
        EventoEstado: despachador._al_estado,
        EventoRestriccion: despachador._al_restriccion,
    }

    async def receptor(evento: Any) -> None:
        await captura.procesar([evento])  # receipts and echoes move the rows, as in production
        manejador = manejadores.get(type(evento))
        if manejador is not None:
            await manejador(evento)

    motor._receptor = receptor
    plantilla = (await agente.post("/api/plantillas", json={"nombre": "P", "variantes": VARIANTES})).json()
    campana = (await agente.post("/api/campana", json={"nombre": "C", "carteraId": importacion["cartera_id"]})).json()
    return {
        "agente": agente,
        "agente_id": agente_id,
        "motor": motor,
        "despachador": despachador,
        "numeros": numeros,
        "importacion": importacion,
        "plantilla_id": plantilla["id"],
        "campana_id": campana["id"],
    }


async def _iniciar(ctx: dict[str, Any]) -> None:
    r = await ctx["agente"].post(
        "/api/campana/iniciar",
        json={"campanaId": ctx["campana_id"], "plantillaId": ctx["plantilla_id"], "configDelay": RAPIDO},
    )
    assert r.status_code == 200, r.text
    ctx["despachador"].asegurar(ctx["agente_id"])


async def _filas(nucleo: Any, campana_id: int) -> dict[str, MensajeEnviado]:
    async with nucleo.fabrica() as s:
        filas = (await s.scalars(select(MensajeEnviado).where(MensajeEnviado.campana_id == campana_id))).all()
    return {f.numero_destino: f for f in filas}


async def test_campana_de_caja_negra_sobre_numeros_de_todo_tipo(nucleo: Any, cliente_como: Any, reloj: Any) -> None:
    ctx = await _preparar(nucleo, cliente_como, reloj)
    motor, agente_id, numeros = ctx["motor"], ctx["agente_id"], ctx["numeros"]
    despachador = ctx["despachador"]
    await despachador.iniciar()
    try:
        await _iniciar(ctx)

        async def terminada_y_entregada() -> bool:
            async with nucleo.fabrica() as s:
                estado = await s.scalar(select(Campana.estado).where(Campana.id == ctx["campana_id"]))
                enviados = await s.scalar(
                    text("SELECT count(*) FROM mensajes_enviados WHERE campana_id = :c AND estado = 'enviado'"),
                    {"c": ctx["campana_id"]},
                )
            return estado == "completada" and enviados == 0

        await correr_hasta(reloj, despachador, terminada_y_entregada)
    finally:
        await despachador.detener()

    filas = await _filas(nucleo, ctx["campana_id"])
    ledger = motor.ledger
    entregados_red = {(e.telefono, e.wa_message_id) for e in ledger.todas()}
    # Every number not on WhatsApp ends in its own terminal state, never sent, never reached.
    for n in numeros["ausente"]:
        fila = filas["+52" + n]
        assert fila.estado == "sin_whatsapp" and fila.enviado_at is None, (n, fila.estado)
        assert ledger.de("+52" + n) == []
    # Every 521 mobile was delivered exactly once, to the 521 id the lookup returned.
    for n in numeros["movil"]:
        fila = filas["+52" + n]
        assert fila.estado in ("entregado", "leido"), (n, fila.estado)
        assert fila.destino_jid == f"521{n}@s.whatsapp.net"
        assert [e.wa_message_id for e in ledger.de("+52" + n)] == [fila.wa_message_id]
    for n in numeros["fijo"] + numeros["business"]:
        fila = filas["+52" + n]
        assert fila.estado in ("entregado", "leido") and fila.destino_jid == f"52{n}@s.whatsapp.net"
    # 0 rows the system calls sent that the virtual network never delivered.
    salidos = [f for f in filas.values() if f.estado in ("enviado", "entregado", "leido")]
    assert len(salidos) == 28
    assert [f.numero_destino for f in salidos if (f.numero_destino, f.wa_message_id) not in entregados_red] == []
    assert not ledger.ids_duplicados()
    # The contacts keep what WhatsApp answered, and when.
    async with nucleo.fabrica() as s:
        contactos = {c.telefono: c for c in (await s.scalars(select(Contacto))).all()}
    assert all(c.wa_verificado_at is not None for c in contactos.values())
    assert {contactos["+52" + n].telefono_wa for n in numeros["movil"]} == {
        f"521{n}@s.whatsapp.net" for n in numeros["movil"]
    }
    assert {contactos["+52" + n].en_whatsapp for n in numeros["ausente"]} == {False}
    # Lookups were batched and paced: at most 10 numbers each, 30 s apart, 38 numbers in all.
    consultas = motor.red.consultas[agente_id]
    assert sum(n for _, n in consultas) == 38 and max(n for _, n in consultas) <= 10
    assert all((b[0] - a[0]).total_seconds() >= 30 for a, b in itertools.pairwise(consultas))
    # The campaign, the funnel and the import report show the numbers not on WhatsApp.
    agente = ctx["agente"]
    estado = (await agente.get(f"/api/campana/{ctx['campana_id']}/estado")).json()
    assert (estado["estado"], estado["sin_whatsapp"], estado["enviados"]) == ("completada", 10, 28)
    embudo = (await agente.get(f"/api/reportes/tablero/campanas/{ctx['campana_id']}")).json()
    assert embudo["sin_whatsapp"] == 10 and embudo["por_estado"]["sin_whatsapp"] == 10
    importacion = (await agente.get(f"/api/cartera/importaciones/{ctx['importacion']['id']}")).json()
    assert (importacion["verificados_whatsapp"], importacion["sin_whatsapp"]) == (38, 10)
    r = await agente.get(f"/api/cartera/importaciones/{ctx['importacion']['id']}/reporte")
    reporte = r.content.decode("utf-8-sig")
    assert reporte.count("sin_whatsapp") == 10
    listado = (await agente.get("/api/reportes/mensajes", params={"estado": "sin_whatsapp"})).json()
    assert len(listado["items"]) == 10


async def test_tope_por_hora_de_consultas(nucleo: Any, cliente_como: Any, reloj: Any) -> None:
    ctx = await _preparar(nucleo, cliente_como, reloj)
    motor, agente_id = ctx["motor"], ctx["agente_id"]
    ctx["despachador"].resolutor.max_hora = 15
    despachador = ctx["despachador"]
    await despachador.iniciar()
    inicio = reloj.ahora()
    try:
        await _iniciar(ctx)

        async def dos_horas() -> bool:
            return reloj.ahora() - inicio >= timedelta(hours=2, minutes=5)

        await correr_hasta(reloj, despachador, dos_horas)
    finally:
        await despachador.detener()
    consultas = motor.red.consultas[agente_id]
    # No rolling hour ever saw more than 15 numbers looked up; after two hours 38 needed 3 windows.
    for momento, _ in consultas:
        assert sum(n for m, n in consultas if momento <= m < momento + timedelta(hours=1)) <= 15
    assert sum(n for _, n in consultas) == 38
    assert consultas[-1][0] - consultas[0][0] >= timedelta(hours=2)


async def test_vigia_de_acuses_marca_sin_acuse_y_revisa_el_numero(nucleo: Any, cliente_como: Any, reloj: Any) -> None:
    ctx = await _preparar(nucleo, cliente_como, reloj, plazo_acuse_s=3600)
    motor, numeros = ctx["motor"], ctx["numeros"]
    apagado = "+52" + numeros["movil"][0]
    # This phone is off for a day: the message leaves and no receipt comes back within the bound.
    motor.red.fijar_perfil(apagado, horas_fuera_de_linea=30.0, entrega_s=(20 * 3600.0, 20 * 3600.0))
    eventos: list[tuple[str, dict[str, Any]]] = []

    async def observar(evento: str, datos: dict[str, Any], _salas: list[str]) -> None:
        eventos.append((evento, datos))

    bus.observadores.append(observar)
    despachador = ctx["despachador"]
    await despachador.iniciar()
    try:
        await _iniciar(ctx)

        async def marcado() -> bool:
            return any(e == "envio.sin_acuse" for e, _ in eventos)

        await correr_hasta(reloj, despachador, marcado)
        ids = {d["agente_id"]: d for e, d in eventos if e == "envio.sin_acuse"}
        filas = await _filas(nucleo, ctx["campana_id"])
        fila = filas[apagado]
        assert fila.estado == "enviado" and fila.sin_acuse_at is not None
        assert ids[ctx["agente_id"]]["mensaje_ids"] == [fila.id]
        estado = (await ctx["agente"].get(f"/api/campana/{ctx['campana_id']}/estado")).json()
        assert estado["sin_acuse"] == 1
        embudo = (await ctx["agente"].get(f"/api/reportes/tablero/campanas/{ctx['campana_id']}")).json()
        assert embudo["sin_acuse"] == 1

        async def revisado() -> bool:
            async with nucleo.fabrica() as s:
                c = await s.scalar(select(Contacto).where(Contacto.telefono == apagado))
            return c is not None and c.wa_verificado_at is not None and c.wa_verificado_at >= fila.sin_acuse_at

        await correr_hasta(reloj, despachador, revisado)
        # The number was looked up again: 38 first lookups plus that one (and nothing was resent to it).
        assert sum(n for _, n in motor.red.consultas[ctx["agente_id"]]) == 39
        assert len(motor.ledger.de(apagado)) <= 1
    finally:
        bus.observadores.remove(observar)
        await despachador.detener()


async def test_timelock_al_conectar_y_463_paran_con_motivo_y_hasta(nucleo: Any, cliente_como: Any, reloj: Any) -> None:
    ctx = await _preparar(nucleo, cliente_como, reloj)
    motor, agente_id = ctx["motor"], ctx["agente_id"]
    despachador = ctx["despachador"]
    await despachador.iniciar()
    try:
        # WhatsApp timelocks the account for 3 hours: reported as on open, applied as a stop until then.
        await motor.inyectar_fallo(agente_id, "restriccion", duracion_s=3 * 3600)
        hasta = reloj.ahora() + timedelta(hours=3)
        await _iniciar(ctx)
        await correr_hasta(reloj, despachador, _pasados(reloj, 600))
        async with nucleo.fabrica() as s:
            paradas = (await s.scalars(select(ParadaSeguridad).where(ParadaSeguridad.resuelta_at.is_(None)))).all()
        timelock = [p for p in paradas if p.motivo == "timelock"]
        assert len(timelock) == 1 and timelock[0].hasta == hasta and "hasta" in (timelock[0].detalle or "")
        assert motor.ledger.todas() == []
        # The timelock stop lifts itself at its end; the 463 restriction stop waits for a supervisor.
        await correr_hasta(reloj, despachador, _pasados(reloj, 3 * 3600))
        async with nucleo.fabrica() as s:
            lt = await s.scalar(select(ParadaSeguridad).where(ParadaSeguridad.motivo == "timelock"))
            assert lt is not None and lt.resuelta_at is not None
        r = await ctx["agente"].get("/api/envios/paradas")
        assert [p["motivo"] for p in r.json()] == ["restriccion"]
    finally:
        await despachador.detener()


class _MotorLento:
    """The engine does not answer a send in time (the gateway's answer is lost or late)."""

    def __init__(self, motor: Any) -> None:
        self._motor = motor
        self.llamadas = 0

    def __getattr__(self, nombre: str) -> Any:
        return getattr(self._motor, nombre)

    async def enviar_texto(self, agente_id: int, destino_jid: str, texto: str, wa_message_id: str) -> Any:
        self.llamadas += 1
        if self.llamadas % 2:
            await self._motor.enviar_texto(agente_id, destino_jid, texto, wa_message_id)  # this one did leave
        raise TiempoAgotado("La pasarela no respondió a tiempo", codigo=408)


async def test_envio_sin_respuesta_a_tiempo_queda_incierto_y_no_se_reenvia(
    nucleo: Any, cliente_como: Any, reloj: Any
) -> None:
    ctx = await _preparar(nucleo, cliente_como, reloj)
    motor = ctx["motor"]
    lento = _MotorLento(motor)
    despachador = ctx["despachador"]
    despachador.motor = lento
    despachador.resolutor.motor = lento
    await despachador.iniciar()
    try:
        await _iniciar(ctx)
        await correr_hasta(reloj, despachador, _terminada(nucleo, ctx["campana_id"]))
    finally:
        await despachador.detener()
    filas = await _filas(nucleo, ctx["campana_id"])
    # A send with no answer in time is `incierto`, never resent; the echo or a receipt later proves it
    # left (capture moves it on). None was sent twice, and every one counts toward the frequency cap.
    assert {f.estado for f in filas.values()} <= {"incierto", "enviado", "entregado", "leido", "sin_whatsapp"}
    assert not motor.ledger.ids_duplicados()
    assert all(len(motor.ledger.de(t)) <= 1 for t in filas)
    assert sum(1 for f in filas.values() if f.estado in CUENTAN_PARA_TOPE) == 28
    assert lento.llamadas == 28  # one attempt per row: nothing was retried
    # Those that never left stay `incierto` with the reason; those that did were proven by capture.
    inciertos = [f for f in filas.values() if f.estado == "incierto"]
    assert len(inciertos) == 14
    assert all(motor.ledger.de(f.numero_destino) == [] and "no se reenvía" in f.detalle_error for f in inciertos)
    probados = [f for f in filas.values() if f.estado in ("enviado", "entregado", "leido")]
    assert len(probados) == 14 and all(len(motor.ledger.de(f.numero_destino)) == 1 for f in probados)


def _pasados(reloj: Any, segundos: float) -> Any:
    fin = reloj.ahora() + timedelta(seconds=segundos)

    async def condicion() -> bool:
        return reloj.ahora() >= fin

    return condicion


def _terminada(nucleo: Any, campana_id: int) -> Any:
    async def condicion() -> bool:
        async with nucleo.fabrica() as s:
            return await s.scalar(select(Campana.estado).where(Campana.id == campana_id)) == "completada"

    return condicion
