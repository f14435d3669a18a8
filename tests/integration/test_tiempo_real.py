"""Realtime: clients in different roles each receive exactly the events they may see; joins are authorized."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest
import socketio
import uvicorn

from enlace.api import create_app
from enlace.api_tiempo_real import montar
from enlace.campanas.models import Campana
from enlace.tiempo_real import bus
from enlace.tiempo_real.bus import emitir, salas_de_agente

FIN = "supervision.aviso"  # the end marker is a real event of the contract (only the marker sends it here)
FIN_DATOS = {"texto": "fin", "de": "prueba", "de_usuario_id": 0, "at": "2026-11-23T15:00:00+00:00"}


def _datos(evento: str, agente_id: int) -> dict[str, Any]:
    """A minimal payload that satisfies the contract (enlace.comun.eventos) for `evento`."""
    momento = "2026-11-23T15:00:00+00:00"
    mensaje = {"id": 1, "agente_id": agente_id, "wa_message_id": "3EB0PRUEBA"}
    return {
        "mensaje.enviado": {**mensaje, "origen": "campana", "estado": "enviado", "tipo": "texto", "momento": momento},
        "mensaje.recibido": {**mensaje, "tipo": "texto", "momento": momento},
        "mensaje.estado": {**mensaje, "estado": "entregado"},
        "sesion.estado": {"agente_id": agente_id, "estado": "conectada"},
    }[evento]


@pytest.fixture
async def url_rt(nucleo: Any) -> AsyncIterator[str]:
    """The real app with socket.io, served by uvicorn on a loopback port inside the test's loop."""
    asgi, _sio = montar(nucleo, create_app(nucleo, iniciar_nucleo=False))
    servidor = uvicorn.Server(uvicorn.Config(asgi, host="127.0.0.1", port=0, lifespan="off", log_level="warning"))
    tarea = asyncio.create_task(servidor.serve())
    while not servidor.started:  # noqa: ASYNC110 - uvicorn exposes a flag, not an event
        await asyncio.sleep(0.01)
    puerto = servidor.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{puerto}"
    servidor.should_exit = True
    await tarea
    bus.configurar_emisor(None)


class Oyente:
    """A socket.io client that records every event it gets, in order."""

    def __init__(self) -> None:
        self.cliente = socketio.AsyncClient(reconnection=False)
        self.eventos: list[tuple[str, Any]] = []
        self.fin = asyncio.Event()

        @self.cliente.on("*")
        async def cualquiera(evento: str, datos: Any) -> None:
            if evento == FIN:
                self.fin.set()
            else:
                self.eventos.append((evento, datos))

    async def conectar(
        self, url: str, *, cookie: str | None = None, token: str | None = None, origen: str | None = None
    ) -> None:
        cabeceras = {"Cookie": f"enlace_sesion={cookie}"} if cookie else {}
        if origen:
            cabeceras["Origin"] = origen
        await self.cliente.connect(
            url, headers=cabeceras, auth={"token": token} if token else None, transports=["websocket"], wait_timeout=5
        )

    def nombres(self) -> list[tuple[str, Any]]:
        return [(e, d.get("agente_id")) for e, d in self.eventos]


async def _cookie(cliente: Any) -> str:
    valor = cliente.cookies.get("enlace_sesion")
    assert valor
    return valor


async def _emitir(nucleo: Any, agente_id: int, evento: str, *, confirmar: bool = True) -> None:
    async with nucleo.fabrica() as session:
        emitir(session, evento, _datos(evento, agente_id), await salas_de_agente(session, agente_id))
        if confirmar:
            await session.commit()
        else:
            await session.rollback()


async def _cerrar(oyentes: list[Oyente], nucleo: Any, agentes: list[int]) -> None:
    """Send an end marker through every room; socket.io keeps order, so all earlier events are in."""
    async with nucleo.fabrica() as session:
        salas = ["supervision"]
        for a in agentes:
            salas += await salas_de_agente(session, a)
        emitir(session, FIN, FIN_DATOS, salas)
        await session.commit()
    await asyncio.wait_for(asyncio.gather(*(o.fin.wait() for o in oyentes)), 10)


