"""SessionManager on the simulator and real PostgreSQL: linking, reconnects, final states, leases, restarts."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import os
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import structlog
from sqlalchemy import func, select, text

from enlace.agentes.models import Agente
from enlace.errores import Conflicto, EntradaInvalida, ServicioNoDisponible
from enlace.motores.base import EventoConectado, EventoDesconectado, EventoQR
from enlace.motores.simulador import MotorSimulador, RedVirtual
from enlace.reloj import RelojManual
from enlace.sesiones import credenciales as almacen
from enlace.sesiones import manager as modulo_manager
from enlace.sesiones import repository as repo_sesiones
from enlace.sesiones.cifrado import CredencialesIlegibles, Llavero, contexto_agente, contexto_clave
from enlace.sesiones.manager import SessionManager, nodo_local_muerto, telefono_para_emparejar
from enlace.sesiones.models import SesionWA
from enlace.sesiones.rotacion import rotar_claves
from enlace.tiempo_real import bus

K_NUEVA = base64.b64encode(bytes(range(100, 132))).decode()


class Nodo:
    """One node: a simulator engine (on a shared or own network) and its SessionManager."""

    def __init__(
        self,
        nucleo: Any,
        reloj: RelojManual,
        *,
        nombre: str,
        red: RedVirtual | None = None,
        llavero: Llavero | None = None,
        max_sesiones: int | None = None,
    ) -> None:
        self.motor = MotorSimulador(reloj, red=red)
        self.gestor = SessionManager(
            settings=nucleo.settings,
            reloj=reloj,
            fabrica=nucleo.fabrica,
            motor=self.motor,
            nodo_id=nombre,
            llavero=llavero,
        )
        if max_sesiones is not None:
            self.gestor.max_sesiones = max_sesiones
        self.eventos: list[Any] = []
        self._manejadores: dict[type, list[Callable[[Any], Awaitable[None]]]] = {}
        self.gestor.suscribir(lambda tipo, m: self._manejadores.setdefault(tipo, []).append(m))

    async def recibir(self, evento: Any) -> None:
        self.eventos.append(evento)
        for manejador in self._manejadores.get(type(evento), ()):
            await manejador(evento)

    async def iniciar(self) -> Nodo:
        await self.motor.iniciar(self.recibir)
        await self.gestor.iniciar(vigilar=False)
        return self

    async def detener(self) -> None:
        await self.gestor.detener()
        await self.motor.detener()

    def de(self, tipo: type, agente_id: int | None = None) -> list[Any]:
        return [e for e in self.eventos if isinstance(e, tipo) and (agente_id is None or e.agente_id == agente_id)]


async def esperar(
    reloj: RelojManual, condicion: Callable[[], Awaitable[bool]], *, paso: float = 1.0, maximo_virtual: float = 3600.0
) -> None:
    """Move the virtual clock in steps, letting database I/O finish in between, until `condicion` holds."""
    limite_real = time.monotonic() + 120  # a guard against hanging, not a timing assertion
    avanzado = 0.0
    while not await condicion():
        assert time.monotonic() < limite_real, "la condición no se cumplió"
        if avanzado < maximo_virtual:
            await reloj.avanzar(paso)
            avanzado += paso
        await asyncio.sleep(0.01)


async def estados(nucleo: Any) -> dict[int, str]:
    async with nucleo.fabrica() as s:
        return dict((await s.execute(select(SesionWA.agente_id, SesionWA.estado))).all())


async def crear_agentes(nucleo: Any, n: int) -> list[int]:
    async with nucleo.fabrica() as s:
        agentes = [Agente(nombre=f"Agente {i}") for i in range(n)]
        s.add_all(agentes)
        await s.commit()
        return [a.id for a in agentes]


def todos(nucleo: Any, ids: list[int], estado: str) -> Callable[[], Awaitable[bool]]:
    async def condicion() -> bool:
        actuales = await estados(nucleo)
        return all(actuales.get(a) == estado for a in ids)

    return condicion


async def vincular(nodo: Nodo, reloj: RelojManual, nucleo: Any, ids: list[int]) -> None:
    for agente_id in ids:
        await nodo.gestor.conectar(agente_id)

    async def con_qr() -> bool:
        return all((v := nodo.gestor.vivo(a)) is not None and v.qr for a in ids)

    await esperar(reloj, con_qr, paso=0.0)
    for agente_id in ids:
        await nodo.motor.escanear_qr(agente_id)
    await esperar(reloj, todos(nucleo, ids, "conectada"), paso=0.5)


@pytest.fixture
async def nodo(nucleo: Any, reloj: RelojManual) -> AsyncIterator[Nodo]:
    n = await Nodo(nucleo, reloj, nombre="nodo-a").iniciar()
    nucleo.sesiones = n.gestor
    nucleo._motor = n.motor  # the simulator controls of the API act on this node's engine
    yield n
    await n.detener()


@pytest.mark.lento
async def test_210_sesiones_vinculan_reconectan_y_paran(
    nucleo: Any, reloj: RelojManual, nodo: Nodo, cliente_como: Any
) -> None:
    nodo.gestor.inactiva = modulo_manager.timedelta(days=1)
    ids = await crear_agentes(nucleo, 210)
    await vincular(nodo, reloj, nucleo, ids)
    async with nucleo.fabrica() as s:
        numeros = dict((await s.execute(select(Agente.id, Agente.numero_wa).where(Agente.id.in_(ids)))).all())
        filas = {f.agente_id: f for f in await s.scalars(select(SesionWA))}
    assert all(numeros[a] == nodo.motor.numero_por_defecto(a) == filas[a].numero_wa for a in ids)
    assert len(set(numeros.values())) == 210
    async with nucleo.fabrica() as s:
        vinculadas = await repo_sesiones.agentes_con_credenciales(s, ids)
    assert all(f.nodo_id == "nodo-a" and f.reanudar for f in filas.values()) and vinculadas == set(ids)

    # An hour on the clock with the watchdog running: nothing drops by itself.
    for _ in range(4):
        await reloj.avanzar(900)
        await nodo.gestor.revisar()
    assert set((await estados(nucleo)).values()) == {"conectada"}

    # Every socket drops at once: all reconnect (with jittered backoff) and no QR is needed.
    qrs_antes = len(nodo.de(EventoQR))
    for agente_id in ids:
        await nodo.motor.inyectar_fallo(agente_id, "desconexion")
    assert set((await estados(nucleo)).values()) == {"reconectando"}
    await esperar(reloj, todos(nucleo, ids, "conectada"), paso=0.5)
    assert len(nodo.de(EventoQR)) == qrs_antes

    cerradas, reemplazadas, restringidas, paradas = ids[:10], ids[10:20], ids[20:30], ids[30:40]
    for agente_id in cerradas:
        await nodo.motor.inyectar_fallo(agente_id, "cierre")
    for agente_id in reemplazadas:
        await nodo.motor.inyectar_fallo(agente_id, "reemplazo")
    for agente_id in restringidas:
        await nodo.motor.inyectar_fallo(agente_id, "restriccion")
    admin = await cliente_como("admin")
    for agente_id in paradas:
        r = await admin.post(f"/api/sesion/desconectar/{agente_id}")
        assert r.status_code == 200 and r.json()["estado"] == "desconectada", r.text
    conectados_antes = len(nodo.de(EventoConectado))
    for _ in range(20):  # 20 minutes: the stopped ones stay stopped, nobody loops
        await reloj.avanzar(60)
        await nodo.gestor.revisar()
    assert len(nodo.de(EventoConectado)) == conectados_antes
    for agente_id in cerradas + reemplazadas + paradas:
        assert nodo.motor.estado_socket(agente_id) == "inactivo"

    r = await admin.get("/api/sesiones/estado")
    assert r.status_code == 200
    cuerpo = r.json()
    assert cuerpo["resumen"] == {
        "conectada": 170,
        "sesion_cerrada": 10,
        "reemplazada": 10,
        "restringida": 10,
        "desconectada": 10,
    }
    por_agente = {i["agente_id"]: i for i in cuerpo["items"]}
    assert all(not por_agente[a]["tiene_credenciales"] for a in cerradas)
    assert all(por_agente[a]["tiene_credenciales"] for a in reemplazadas + paradas)
    assert cuerpo["en_este_nodo"] == 180  # 170 connected + 10 restricted still receive replies


async def test_cada_estado_se_ve_en_la_api(
    nucleo: Any, reloj: RelojManual, nodo: Nodo, cliente_como: Any, equipo: Any
) -> None:
    propio = await equipo("Norte")
    admin = await cliente_como("admin")
    supervisor = await cliente_como("supervisor")
    async with nucleo.fabrica() as s:
        await s.execute(
            text("UPDATE equipos SET supervisor_id = :u WHERE id = :e"), {"u": supervisor.usuario["id"], "e": propio}
        )
        await s.commit()
    ids = []
    for _ in range(4):
        c = await cliente_como("agente", equipo_id=propio)
        ids.append(c.usuario["agente_id"])
    qr, conectando, reconectando, conectada = ids
    await vincular(nodo, reloj, nucleo, [reconectando, conectada, conectando])
    await nodo.gestor.desconectar(conectando)
    # From here the virtual clock stands still, so every session stays where it is.
    await nodo.motor.inyectar_fallo(reconectando, "desconexion", caida_s=10_000)
    await nodo.gestor.conectar(qr)
    await esperar(reloj, lambda: _estado_es(nucleo, qr, "esperando_qr"), paso=0.0)
    await nodo.gestor.conectar(conectando)  # resuming takes the engine a moment of clock time
    await esperar(reloj, lambda: _estado_es(nucleo, reconectando, "reconectando"), paso=0.0)

    # The team's supervisor sees every state, and the QR for polling.
    r = await supervisor.get("/api/sesiones/estado")
    assert r.status_code == 200, r.text
    items = {i["agente_id"]: i for i in r.json()["items"]}
    assert [items[a]["estado"] for a in ids] == ["esperando_qr", "conectando", "reconectando", "conectada"]
    assert items[qr]["qr"] and items[qr]["qr"] == nodo.gestor.vivo(qr).qr
    r = await admin.get(f"/api/sesion/{reconectando}")
    assert r.json()["estado"] == "reconectando" and r.json()["motivo"]


async def _estado_es(nucleo: Any, agente_id: int, estado: str) -> bool:
    return (await estados(nucleo)).get(agente_id) == estado


async def test_api_qr_codigo_y_desconexion(nucleo: Any, reloj: RelojManual, nodo: Nodo, cliente_como: Any) -> None:
    recibidos: list[tuple[str, dict, list[str]]] = []

    async def observar(evento: str, datos: dict, salas: list[str]) -> None:
        recibidos.append((evento, datos, salas))

    bus.observadores.append(observar)
    try:
        agente = await cliente_como("agente")
        yo = agente.usuario["agente_id"]
        r = await agente.post(f"/api/sesion/conectar/{yo}")
        assert r.status_code == 200, r.text
        assert r.json()["estado"] in ("conectando", "esperando_qr")
        await esperar(reloj, lambda: _estado_es(nucleo, yo, "esperando_qr"), paso=0.0)
        r = await agente.get(f"/api/sesion/{yo}")
        qr = r.json()["qr"]
        assert qr and len(qr.split(",")) == 4 and r.json()["qr_expira_at"]
        assert (
            "sesion.qr",
            {"agente_id": yo, "qr": qr, "codigo": None, "expira_en_s": 60},
            [f"agente:{yo}"],
        ) in recibidos
        # Connecting again while the QR is up does not restart the linking.
        assert (await agente.post(f"/api/sesion/conectar/{yo}")).json()["qr"] == qr
        r = await agente.post(f"/api/simulador/{yo}/escanear", json={"qr": "2@viejo,a,b,c"})
        assert r.status_code == 409 and r.json()["error"]["codigo"] == "conflicto"
        r = await agente.post(f"/api/simulador/{yo}/escanear", json={"qr": qr, "numero": "55 2222 3333"})
        assert r.status_code == 200, r.text
        await esperar(reloj, lambda: _estado_es(nucleo, yo, "conectada"), paso=0.5)
        r = await agente.get(f"/api/sesion/{yo}")
        assert r.json()["numero_wa"] == "+525522223333" and r.json()["qr"] is None
        await asyncio.sleep(0.05)
        estados_emitidos = [d["estado"] for e, d, _ in recibidos if e == "sesion.estado" and d["agente_id"] == yo]
        assert estados_emitidos[0] == "conectando" and estados_emitidos[-1] == "conectada"
        assert "esperando_qr" in estados_emitidos

        # Stop keeps the link: connecting again resumes without a QR.
        r = await agente.post(f"/api/sesion/desconectar/{yo}")
        assert r.json()["estado"] == "desconectada" and r.json()["tiene_credenciales"]
        qrs = len(nodo.de(EventoQR, yo))
        await agente.post(f"/api/sesion/conectar/{yo}")
        await esperar(reloj, lambda: _estado_es(nucleo, yo, "conectada"), paso=0.5)
        assert len(nodo.de(EventoQR, yo)) == qrs
        # Closing the session unlinks the phone: credentials are gone.
        r = await agente.post(f"/api/sesion/desconectar/{yo}?cerrar_sesion=true")
        assert r.json()["estado"] == "sesion_cerrada" and not r.json()["tiene_credenciales"]

        # Pairing code instead of QR.
        otro = await cliente_como("agente")
        suyo = otro.usuario["agente_id"]
        r = await otro.post(f"/api/sesion/{suyo}/codigo-emparejamiento", json={"telefono": "33 1234 5678"})
        assert r.status_code == 200, r.text
        codigo = r.json()["codigo"]
        assert len(codigo) == 8
        assert (await otro.get(f"/api/sesion/{suyo}")).json()["codigo_emparejamiento"] == codigo
        r = await otro.post(f"/api/simulador/{suyo}/confirmar-codigo", json={"codigo": codigo})
        assert r.status_code == 200, r.text
        await esperar(reloj, lambda: _estado_es(nucleo, suyo, "conectada"), paso=0.5)
        assert (await otro.get(f"/api/sesion/{suyo}")).json()["numero_wa"] == "+523312345678"
        r = await otro.post(f"/api/sesion/{suyo}/codigo-emparejamiento", json={"telefono": "33 1234 5678"})
        assert r.status_code == 409
        r = await otro.post(f"/api/sesion/{suyo}/codigo-emparejamiento", json={"telefono": "abcdefghij"})
        assert r.status_code == 422 and "telefono" in r.json()["error"]["mensaje"]
        # Simulator controls: a failure, a message typed on the phone, a person writing in.
        r = await otro.post(f"/api/simulador/{suyo}/telefono", json={"telefono": "5512345678", "texto": "Hola"})
        assert r.status_code == 200 and r.json()["wa_message_id"]
        r = await otro.post(f"/api/simulador/{suyo}/recibir", json={"telefono": "5512345678", "texto": "BAJA"})
        assert r.status_code == 200
        r = await otro.post(f"/api/simulador/{suyo}/fallo", json={"tipo": "reemplazo"})
        assert r.status_code == 204
        await esperar(reloj, lambda: _estado_es(nucleo, suyo, "reemplazada"), paso=0.0)
        r = await otro.post(f"/api/simulador/{suyo}/fallo", json={"tipo": "volcan"})
        assert r.status_code == 422
    finally:
        bus.observadores.remove(observar)


async def test_credenciales_cifradas_reinicio_y_rotacion(nucleo: Any, reloj: RelojManual) -> None:
    (agente_id,) = await crear_agentes(nucleo, 1)
    a = await Nodo(nucleo, reloj, nombre="nodo-a").iniciar()
    await vincular(a, reloj, nucleo, [agente_id])
    numero = a.motor.numero_por_defecto(agente_id)
    async with nucleo.fabrica() as s:
        filas = (
            await s.execute(
                text("SELECT tipo, ident, cifrado, clave_id FROM credenciales_wa WHERE agente_id = :a"),
                {"a": agente_id},
            )
        ).all()
        blob = await s.scalar(text("SELECT credenciales FROM sesiones_wa WHERE agente_id = :a"), {"a": agente_id})
    assert blob is None  # one row per key, never the whole state in one blob
    tipos = {t for t, *_ in filas}
    assert "creds" in tipos and "pre-key" in tipos
    llavero_dev = Llavero.desde_settings(nucleo.settings)
    for tipo, ident, cifrado, clave_id in filas:
        for claro in (b"registered", b"noiseKey", b"private", numero.removeprefix("+").encode()):
            assert claro not in cifrado
        with pytest.raises(ValueError):
            json.loads(cifrado)
        assert clave_id == llavero_dev.actual.id
        # Each row only opens as that agent's (tipo, ident): rows cannot be swapped around.
        llavero_dev.descifrar_valor(clave_id, cifrado, contexto_clave(agente_id, tipo, ident))
        with pytest.raises(CredencialesIlegibles):
            llavero_dev.descifrar_valor(clave_id, cifrado, contexto_clave(agente_id, tipo, ident + "x"))
    creds = next(
        llavero_dev.descifrar_valor(k, c, contexto_clave(agente_id, t, i)) for t, i, c, k in filas if t == "creds"
    )
    assert creds["registered"] is True

    # Restart: a new process (fresh network, fresh manager) resumes from PostgreSQL without a QR.
    await a.detener()
    assert (await estados(nucleo))[agente_id] == "desconectada"
    b = await Nodo(nucleo, reloj, nombre="nodo-b").iniciar()
    await esperar(reloj, lambda: _estado_es(nucleo, agente_id, "conectada"), paso=0.5)
    assert b.de(EventoQR) == [] and [e.numero for e in b.de(EventoConectado)] == [numero]
    await b.detener()

    # Rotate to a new key; the old (derived) one is only readable, and the session still resumes.
    ajustes_nuevos = nucleo.settings.model_copy(update={"claves_credenciales": f"k2:{K_NUEVA}"})
    llavero_nuevo = Llavero.desde_settings(ajustes_nuevos)
    resultado = await rotar_claves(nucleo.fabrica, llavero_nuevo)
    assert (resultado.recifradas, resultado.ilegibles) == (1, [])
    assert (await rotar_claves(nucleo.fabrica, llavero_nuevo)).al_dia == 1
    async with nucleo.fabrica() as s:
        claves = set(await s.scalars(text("SELECT DISTINCT clave_id FROM credenciales_wa")))
    assert claves == {"k2"}
    solo_nueva = Llavero.desde_texto(f"k2:{K_NUEVA}")
    c = await Nodo(nucleo, reloj, nombre="nodo-c", llavero=solo_nueva).iniciar()
    try:
        await esperar(reloj, lambda: _estado_es(nucleo, agente_id, "conectada"), paso=0.5)
        assert c.de(EventoQR) == []
    finally:
        await c.detener()


async def test_sesion_guardada_como_un_blob_migra_sin_volver_a_vincular(nucleo: Any, reloj: RelojManual) -> None:
    """A session stored by the previous version (the whole state in one blob) resumes and becomes rows."""
    (agente_id,) = await crear_agentes(nucleo, 1)
    a = await Nodo(nucleo, reloj, nombre="nodo-a").iniciar()
    await vincular(a, reloj, nucleo, [agente_id])
    estado = a.gestor._controles[agente_id].credenciales
    await a.detener()
    assert estado and estado["creds"]["registered"] is True
    # Put it back the way the old code stored it: one AES-GCM blob on sesiones_wa, no key rows.
    llavero = Llavero.desde_settings(nucleo.settings)
    clave_id, blob = llavero.cifrar(estado, contexto_agente(agente_id))
    async with nucleo.fabrica() as s:
        await s.execute(text("DELETE FROM credenciales_wa WHERE agente_id = :a"), {"a": agente_id})
        await s.execute(
            text("UPDATE sesiones_wa SET credenciales = :b, clave_id = :k, reanudar = true WHERE agente_id = :a"),
            {"b": blob, "k": clave_id, "a": agente_id},
        )
        await s.commit()

    b = await Nodo(nucleo, reloj, nombre="nodo-b").iniciar()
    try:
        await esperar(reloj, lambda: _estado_es(nucleo, agente_id, "conectada"), paso=0.5)
        assert b.de(EventoQR) == []  # no new link
        assert [e.numero for e in b.de(EventoConectado)] == [a.motor.numero_por_defecto(agente_id)]
        async with nucleo.fabrica() as s:
            blob_despues = await s.scalar(
                text("SELECT credenciales FROM sesiones_wa WHERE agente_id = :a"), {"a": agente_id}
            )
            guardado = await almacen.cargar(s, llavero, agente_id, None, None)
        assert blob_despues is None
        assert guardado is not None and guardado["creds"] == estado["creds"]
        for tipo, valores in estado["keys"].items():
            assert {k: v for k, v in guardado["keys"][tipo].items() if k in valores} == valores
    finally:
        await b.detener()


async def test_lease_y_fencing_entre_nodos(nucleo: Any, reloj: RelojManual) -> None:
    (agente_id,) = await crear_agentes(nucleo, 1)
    red = RedVirtual(reloj)
    a = await Nodo(nucleo, reloj, nombre="nodo-a", red=red).iniciar()
    b = await Nodo(nucleo, reloj, nombre="nodo-b", red=red).iniciar()
    try:
        await vincular(a, reloj, nucleo, [agente_id])
        with pytest.raises(Conflicto):
            await b.gestor.conectar(agente_id)
        await b.gestor.revisar()
        assert b.gestor.sesiones_en_nodo == 0
        # Node A stops renewing (it hangs); once its lease expires (database time) node B takes over.
        a.gestor.lease_s = b.gestor.lease_s = 0.3
        await a.gestor.revisar()
        await asyncio.sleep(0.4)
        await b.gestor.revisar()
        await esperar(reloj, lambda: _nodo_es(nucleo, agente_id, "nodo-b"), paso=0.5)
        await esperar(reloj, lambda: _estado_es(nucleo, agente_id, "conectada"), paso=0.5)
        # A's socket got 440 from the network; its fenced writes change nothing.
        assert [e.clase for e in a.de(modulo_manager.EventoDesconectado)] == ["reemplazada"]
        await asyncio.sleep(0.05)
        async with nucleo.fabrica() as s:
            fila = await s.scalar(select(SesionWA).where(SesionWA.agente_id == agente_id))
        assert (fila.estado, fila.nodo_id, fila.fencing_token) == ("conectada", "nodo-b", 2)
        async with nucleo.fabrica() as s:
            assert await repo_sesiones.agentes_con_credenciales(s, [agente_id]) == {agente_id}
        b.gestor.lease_s = modulo_manager.LEASE_S
        await b.gestor.revisar()  # B renews its lease
        await a.gestor.revisar()  # A wakes up: its lease is gone, it holds nothing and takes nothing
        assert a.gestor.sesiones_en_nodo == 0 and b.gestor.sesiones_en_nodo == 1
    finally:
        await a.detener()
        await b.detener()
        await red.cerrar()


async def _nodo_es(nucleo: Any, agente_id: int, nodo_id: str) -> bool:
    async with nucleo.fabrica() as s:
        return await s.scalar(select(SesionWA.nodo_id).where(SesionWA.agente_id == agente_id)) == nodo_id


async def test_backoff_capacidad_e_inactividad(nucleo: Any, reloj: RelojManual) -> None:
    ids = await crear_agentes(nucleo, 3)
    a = await Nodo(nucleo, reloj, nombre="nodo-a", max_sesiones=2).iniciar()
    try:
        await vincular(a, reloj, nucleo, ids[:2])
        with pytest.raises(ServicioNoDisponible):
            await a.gestor.conectar(ids[2])
        # The network is down for 10 minutes: attempts back off (2, 4, 8 ... s) instead of hammering.
        await a.motor.inyectar_fallo(ids[0], "desconexion", caida_s=600)
        await esperar(reloj, lambda: _estado_es(nucleo, ids[0], "conectada"), paso=1.0, maximo_virtual=1200)
        intentos = [e for e in a.de(modulo_manager.EventoDesconectado, ids[0]) if e.codigo == 408]
        assert 5 <= len(intentos) <= 10

        # Idle for longer than ENLACE_SESION_INACTIVA_MINUTOS with listening in business hours switched
        # off (ENLACE_SESION_ESCUCHA_EN_HORARIO=false): stopped, resumed lazily without a QR.
        a.gestor.settings = nucleo.settings.model_copy(update={"sesion_escucha_en_horario": False})
        a.gestor.tocar(ids[1])
        await reloj.avanzar(a.gestor.inactiva.total_seconds() + 1)
        a.gestor.tocar(ids[0])
        await a.gestor.revisar()
        assert (await estados(nucleo))[ids[1]] == "desconectada"
        assert (await estados(nucleo))[ids[0]] == "conectada"
        qrs = len(a.de(EventoQR))
        assert await a.gestor.asegurar(ids[1]) == "conectando"
        await esperar(reloj, lambda: _estado_es(nucleo, ids[1], "conectada"), paso=0.5)
        assert len(a.de(EventoQR)) == qrs
        async with nucleo.fabrica() as s:
            assert await s.scalar(select(func.count()).select_from(SesionWA).where(SesionWA.reanudar)) == 2
    finally:
        await a.detener()


async def test_sesion_escucha_en_horario_y_vuelve_por_mensajes_en_espera(nucleo: Any, reloj: RelojManual) -> None:
    """Idle sessions keep listening in business hours; at night a waiting reply brings them back."""
    from enlace.motores.base import EventoMensaje

    (agente,) = await crear_agentes(nucleo, 1)
    a = await Nodo(nucleo, reloj, nombre="nodo-a").iniciar()
    try:
        await vincular(a, reloj, nucleo, [agente])
        # Monday 09:00 in Mexico City, nobody touches the panel for two hours: still connected.
        a.gestor.tocar(agente)
        await reloj.avanzar(2 * 3600)
        await a.gestor.revisar()
        assert (await estados(nucleo))[agente] == "conectada"

        # 22:30, idle: outside the contact-hours window the idle stop applies.
        await reloj.avanzar(11.5 * 3600)
        await a.gestor.revisar()
        assert (await estados(nucleo))[agente] == "desconectada"
        assert a.motor.estado_socket(agente) == "inactivo"

        # A customer writes while the session is stopped: the network holds it and the core reconnects.
        red = a.motor.red
        cuenta = red.cuenta_de_agente(agente)
        assert cuenta is not None
        await red.recibir(cuenta, red.perfil("+525511112222"), "¿Sigue en pie lo del crédito?")
        assert a.motor.entrantes_en_espera(agente) >= 1  # the message (and its LID mapping)
        await a.gestor.revisar()
        await esperar(reloj, lambda: _estado_es(nucleo, agente, "conectada"), paso=0.5)
        recibidos = [e for e in a.de(EventoMensaje, agente) if not e.de_mi]
        assert [e.texto for e in recibidos] == ["¿Sigue en pie lo del crédito?"]
        assert a.motor.entrantes_en_espera(agente) == 0
        qrs = len(a.de(EventoQR))

        # Idle again at night: stopped; when the window opens at 07:00 it listens again, without a QR.
        await reloj.avanzar(a.gestor.inactiva.total_seconds() + 1)
        await a.gestor.revisar()
        assert (await estados(nucleo))[agente] == "desconectada"
        await a.gestor.revisar()
        assert (await estados(nucleo))[agente] == "desconectada"  # nothing waiting: stays stopped
        local = reloj.ahora().astimezone(ZoneInfo("America/Mexico_City"))
        siete = (local + timedelta(days=1)).replace(hour=7, minute=1, second=0, microsecond=0)
        await reloj.avanzar((siete - local).total_seconds())
        await a.gestor.revisar()
        await esperar(reloj, lambda: _estado_es(nucleo, agente, "conectada"), paso=0.5)
        assert len(a.de(EventoQR)) == qrs
    finally:
        await a.detener()


def test_inactividad_y_qr_escalan_con_la_velocidad_del_simulador(nucleo: Any) -> None:
    """At ENLACE_SIM_VELOCIDAD=600 the idle stop is still 30 minutes of a person's time, not 3 s."""
    from datetime import UTC, datetime

    from enlace.reloj import RelojAcelerado

    acelerado = RelojAcelerado(600, datetime(2026, 11, 23, 15, tzinfo=UTC), time.time())
    gestor = SessionManager(
        settings=nucleo.settings, reloj=acelerado, fabrica=nucleo.fabrica, motor=MotorSimulador(acelerado), nodo_id="x"
    )
    assert gestor.inactiva == timedelta(minutes=nucleo.settings.sesion_inactiva_minutos) * 600


