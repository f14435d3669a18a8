"""Campaigns end to end on the simulator: templates, preview, start, the dispatcher, the ledger."""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

from sqlalchemy import select, text

from enlace.campanas.models import Campana
from enlace.carteras.models import Cartera, Contacto
from enlace.envios.despachador import Despachador
from enlace.mensajes.models import MensajeEnviado
from enlace.motores.base import OpcionesInicio
from enlace.motores.simulador.motor import EstadoSocket
from tests.soporte.arriendo import arrendar

VARIANTES = [
    "Hola {nombre}, le contactamos respecto a su crédito IMSS por ${monto}. ¿Le interesa?",
    "{saludo} {nombre}, tiene disponible un crédito de {monto}.",
    "Estimado {nombre}, su perfil califica para un crédito de {monto}. ¿Podemos platicar?",
]
# Fast but complete pacing (every rule still applies): seconds apart instead of minutes.
N = 300
RAPIDO = {
    "por_hora_min": 3000,
    "por_hora_max": 3000,
    "por_dia_min": 100000,
    "por_dia_max": 100000,
    "pausa_min_s": 1,
    "pausa_max_s": 1.2,
    "jitter_s": 0,
    "rafaga_min": 200,
    "rafaga_max": 300,
    "pausa_rafaga_min_s": 2,
    "pausa_rafaga_max_s": 3,
    "dias": [0, 1, 2, 3, 4, 5, 6],
    "excluir_feriados": False,
    "escritura_inicial_min_s": 0.1,
    "escritura_inicial_max_s": 0.2,
    "escritura_max_s": 0.5,
}


async def crear_cartera(
    nucleo: Any, agente_id: int, n: int, *, sin_monto: set[int] = frozenset()
) -> tuple[int, list[str]]:
    telefonos = [f"+52551{i:07d}" for i in range(n)]
    async with nucleo.fabrica() as s:
        cartera = Cartera(agente_id=agente_id, nombre="Cartera prueba", fuente="manual", total_contactos=n)
        s.add(cartera)
        await s.flush()
        s.add_all(
            Contacto(
                cartera_id=cartera.id,
                agente_id=agente_id,
                nombre=f"Persona {i}",
                telefono=t,
                datos_credito={} if i in sin_monto else {"monto": 10_000 + i, "tipo_credito": "IMSS"},
            )
            for i, t in enumerate(telefonos)
        )
        await s.commit()
        return cartera.id, telefonos


async def test_plantillas_crud_y_previa_reporta_por_contacto(nucleo: Any, cliente_como: Any) -> None:
    agente = await cliente_como("agente")
    r = await agente.post("/api/plantillas", json={"nombre": "IMSS", "variantes": ["Hola {nombre"]})
    assert r.status_code == 422 and "variante 1" in r.json()["error"]["mensaje"]
    r = await agente.post("/api/plantillas", json={"nombre": "IMSS", "variantes": VARIANTES})
    assert r.status_code == 201, r.text
    plantilla = r.json()
    assert set(plantilla["campos"]) == {"nombre", "monto", "saludo"}
    cartera_id, _ = await crear_cartera(nucleo, agente.usuario["agente_id"], 6, sin_monto={2, 4})
    r = await agente.post("/api/plantillas/previa", json={"plantilla_id": plantilla["id"], "cartera_id": cartera_id})
    assert r.status_code == 200, r.text
    previa = r.json()
    assert (previa["total"], previa["correctos"], previa["con_errores"]) == (6, 4, 2)
    assert all("$" in m["texto"] and "None" not in m["texto"] for m in previa["muestras"])
    assert [e["errores"][0]["campo"] for e in previa["errores"]] == ["monto", "monto"]
    r = await agente.patch(f"/api/plantillas/{plantilla['id']}", json={"variantes": ["Hola {nombre}"]})
    assert r.status_code == 200 and r.json()["variantes"] == ["Hola {nombre}"]
    assert (await agente.delete(f"/api/plantillas/{plantilla['id']}")).status_code == 204
    r = await agente.get("/api/plantillas", params={"activas": True})
    assert r.json() == []