async def test_cada_rol_recibe_exactamente_lo_que_puede_ver(
    nucleo: Any, url_rt: str, cliente_como: Any, equipo: Any
) -> None:
    norte, sur = await equipo("Norte"), await equipo("Sur")
    admin = await cliente_como("admin")
    sup_norte = await cliente_como("supervisor", equipo_id=norte)
    agente_norte = await cliente_como("agente", equipo_id=norte)
    agente_sur = await cliente_como("agente", equipo_id=sur)
    a_norte, a_sur = agente_norte.usuario["agente_id"], agente_sur.usuario["agente_id"]

    oyentes = {n: Oyente() for n in ("admin", "sup_norte", "agente_norte", "agente_sur")}
    for nombre, c in (
        ("admin", admin),
        ("sup_norte", sup_norte),
        ("agente_norte", agente_norte),
        ("agente_sur", agente_sur),
    ):
        await oyentes[nombre].conectar(url_rt, cookie=await _cookie(c))
    try:
        await _emitir(nucleo, a_norte, "mensaje.enviado")
        await _emitir(nucleo, a_sur, "mensaje.recibido")
        await _emitir(nucleo, a_sur, "sesion.estado", confirmar=False)  # rolled back: nobody hears it
        await _cerrar(list(oyentes.values()), nucleo, [a_norte, a_sur])

        assert oyentes["admin"].nombres() == [("mensaje.enviado", a_norte), ("mensaje.recibido", a_sur)]
        assert oyentes["sup_norte"].nombres() == [("mensaje.enviado", a_norte)]
        assert oyentes["agente_norte"].nombres() == [("mensaje.enviado", a_norte)]
        assert oyentes["agente_sur"].nombres() == [("mensaje.recibido", a_sur)]
    finally:
        for o in oyentes.values():
            await o.cliente.disconnect()


async def test_unirse_a_salas_esta_autorizado(nucleo: Any, url_rt: str, cliente_como: Any, equipo: Any) -> None:
    norte, sur = await equipo("Norte"), await equipo("Sur")
    sup_norte = await cliente_como("supervisor", equipo_id=norte)
    agente_norte = await cliente_como("agente", equipo_id=norte)
    agente_sur = await cliente_como("agente", equipo_id=sur)
    a_norte, a_sur = agente_norte.usuario["agente_id"], agente_sur.usuario["agente_id"]
    async with nucleo.fabrica() as session:
        propia, ajena = Campana(agente_id=a_norte, nombre="Propia"), Campana(agente_id=a_sur, nombre="Ajena")
        session.add_all([propia, ajena])
        await session.commit()

    agente, sup = Oyente(), Oyente()
    await agente.conectar(url_rt, cookie=await _cookie(agente_norte))
    await sup.conectar(url_rt, cookie=await _cookie(sup_norte))
    try:

        async def unirse(o: Oyente, sala: str) -> bool:
            r = await o.cliente.call("unirse", {"sala": sala}, timeout=5)
            return bool(r["ok"])

        assert await unirse(agente, f"agente:{a_norte}")
        assert not await unirse(agente, f"agente:{a_sur}")
        assert not await unirse(agente, f"equipo:{norte}")
        assert not await unirse(agente, "supervision")
        assert await unirse(agente, f"campana:{propia.id}")
        assert not await unirse(agente, f"campana:{ajena.id}")
        assert not await unirse(agente, "campana:abc")
        assert not await unirse(agente, f"equipo:{sur}")

        assert await unirse(sup, f"agente:{a_norte}")
        assert not await unirse(sup, f"agente:{a_sur}")
        assert not await unirse(sup, f"equipo:{sur}")
        assert not await unirse(sup, "supervision")
        assert await unirse(sup, f"campana:{propia.id}")
        assert not await unirse(sup, f"campana:{ajena.id}")

        # The supervisor now sits in equipo:norte and agente:a_norte: one event, one copy.
        async with nucleo.fabrica() as session:
            salas = [f"campana:{propia.id}", *await salas_de_agente(session, a_norte)]
            emitir(session, "mensaje.estado", _datos("mensaje.estado", a_norte), salas)
            emitir(
                session,
                "mensaje.estado",
                _datos("mensaje.estado", a_sur),
                [f"campana:{ajena.id}", *await salas_de_agente(session, a_sur)],
            )
            await session.commit()
        await _cerrar([agente, sup], nucleo, [a_norte])
        assert sup.nombres() == [("mensaje.estado", a_norte)]
        assert agente.nombres() == [("mensaje.estado", a_norte)]
    finally:
        await agente.cliente.disconnect()
        await sup.cliente.disconnect()