def test_telefono_para_emparejar() -> None:
    assert telefono_para_emparejar("+52 55 1234 5678") == "525512345678"
    assert telefono_para_emparejar("5215512345678") == "525512345678"
    assert telefono_para_emparejar("55-1234-5678") == "525512345678"
    with pytest.raises(EntradaInvalida):
        telefono_para_emparejar("123")


async def test_nodo_muerto_en_este_host_se_retoma_sin_esperar_el_lease(nucleo: Any, reloj: RelojManual) -> None:
    (agente_id,) = await crear_agentes(nucleo, 1)
    proceso = await asyncio.create_subprocess_exec("true")
    await proceso.wait()  # a pid that no longer runs: the node that "crashed"
    muerto = f"{socket.gethostname()}-{proceso.pid}"
    assert nodo_local_muerto(muerto) and not nodo_local_muerto(f"{socket.gethostname()}-{os.getpid()}")
    assert not nodo_local_muerto("otro-host-1")
    a = await Nodo(nucleo, reloj, nombre=muerto).iniciar()
    await vincular(a, reloj, nucleo, [agente_id])
    await a.motor.detener()  # kill -9: the manager never hands its lease back
    b = await Nodo(nucleo, reloj, nombre=f"{socket.gethostname()}-{os.getpid()}").iniciar()
    try:
        await esperar(reloj, lambda: _nodo_es(nucleo, agente_id, b.gestor.nodo_id), paso=0.5)
        await esperar(reloj, lambda: _estado_es(nucleo, agente_id, "conectada"), paso=0.5)
        assert b.de(EventoQR) == []
    finally:
        await b.detener()
        a.gestor._controles.clear()
        await a.gestor.detener()


