"""The dispatcher: safety stops, failure rate, compliance gate and crash reconciliation, on the simulator."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select, text

from enlace.campanas.models import Campana, ParadaSeguridad
from enlace.envios import repository as repo_envios
from enlace.envios.despachador import Despachador
from enlace.mensajes.models import MensajeEnviado
from enlace.motores.base import (
    EventoCapping,
    EventoConectado,
    EventoDesconectado,
    EventoEstado,
)
from enlace.motores.simulador.motor import EstadoSocket
from enlace.tiempo_real import bus
from tests.integration.test_campanas import RAPIDO, VARIANTES, conectar_simulador, correr_hasta, crear_cartera
from tests.soporte.arriendo import arrendar


async def preparar(nucleo: Any, cliente_como: Any, reloj: Any, n: int, **opciones: Any) -> dict[str, Any]:
    agente = await cliente_como("agente")
    agente_id = agente.usuario["agente_id"]
    cartera_id, telefonos = await crear_cartera(nucleo, agente_id, n)
    motor = await conectar_simulador(nucleo, agente_id)
    for t in telefonos:
        motor.red.fijar_perfil(t, en_whatsapp=True, prob_respuesta=0.0)

    async def conectado(aid: int) -> bool:
        return motor.estado_socket(aid) == EstadoSocket.conectado

    despachador = Despachador(
        reloj=reloj,
        fabrica=nucleo.fabrica,
        motor=opciones.pop("motor", motor),
        nodo_id="prueba",
        esta_conectado=conectado,
        **opciones,
    )

    async def receptor(evento: Any) -> None:
        manejador = {
            EventoConectado: despachador._al_conectado,
            EventoDesconectado: despachador._al_desconectado,
            EventoCapping: despachador._al_capping,
            EventoEstado: despachador._al_estado,
        }.get(type(evento))
        if manejador is not None:
            await manejador(evento)

    motor._receptor = receptor
    plantilla = (await agente.post("/api/plantillas", json={"nombre": "P", "variantes": VARIANTES})).json()
    campana = (await agente.post("/api/campana", json={"nombre": "C", "carteraId": cartera_id})).json()
    return {
        "agente": agente,
        "agente_id": agente_id,
        "motor": motor,
        "despachador": despachador,
        "plantilla_id": plantilla["id"],
        "campana_id": campana["id"],
        "telefonos": telefonos,
    }


async def iniciar(ctx: dict[str, Any]) -> None:
    r = await ctx["agente"].post(
        "/api/campana/iniciar",
        json={"campanaId": ctx["campana_id"], "plantillaId": ctx["plantilla_id"], "configDelay": RAPIDO},
    )
    assert r.status_code == 200, r.text


async def filas(nucleo: Any, campana_id: int) -> list[MensajeEnviado]:
    async with nucleo.fabrica() as s:
        return list((await s.scalars(select(MensajeEnviado).where(MensajeEnviado.campana_id == campana_id))).all())


def pasados(reloj: Any, segundos: float) -> Any:
    """A condition that holds once `segundos` of clock time have gone by."""
    fin = reloj.ahora() + timedelta(seconds=segundos)

    async def condicion() -> bool:
        return reloj.ahora() >= fin

    return condicion


def terminada(nucleo: Any, campana_id: int) -> Any:
    async def condicion() -> bool:
        async with nucleo.fabrica() as s:
            return await s.scalar(select(Campana.estado).where(Campana.id == campana_id)) == "completada"

    return condicion


async def test_capping_detiene_y_se_reanuda_al_normalizarse(nucleo: Any, cliente_como: Any, reloj: Any) -> None:
    ctx = await preparar(nucleo, cliente_como, reloj, 12)
    eventos: list[tuple[str, dict[str, Any]]] = []

    async def observar(evento: str, datos: dict[str, Any], _salas: list[str]) -> None:
        eventos.append((evento, datos))

    bus.observadores.append(observar)
    despachador = ctx["despachador"]
    await despachador.iniciar()
    try:
        await ctx["motor"].inyectar_fallo(ctx["agente_id"], "capping", nivel="segundo_aviso")
        await iniciar(ctx)
        despachador.asegurar(ctx["agente_id"])
        await correr_hasta(reloj, despachador, pasados(reloj, 300))
        assert {f.estado for f in await filas(nucleo, ctx["campana_id"])} == {"pendiente"}
        async with nucleo.fabrica() as s:
            parada = await s.scalar(select(ParadaSeguridad).where(ParadaSeguridad.resuelta_at.is_(None)))
        assert parada is not None and parada.motivo == "capping" and "segundo_aviso" in parada.detalle
        assert any(e == "envio.parada" and d["motivo"] == "capping" for e, d in eventos)
        r = await ctx["agente"].get("/api/envios/paradas")
        assert [p["motivo"] for p in r.json()] == ["capping"]
        await ctx["motor"].inyectar_fallo(ctx["agente_id"], "capping", nivel="ninguno")
        await correr_hasta(reloj, despachador, terminada(nucleo, ctx["campana_id"]))
    finally:
        bus.observadores.remove(observar)
        await despachador.detener()
    assert {f.estado for f in await filas(nucleo, ctx["campana_id"])} == {"enviado"}
    assert len(ctx["motor"].ledger) == 12


async def test_tasa_de_fallos_detiene_y_el_supervisor_reanuda(nucleo: Any, cliente_como: Any, reloj: Any) -> None:
    ctx = await preparar(nucleo, cliente_como, reloj, 10, ventana_fallos=4, umbral_fallos=0.75)
    despachador = ctx["despachador"]
    admin = await cliente_como("admin")
    await ctx["motor"].inyectar_fallo(ctx["agente_id"], "error_envio", codigo=500, veces=4, excepcion=True)
    await despachador.iniciar()
    try:
        await iniciar(ctx)
        despachador.asegurar(ctx["agente_id"])

        async def parada_activa() -> bool:
            async with nucleo.fabrica() as s:
                return bool(await s.scalar(text("SELECT count(*) FROM paradas_seguridad WHERE resuelta_at IS NULL")))

        await correr_hasta(reloj, despachador, parada_activa)
        await correr_hasta(reloj, despachador, pasados(reloj, 300))
        estados = [f.estado for f in await filas(nucleo, ctx["campana_id"])]
        assert estados.count("fallido") == 4 and estados.count("pendiente") == 6
        paradas = (await admin.get("/api/envios/paradas")).json()
        assert [p["motivo"] for p in paradas] == ["tasa_fallos"]
        assert (await ctx["agente"].post(f"/api/envios/paradas/{paradas[0]['id']}/reanudar")).status_code == 403
        r = await admin.post(f"/api/envios/paradas/{paradas[0]['id']}/reanudar")
        assert r.status_code == 200 and r.json()["resuelta_at"] is not None
        await correr_hasta(reloj, despachador, terminada(nucleo, ctx["campana_id"]))
    finally:
        await despachador.detener()
    async with nucleo.fabrica() as s:
        c = await s.get(Campana, ctx["campana_id"])
    assert (c.total_mensajes, c.enviados, c.fallidos) == (10, 6, 4)
    assert len(ctx["motor"].ledger) == 6


async def test_supresion_en_la_puerta(nucleo: Any, cliente_como: Any, reloj: Any) -> None:
    from enlace.cumplimiento.service import suprimir

    ctx = await preparar(nucleo, cliente_como, reloj, 5)
    despachador = ctx["despachador"]
    await despachador.iniciar()
    try:
        await iniciar(ctx)
        async with nucleo.fabrica() as s:
            await suprimir(s, telefono=ctx["telefonos"][2], motivo="Pidió BAJA", fuente="manual", actor=None)
            await s.commit()
        despachador.asegurar(ctx["agente_id"])
        await correr_hasta(reloj, despachador, terminada(nucleo, ctx["campana_id"]))
    finally:
        await despachador.detener()
    por_tel = {f.numero_destino: f.estado for f in await filas(nucleo, ctx["campana_id"])}
    assert por_tel.pop(ctx["telefonos"][2]) in ("suprimido", "cancelado")
    assert set(por_tel.values()) == {"enviado"}
    assert ctx["motor"].ledger.de(ctx["telefonos"][2]) == []


class SinConsulta:
    """An engine that can't say whether a message left (like Baileys): only echoes/receipts prove it."""

    def __init__(self, motor: Any) -> None:
        self._motor = motor

    def __getattr__(self, nombre: str) -> Any:
        if nombre == "consultar_envio":
            raise AttributeError(nombre)
        return getattr(self._motor, nombre)