async def test_conexion_sin_credenciales_o_con_token(nucleo: Any, url_rt: str, cliente_como: Any) -> None:
    anonimo = Oyente()
    with pytest.raises(socketio.exceptions.ConnectionError):
        await anonimo.conectar(url_rt, cookie="no-es-una-sesion")
    admin = await cliente_como("admin")
    r = await admin.post("/api/tokens", json={"nombre": "crm", "alcances": ["conversaciones:leer"]})
    assert r.status_code == 201, r.text
    con_token = Oyente()
    await con_token.conectar(url_rt, token=r.json()["token"])
    try:
        salas = await con_token.cliente.call("salas", timeout=5)
        assert salas == ["supervision"]
    finally:
        await con_token.cliente.disconnect()
        with contextlib.suppress(Exception):
            await anonimo.cliente.disconnect()


async def test_otro_sitio_no_puede_usar_la_cookie(url_rt: str, cliente_como: Any) -> None:
    """Cross-site WebSocket hijacking: a foreign page's handshake carries the cookie but not our Origin."""
    agente = await cliente_como("agente")
    ajeno = Oyente()
    with pytest.raises(socketio.exceptions.ConnectionError):
        await ajeno.conectar(url_rt, cookie=await _cookie(agente), origen="https://sitio-malicioso.example")
    propio = Oyente()
    await propio.conectar(url_rt, cookie=await _cookie(agente), origen=url_rt)
    await propio.cliente.disconnect()


def test_origenes_permitidos() -> None:
    from enlace.api_tiempo_real import origen_permitido

    environ = {"HTTP_HOST": "enlace.empresa.mx"}
    assert origen_permitido(None, environ)
    assert origen_permitido("https://enlace.empresa.mx", environ)
    assert not origen_permitido("https://enlace.empresa.mx.malo.example", environ)
    assert not origen_permitido("http://localhost:5173", environ)
    assert origen_permitido("http://localhost:5173", environ, desarrollo=True)


async def test_progreso_de_campana_se_coalesce(nucleo: Any) -> None:
    recibidos: list[tuple[str, dict[str, Any], list[str]]] = []

    async def observar(evento: str, datos: dict[str, Any], salas: list[str]) -> None:
        recibidos.append((evento, datos, salas))

    bus.observadores.append(observar)
    try:
        for enviados in range(1, 101):
            await bus.publicar("campana.progreso", _progreso(7, enviados), ["campana:7"])
        await bus.publicar("campana.progreso", _progreso(8, 1), ["campana:8"])
        await bus.vaciar()
    finally:
        bus.observadores.remove(observar)
    assert [(d["campana_id"], d["cuentas"]["enviado"]) for _, d, _ in recibidos] == [(7, 100), (8, 1)]


def _progreso(campana_id: int, enviados: int) -> dict[str, Any]:
    return {
        "campana_id": campana_id,
        "agente_id": 1,
        "cuentas": {"enviado": enviados},
        "momento": "2026-11-23T15:00:00Z",
    }


async def test_un_evento_fuera_del_contrato_se_rechaza(nucleo: Any) -> None:
    """camelCase keys, unknown events and missing fields are refused before anything is emitted."""
    from enlace.comun.eventos import EventoInvalido

    with pytest.raises(EventoInvalido, match="campanaId"):
        await bus.publicar("campana.progreso", {"campanaId": 7, "agente_id": 1, "cuentas": {}, "momento": "x"}, [])
    with pytest.raises(EventoInvalido, match="evento desconocido"):
        await bus.publicar("campana.avance", {}, [])
    async with nucleo.fabrica() as session:
        with pytest.raises(EventoInvalido, match="agente_id"):
            emitir(session, "sesion.estado", {"estado": "conectada"}, ["supervision"])
