"""Capture across a database outage: batches wait and retry, the bounded queue pushes back, nothing is lost.

The core's connections go through a TCP proxy on loopback; mid-stream the proxy resets every connection and
refuses new ones for `ENLACE_CAIDA_S` seconds (5 by default; 60 reproduces the issue's scenario), while a
busy campaign's echoes, receipts and replies keep arriving. Afterwards every message, receipt and reply is
stored exactly once.
"""

from __future__ import annotations

import asyncio
import os
import random
from typing import Any

from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from enlace.captura.service import Captura
from enlace.db.sesion import crear_fabrica, crear_motor_bd
from enlace.motores.base import EventoEstado
from tests.integration.test_captura import armar, comprobar, revolver
from tests.soporte.proxy_tcp import ProxyTCP

CAIDA_S = float(os.environ.get("ENLACE_CAIDA_S", "5"))


async def test_caida_de_la_bd_no_pierde_recibos_ni_respuestas(nucleo: Any, url_bd: str) -> None:
    rnd = random.Random(60)
    esc = await armar(nucleo, rnd, n=150, tecleados=30)
    eventos = revolver(rnd, esc.eventos)
    url = make_url(url_bd)
    proxy = ProxyTCP(url.host or "127.0.0.1", url.port or 5432)
    puerto = await proxy.iniciar()
    motor_bd = crear_motor_bd(url.set(host="127.0.0.1", port=puerto).render_as_string(hide_password=False))
    cola = 40
    c = Captura(crear_fabrica(motor_bd), nucleo.reloj, nucleo.settings, max_lote=16, ventana_s=0.002, max_cola=cola)
    await c.iniciar()
    try:
        tercio = len(eventos) // 3
        for ev in eventos[:tercio]:
            await c.recibir(ev)
            await asyncio.sleep(0.001)
        await proxy.cortar()
        # The engines keep delivering during the outage: the queue fills and then holds them back.
        resto = asyncio.create_task(_entregar(c, eventos[tercio:]))
        await asyncio.sleep(CAIDA_S)
        assert not resto.done(), "la cola debía frenar al motor mientras la base no responde"
        assert c.consumidor.pendientes <= cola
        proxy.reanudar()
        await resto
        await c.vaciar()
    finally:
        await c.detener()
        await proxy.detener()
        await motor_bd.dispose()
    est = c.consumidor.estadisticas
    assert est.items_perdidos == 0
    assert est.reintentos > 0  # it really waited for the database
    await comprobar(nucleo, esc, sum(isinstance(e, EventoEstado) for e in eventos))


async def _entregar(c: Captura, eventos: list[Any]) -> None:
    for ev in eventos:
        await c.recibir(ev)


async def test_commit_sin_respuesta_no_duplica_al_reintentar(nucleo: Any) -> None:
    """The batch committed but the connection died before the answer: the retry writes nothing twice."""
    rnd = random.Random(61)
    esc = await armar(nucleo, rnd, n=40, tecleados=5)
    eventos = revolver(rnd, esc.eventos)
    c = Captura(nucleo.fabrica, nucleo.reloj, nucleo.settings, max_lote=16, ventana_s=0.002)
    real = c.consumidor._procesar
    perdidas = 0

    async def commit_sin_respuesta(items: list[Any], **kw: Any) -> None:
        nonlocal perdidas
        await real(items, **kw)
        if perdidas < 3:  # the first three batches: committed, then "server closed the connection"
            perdidas += 1
            raise OperationalError("COMMIT", {}, ConnectionResetError("la conexión se cerró"))

    c.consumidor._procesar = commit_sin_respuesta
    await c.iniciar()
    try:
        for ev in eventos:
            await c.recibir(ev)
        await c.vaciar()
    finally:
        await c.detener()
    assert perdidas == 3 and c.consumidor.estadisticas.reintentos == 3
    assert c.consumidor.estadisticas.items_perdidos == 0
    await comprobar(nucleo, esc, sum(isinstance(e, EventoEstado) for e in eventos))  # receipts exactly once