async def _simular_caida(nucleo: Any, ctx: dict[str, Any], reloj: Any) -> list[MensajeEnviado]:
    """Start the campaign and leave three rows `enviando` as a crash would; the first really left."""
    await iniciar(ctx)
    pasado = reloj.ahora() - timedelta(minutes=5)
    async with nucleo.fabrica() as s:
        ids = list((await s.scalars(text("SELECT id FROM mensajes_enviados ORDER BY id LIMIT 3"))).all())
        # A row is only claimed once its number was looked up: those three had been, before the "crash".
        telefonos = list(
            (
                await s.scalars(text("SELECT numero_destino FROM mensajes_enviados WHERE id = ANY(:ids)"), {"ids": ids})
            ).all()
        )
        jids = await ctx["motor"].consultar_numero(ctx["agente_id"], [t.lstrip("+") for t in telefonos])
        for t in telefonos:
            await s.execute(
                text(
                    "UPDATE contactos SET en_whatsapp = true, telefono_wa = :j, wa_verificado_at = :p"
                    " WHERE telefono = :t"
                ),
                {"j": jids[t.lstrip("+")], "p": pasado, "t": t},
            )
            await s.execute(
                text(
                    "UPDATE mensajes_enviados SET estado = 'enviando', intentado_at = :p, destino_jid = :j"
                    " WHERE id = ANY(:ids) AND numero_destino = :t"
                ),
                {"p": pasado, "ids": ids, "j": jids[t.lstrip("+")], "t": t},
            )
        await s.commit()
    caidas = [f for f in await filas(nucleo, ctx["campana_id"]) if f.id in ids]
    caidas.sort(key=lambda f: f.id)
    enviada = caidas[0]
    await ctx["motor"].enviar_texto(ctx["agente_id"], enviada.destino_jid, enviada.mensaje, enviada.wa_message_id)
    return caidas