def test_cli_rotar_clave(url_bd: str, limpiar_bd: None) -> None:
    import psycopg
    from typer.testing import CliRunner

    from enlace.cli import app
    from enlace.settings import Settings, get_settings

    secreto = "clave-de-pruebas-cli-" + "y" * 32
    llavero_dev = Llavero.desde_settings(Settings(_env_file=None, entorno="pruebas", secret_key=secreto))
    with psycopg.connect(url_bd, autocommit=True) as conexion:
        agentes = [conexion.execute("INSERT INTO agentes (nombre) VALUES ('A') RETURNING id").fetchone()[0]]
        agentes.append(conexion.execute("INSERT INTO agentes (nombre) VALUES ('B') RETURNING id").fetchone()[0])
        for agente_id in agentes:
            clave_id, blob = llavero_dev.cifrar({"creds": {"registered": True}, "keys": {}}, contexto_agente(agente_id))
            conexion.execute(
                "INSERT INTO sesiones_wa (agente_id, motor, credenciales, clave_id) VALUES (%s, 'simulador', %s, %s)",
                (agente_id, blob, clave_id),
            )
    entorno = {
        "ENLACE_DATABASE_URL": url_bd,
        "ENLACE_ENTORNO": "pruebas",
        "ENLACE_SECRET_KEY": secreto,
        "ENLACE_CLAVES_CREDENCIALES": f"k2:{K_NUEVA}",
    }
    # The command configures logging onto CliRunner's stderr, which closes afterwards: restore ours.
    config_structlog = structlog.get_config()
    manejadores = logging.root.handlers[:]
    get_settings.cache_clear()
    try:
        resultado = CliRunner().invoke(app, ["rotar-clave"], env=entorno)
        assert resultado.exit_code == 0, resultado.output
        assert "clave «k2»: 2" in resultado.output
        with psycopg.connect(url_bd) as conexion:
            blobs = conexion.execute("SELECT count(*) FROM sesiones_wa WHERE credenciales IS NOT NULL").fetchone()
            filas = conexion.execute("SELECT agente_id, tipo, ident, clave_id, cifrado FROM credenciales_wa").fetchall()
        # The legacy blobs became one row per key under the new key.
        assert blobs == (0,) and sorted(f[0] for f in filas) == sorted(agentes)
        nuevo = Llavero.desde_texto(f"k2:{K_NUEVA}")
        for agente_id, tipo, ident, clave_id, cifrado in filas:
            assert (tipo, ident, clave_id) == ("creds", "", "k2")
            valor = nuevo.descifrar_valor(clave_id, bytes(cifrado), contexto_clave(agente_id, tipo, ident))
            assert valor["registered"] is True
        # A key that is not configured any more: the command says which agents must link again.
        otra = base64.b64encode(bytes(range(7, 39))).decode()
        get_settings.cache_clear()
        resultado = CliRunner().invoke(
            app, ["rotar-clave"], env={**entorno, "ENLACE_CLAVES_CREDENCIALES": f"k3:{otra}"}
        )
        assert resultado.exit_code == 1 and str(agentes) in resultado.output
    finally:
        get_settings.cache_clear()
        structlog.configure(**config_structlog)
        logging.root.handlers[:] = manejadores


