"""The injected clocks: manual time for tests, accelerated time that survives restarts."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

from enlace.reloj import RelojAcelerado, RelojManual


async def test_reloj_manual_despierta_en_orden_de_tiempo() -> None:
    reloj = RelojManual()
    inicio = reloj.ahora()
    orden: list[tuple[str, datetime]] = []

    async def dormir(nombre: str, segundos: float) -> None:
        await reloj.dormir(segundos)
        orden.append((nombre, reloj.ahora()))

    tareas = [asyncio.create_task(dormir("b", 20)), asyncio.create_task(dormir("a", 5))]
    await asyncio.sleep(0)
    await reloj.avanzar(10)
    assert orden == [("a", inicio + timedelta(seconds=5))]
    await reloj.avanzar(10)
    assert [n for n, _ in orden] == ["a", "b"]
    assert orden[1][1] == inicio + timedelta(seconds=20)
    await asyncio.gather(*tareas)


def test_reloj_acelerado_corre_a_su_velocidad() -> None:
    inicio = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
    reloj = RelojAcelerado(600, inicio, origen_real=time.time() - 2)
    transcurrido = (reloj.ahora() - inicio).total_seconds()
    assert 1200 <= transcurrido < 1200 + 600  # two real seconds = twenty virtual minutes


def test_reloj_acelerado_anclado_continua_tras_reinicio() -> None:
    primero = RelojAcelerado(600, datetime(2026, 11, 23, 15, 0, tzinfo=UTC))
    antes = primero.ahora()
    # A new process (a restart) builds its clock "now", then adopts the stored anchor.
    segundo = RelojAcelerado(600, datetime(2026, 1, 1, tzinfo=UTC))
    segundo.anclar(primero.inicio, primero.origen_real)
    assert segundo.ahora() >= antes