async def test_reconciliacion_con_motor_que_responde(nucleo: Any, cliente_como: Any, reloj: Any) -> None:
    ctx = await preparar(nucleo, cliente_como, reloj, 6)
    caidas = await _simular_caida(nucleo, ctx, reloj)
    despachador = ctx["despachador"]
    await despachador.iniciar()
    try:
        despachador.asegurar(ctx["agente_id"])
        await correr_hasta(reloj, despachador, terminada(nucleo, ctx["campana_id"]))
    finally:
        await despachador.detener()
    assert {f.estado for f in await filas(nucleo, ctx["campana_id"])} == {"enviado"}
    # Exactly one message per contact, including the one that had left before the "crash".
    for f in caidas:
        assert [r.wa_message_id for r in ctx["motor"].ledger.de(f.numero_destino)] == [f.wa_message_id]
    assert len(ctx["motor"].ledger) == 6 and not ctx["motor"].ledger.ids_duplicados()


async def test_reconciliacion_sin_prueba_queda_incierto_y_no_se_reenvia(
    nucleo: Any, cliente_como: Any, reloj: Any
) -> None:
    ctx = await preparar(nucleo, cliente_como, reloj, 6)
    ctx["despachador"].motor = SinConsulta(ctx["motor"])
    ctx["despachador"].plazo_reconciliacion_s = 60
    caidas = await _simular_caida(nucleo, ctx, reloj)
    despachador = ctx["despachador"]
    await despachador.iniciar()
    try:
        despachador.asegurar(ctx["agente_id"])

        async def sin_enviando() -> bool:
            estados = {f.estado for f in await filas(nucleo, ctx["campana_id"])}
            return "pendiente" not in estados and "enviando" not in estados

        await correr_hasta(reloj, despachador, sin_enviando)
    finally:
        await despachador.detener()
    por_id = {f.id: f for f in await filas(nucleo, ctx["campana_id"])}
    assert [por_id[f.id].estado for f in caidas] == ["incierto", "incierto", "incierto"]
    for f in caidas:  # never resent: the one that left once stays once, the others never left
        assert len(ctx["motor"].ledger.de(f.numero_destino)) == (1 if f is caidas[0] else 0)
    assert len(ctx["motor"].ledger) == 4
    estado = (await ctx["agente"].get(f"/api/campana/{ctx['campana_id']}/estado")).json()
    assert estado["inciertos"] == 3 and estado["enviados"] == 3