async def test_campana_activa_arranca_la_sesion_salvo_desconexion_manual(nucleo: Any, reloj: RelojManual) -> None:
    from enlace.campanas.models import Campana

    inactivo, manual = await crear_agentes(nucleo, 2)
    a = await Nodo(nucleo, reloj, nombre="nodo-a").iniciar()
    try:
        await vincular(a, reloj, nucleo, [inactivo, manual])
        await a.gestor.desconectar(inactivo, motivo="Detenida por inactividad")
        await a.gestor.desconectar(manual)
        await a.gestor.revisar()
        assert set((await estados(nucleo)).values()) == {"desconectada"}
        async with nucleo.fabrica() as s:
            s.add_all([Campana(agente_id=x, nombre="Pensiones", estado="activa") for x in (inactivo, manual)])
            await s.commit()
        await a.gestor.revisar()
        await esperar(reloj, lambda: _estado_es(nucleo, inactivo, "conectada"), paso=0.5)
        assert (await estados(nucleo))[manual] == "desconectada"
        assert await a.gestor.asegurar(manual) == "desconectada"
        # With the campaign running the session is not stopped for inactivity.
        await reloj.avanzar(a.gestor.inactiva.total_seconds() * 2)
        await a.gestor.revisar()
        assert (await estados(nucleo))[inactivo] == "conectada"
    finally:
        await a.detener()


async def test_version_desactualizada_405_termina_sin_reintentar(nucleo: Any, reloj: RelojManual, nodo: Nodo) -> None:
    """405 (outdated WhatsApp Web client): a clear reason, no reconnect loop."""
    [agente_id] = await crear_agentes(nucleo, 1)
    await vincular(nodo, reloj, nucleo, [agente_id])
    await nodo.motor.inyectar_fallo(agente_id, "desconexion")
    nodo.motor.red.version_minima = (9, 0, 0)  # WhatsApp now refuses the version this client speaks
    await esperar(reloj, lambda: _estado_es(nucleo, agente_id, "desconectada"), paso=5.0)
    async with nucleo.fabrica() as s:
        motivo = await s.scalar(select(SesionWA.motivo).where(SesionWA.agente_id == agente_id))
    assert motivo is not None and "405" in motivo
    intentos = len(nodo.de(EventoDesconectado, agente_id))
    await reloj.avanzar(3600)
    await asyncio.sleep(0.05)
    assert len(nodo.de(EventoDesconectado, agente_id)) == intentos  # stopped: no retry loop
    assert (await estados(nucleo))[agente_id] == "desconectada"