async def test_iniciar_falla_fuerte_con_datos_faltantes(nucleo: Any, cliente_como: Any) -> None:
    agente = await cliente_como("agente")
    cartera_id, _ = await crear_cartera(nucleo, agente.usuario["agente_id"], 5, sin_monto={3})
    plantilla = (await agente.post("/api/plantillas", json={"nombre": "P", "variantes": VARIANTES})).json()
    campana = (await agente.post("/api/campana", json={"nombre": "C", "carteraId": cartera_id})).json()
    r = await agente.post("/api/campana/iniciar", json={"campanaId": campana["id"], "plantillaId": plantilla["id"]})
    assert r.status_code == 422
    assert r.json()["error"]["codigo"] == "datos_incompletos"
    assert r.json()["error"]["contactos"][0]["campos"][0]["campo"] == "monto"
    async with nucleo.fabrica() as s:
        assert await s.scalar(text("SELECT count(*) FROM mensajes_enviados")) == 0
    r = await agente.post(
        "/api/campana/iniciar",
        json={"campanaId": campana["id"], "plantillaId": plantilla["id"], "configDelay": {"hora_inicio": "05:00"}},
    )
    assert r.status_code == 422 and "configDelay.hora_inicio" in r.json()["error"]["mensaje"]
    r = await agente.post(
        "/api/campana/iniciar", json={"campanaId": campana["id"], "plantillaId": plantilla["id"], "omitirErrores": True}
    )
    assert r.status_code == 200, r.text
    assert r.json()["mensajes"] == 4 and len(r.json()["omitidos"]) == 1
    async with nucleo.fabrica() as s:
        filas = (await s.scalars(select(MensajeEnviado))).all()
    assert len(filas) == 4 and len({f.wa_message_id for f in filas}) == 4
    assert all(f.estado == "pendiente" and "{" not in f.mensaje for f in filas)
    # Pause, resume, cancel: pending rows are cancelled and the counters agree with the rows.
    cid = campana["id"]
    assert (await agente.patch(f"/api/campana/{cid}/estado", json={"estado": "pausada"})).json()["estado"] == "pausada"
    assert (await agente.patch(f"/api/campana/{cid}/estado", json={"estado": "activa"})).json()["estado"] == "activa"
    r = await agente.patch(f"/api/campana/{cid}/estado", json={"estado": "cancelada"})
    assert r.json()["estado"] == "cancelada" and r.json()["total_mensajes"] == 4
    estado = (await agente.get(f"/api/campana/{cid}/estado")).json()
    assert estado["cancelados"] == 4 and estado["pendientes"] == 0
    assert (await agente.patch(f"/api/campana/{cid}/estado", json={"estado": "activa"})).status_code == 409


async def conectar_simulador(nucleo: Any, agente_id: int) -> Any:
    motor = nucleo.motor

    async def ignorar(_evento: Any) -> None:
        return None

    await motor.iniciar(ignorar)
    await motor.iniciar_sesion(agente_id, OpcionesInicio())
    await motor.escanear_qr(agente_id)
    for _ in range(50):
        if motor.estado_socket(agente_id) == EstadoSocket.conectado:
            break
        await nucleo.reloj.avanzar(1)
    assert motor.estado_socket(agente_id) == EstadoSocket.conectado
    await arrendar(nucleo.fabrica, agente_id)
    return motor


async def correr_hasta(reloj: Any, despachador: Despachador, condicion: Any, *, max_pasos: int = 20000) -> None:
    """Move the manual clock to the next wake-up, but only once every dispatcher loop is idle on it."""
    for i in range(max_pasos):
        if i % 10 == 0 and await condicion():
            return
        for _ in range(2000):
            if despachador.en_reposo:
                break
            await asyncio.sleep(0.001)
        proximo = reloj.proximo_despertar
        paso = (proximo - reloj.ahora()).total_seconds() if proximo is not None else 1.0
        await reloj.avanzar(max(paso, 0.001))
        await asyncio.sleep(0)
    raise AssertionError("la campaña no terminó")