class Contador:
    """The same simulated network, seen through one node: records what this node handed to the engine."""

    def __init__(self, motor: Any) -> None:
        self._motor = motor
        self.enviados: list[str] = []

    async def enviar_texto(self, agente_id: int, jid: str, texto: str, wa_message_id: str) -> Any:
        self.enviados.append(wa_message_id)
        return await self._motor.enviar_texto(agente_id, jid, texto, wa_message_id)

    def __getattr__(self, nombre: str) -> Any:
        return getattr(self._motor, nombre)


class Ambos:
    """Both nodes' dispatchers idle on the clock (what `correr_hasta` waits for)."""

    def __init__(self, *despachadores: Despachador) -> None:
        self.despachadores = despachadores

    @property
    def en_reposo(self) -> bool:
        return all(d.en_reposo for d in self.despachadores)


async def test_nodo_que_perdio_el_arriendo_no_envia(nucleo: Any, cliente_como: Any, reloj: Any) -> None:
    """Node A sends under its lease; node B takes the session over (new fencing token): A claims nothing more."""
    ctx = await preparar(nucleo, cliente_como, reloj, 12)
    agente_id = ctx["agente_id"]
    motor_a, motor_b = Contador(ctx["motor"]), Contador(ctx["motor"])

    async def conectado(_aid: int) -> bool:
        return True  # both nodes believe they are connected: only the lease may decide

    a = Despachador(reloj=reloj, fabrica=nucleo.fabrica, motor=motor_a, nodo_id="prueba", esta_conectado=conectado)
    b = Despachador(reloj=reloj, fabrica=nucleo.fabrica, motor=motor_b, nodo_id="otro", esta_conectado=conectado)
    await a.iniciar()
    await b.iniciar()
    try:
        await iniciar(ctx)
        a.asegurar(agente_id)

        async def cuatro_enviados() -> bool:
            return len(motor_a.enviados) >= 4

        await correr_hasta(reloj, a, cuatro_enviados)
        # B's session manager took the lease (A's expired while it was stalled): token + 1, owner "otro".
        await arrendar(nucleo.fabrica, agente_id, "otro")
        de_a = len(motor_a.enviados)
        b.asegurar(agente_id)
        a.despertar(agente_id)  # A's loop keeps trying: its claim must fail against the new token
        await correr_hasta(reloj, Ambos(a, b), terminada(nucleo, ctx["campana_id"]))  # type: ignore[arg-type]
    finally:
        await a.detener()
        await b.detener()
    assert len(motor_a.enviados) == de_a  # nothing left node A after it lost the lease
    assert len(motor_b.enviados) == 12 - de_a
    assert not ctx["motor"].ledger.ids_duplicados()
    assert sorted(t for t in ctx["telefonos"] for _ in ctx["motor"].ledger.de(t)) == sorted(ctx["telefonos"])
    assert not a.activo(agente_id)  # A's loop ended when it found the lease gone
    # The claim statement itself: A's old token claims nothing; B's current one does (positive control).
    async with nucleo.fabrica() as s:
        fila = await s.scalar(
            text(
                "INSERT INTO mensajes_enviados (agente_id, origen, numero_destino, mensaje, wa_message_id, estado)"
                " VALUES (:a, 'respuesta', :t, 'x', '3EB0FENCING', 'pendiente') RETURNING id"
            ),
            {"a": agente_id, "t": ctx["telefonos"][0]},
        )
        momento = reloj.ahora()
        assert not await repo_envios.marcar_enviando(s, fila, "prueba", 1, intentado_at=momento, mensaje="x")
        assert not await repo_envios.marcar_enviando(s, fila, "otro", 1, intentado_at=momento, mensaje="x")
        assert await repo_envios.marcar_enviando(s, fila, "otro", 2, intentado_at=momento, mensaje="x")
        await s.rollback()