async def test_campana_500_contactos_exactamente_un_mensaje_cada_uno(
    nucleo: Any, cliente_como: Any, reloj: Any
) -> None:
    agente = await cliente_como("agente")
    agente_id = agente.usuario["agente_id"]
    cartera_id, telefonos = await crear_cartera(nucleo, agente_id, N)
    motor = await conectar_simulador(nucleo, agente_id)
    for t in telefonos:  # everyone on WhatsApp and quiet: the ledger must show all 500
        motor.red.fijar_perfil(t, en_whatsapp=True, prob_respuesta=0.0)
    plantilla = (await agente.post("/api/plantillas", json={"nombre": "P", "variantes": VARIANTES})).json()
    campana = (await agente.post("/api/campana", json={"nombre": "C500", "carteraId": cartera_id})).json()

    async def conectado(aid: int) -> bool:
        return motor.estado_socket(aid) == EstadoSocket.conectado

    despachador = Despachador(
        reloj=reloj, fabrica=nucleo.fabrica, motor=motor, nodo_id="prueba", esta_conectado=conectado
    )
    nucleo.despachador = despachador
    await despachador.iniciar()
    try:
        r = await agente.post(
            "/api/campana/iniciar",
            json={"campanaId": campana["id"], "plantillaId": plantilla["id"], "configDelay": RAPIDO},
        )
        assert r.status_code == 200, r.text
        assert r.json()["mensajes"] == N
        despachador.asegurar(agente_id)

        async def terminada() -> bool:
            async with nucleo.fabrica() as s:
                return await s.scalar(select(Campana.estado).where(Campana.id == campana["id"])) == "completada"

        await correr_hasta(reloj, despachador, terminada)
    finally:
        await despachador.detener()
    async with nucleo.fabrica() as s:
        filas = (await s.scalars(select(MensajeEnviado).where(MensajeEnviado.campana_id == campana["id"]))).all()
        c = await s.get(Campana, campana["id"])
    assert len(filas) == N and {f.estado for f in filas} == {"enviado"}
    por_telefono = motor.ledger.por_telefono()
    for f in filas:
        recibidos = por_telefono.get(f.numero_destino, [])
        assert len(recibidos) == 1, (f.numero_destino, recibidos)
        assert recibidos[0][0] == f.wa_message_id and recibidos[0][1] == f.mensaje
    assert len(motor.ledger) == N and not motor.ledger.ids_duplicados()
    assert (c.total_mensajes, c.enviados, c.fallidos) == (N, N, 0)
    estado = (await agente.get(f"/api/campana/{campana['id']}/estado")).json()
    assert estado["enviados"] == N and estado["pendientes"] == 0 and estado["estado"] == "completada"
    async with nucleo.fabrica() as s:
        contactos = (
            await s.execute(
                select(Contacto.estado, Contacto.ultima_actividad_at).where(Contacto.cartera_id == cartera_id)
            )
        ).all()
    assert {e for e, _ in contactos} == {"contactado"} and all(m is not None for _, m in contactos)
    # Pacing held: sends at least pausa_min apart.
    momentos = sorted(f.intentado_at for f in filas)
    assert all((b - a).total_seconds() >= 1 - 1e-6 for a, b in itertools.pairwise(momentos))


async def test_crear_campana_sobre_cartera_ajena_se_rechaza_al_crear(nucleo: Any, cliente_como: Any) -> None:
    """Agent 1's cartera cannot back a campaign for agent 2: refused at creation, naming the cartera."""
    admin = await cliente_como("admin")
    uno = await cliente_como("agente")
    dos = await cliente_como("agente")
    cartera_id, _ = await crear_cartera(nucleo, uno.usuario["agente_id"], 3)
    r = await admin.post(
        "/api/campana", json={"nombre": "Ajena", "carteraId": cartera_id, "agenteId": dos.usuario["agente_id"]}
    )
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert error["codigo"] == "entrada_invalida"
    assert (
        error["mensaje"].startswith("carteraId: la cartera «Cartera prueba»") and f"id {cartera_id}" in error["mensaje"]
    )
    async with nucleo.fabrica() as s:
        assert (await s.scalars(select(Campana))).all() == []
    # The owner can; and a contact reassigned to agent 2 makes the cartera usable for them too.
    r = await admin.post(
        "/api/campana", json={"nombre": "Propia", "carteraId": cartera_id, "agenteId": uno.usuario["agente_id"]}
    )
    assert r.status_code in (200, 201), r.text
    async with nucleo.fabrica() as s:
        await s.execute(
            text(
                "UPDATE contactos SET agente_id = :a WHERE id = (SELECT min(id) FROM contactos WHERE cartera_id = :c)"
            ),
            {"a": dos.usuario["agente_id"], "c": cartera_id},
        )
        await s.commit()
    r = await admin.post(
        "/api/campana", json={"nombre": "Reasignada", "carteraId": cartera_id, "agenteId": dos.usuario["agente_id"]}
    )
    assert r.status_code in (200, 201), r.text


async def test_no_interesado_fuera_de_campanas_nuevas_por_90_dias(nucleo: Any, cliente_como: Any) -> None:
    """«No me interesa» said to agent 1 keeps the person out of a new campaign for 90 days, even after
    the contact was reassigned to agent 2 (the hold follows the phone, not the agent)."""
    from datetime import timedelta

    from enlace.mensajes.models import MensajeRecibido

    uno = await cliente_como("agente")
    dos = await cliente_como("agente")
    cartera_id, telefonos = await crear_cartera(nucleo, dos.usuario["agente_id"], 3)
    ahora = nucleo.reloj.ahora()
    async with nucleo.fabrica() as s:
        for telefono, hace, clase in [
            (telefonos[0], timedelta(days=10), "no_interesado"),  # held until day 80 from now
            (telefonos[1], timedelta(days=95), "no_interesado"),  # the hold is over
            (telefonos[2], timedelta(days=1), "otro"),
        ]:
            s.add(
                MensajeRecibido(
                    agente_id=uno.usuario["agente_id"],
                    numero_origen=telefono,
                    mensaje="No me interesa, gracias" if clase == "no_interesado" else "¿Quién habla?",
                    wa_message_id=f"in-{telefono}",
                    recibido_at=ahora - hace,
                    clasificacion=clase,
                )
            )
        await s.commit()
    plantilla = (await dos.post("/api/plantillas", json={"nombre": "P", "variantes": VARIANTES})).json()

    previa = await dos.post("/api/plantillas/previa", json={"plantilla_id": plantilla["id"], "cartera_id": cartera_id})
    assert previa.status_code == 200, previa.text
    cuerpo = previa.json()
    assert (cuerpo["total"], cuerpo["correctos"], cuerpo["no_interesados"]) == (3, 2, 1)
    retenido = cuerpo["retenidos"][0]
    assert retenido["no_interesado_hasta"].startswith((ahora + timedelta(days=80)).date().isoformat())

    campana = (await dos.post("/api/campana", json={"nombre": "C", "carteraId": cartera_id})).json()
    r = await dos.post("/api/campana/iniciar", json={"campanaId": campana["id"], "plantillaId": plantilla["id"]})
    assert r.status_code == 200, r.text
    assert r.json()["mensajes"] == 2 and r.json()["total_no_interesados"] == 1
    async with nucleo.fabrica() as s:
        destinos = set((await s.scalars(select(MensajeEnviado.numero_destino))).all())
    assert destinos == {telefonos[1], telefonos[2]}
    estado = (await dos.get(f"/api/campana/{campana['id']}/estado")).json()
    assert estado["no_interesados"] == 1 and estado["total"] == 2

    # The hold length is a compliance setting that can only grow (default 90 days).
    admin = await cliente_como("admin")
    corto = await admin.put("/api/cumplimiento/ajustes", json={"dias_no_interesado": 30})
    assert corto.status_code == 422 and "dias_no_interesado" in corto.json()["error"]["mensaje"]
    largo = await admin.put("/api/cumplimiento/ajustes", json={"dias_no_interesado": 120})
    assert largo.status_code == 200, largo.text
    previa = await dos.post("/api/plantillas/previa", json={"plantilla_id": plantilla["id"], "cartera_id": cartera_id})
    assert previa.json()["no_interesados"] == 2
