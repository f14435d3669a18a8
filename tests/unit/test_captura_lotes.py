"""The batching consumer: groups, keeps per-key order, survives a poison item, and the media downloader."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from enlace.captura.lotes import ConsumidorPorLotes
from enlace.captura.medios import DescargadorMedios, SolicitudMedio
from enlace.motores.base import Medio


@settings(max_examples=30, deadline=None)
@given(
    st.lists(st.tuples(st.integers(min_value=0, max_value=5), st.integers()), max_size=300),
    st.integers(min_value=1, max_value=64),
    st.integers(min_value=1, max_value=4),
)
def test_orden_por_clave_y_nada_se_pierde(items: list[tuple[int, int]], max_lote: int, particiones: int) -> None:
    vistos: list[tuple[int, int, int]] = []
    lotes: list[int] = []

    async def procesar(lote: list[tuple[int, int, int]]) -> None:
        lotes.append(len(lote))
        await asyncio.sleep(0)
        vistos.extend(lote)

    async def correr() -> None:
        c: ConsumidorPorLotes[tuple[int, int, int]] = ConsumidorPorLotes(
            procesar, max_lote=max_lote, ventana_s=0.001, particiones=particiones, clave=lambda x: x[0]
        )
        c.iniciar()
        for i, (k, v) in enumerate(items):
            await c.poner((k, i, v))
        await c.vaciar()
        await c.detener()
        assert c.estadisticas.items == len(items)

    asyncio.run(correr())
    assert sorted(vistos) == sorted((k, i, v) for i, (k, v) in enumerate(items))
    assert all(n <= max_lote for n in lotes)
    for k in range(6):
        orden = [i for kk, i, _ in vistos if kk == k]
        assert orden == sorted(orden)


def test_agrupa_rafagas_en_pocos_lotes() -> None:
    lotes: list[int] = []

    async def procesar(lote: list[int]) -> None:
        lotes.append(len(lote))

    async def correr() -> None:
        c: ConsumidorPorLotes[int] = ConsumidorPorLotes(procesar, max_lote=100, ventana_s=0.05)
        c.iniciar()
        for i in range(1000):
            await c.poner(i)
        await c.detener()

    asyncio.run(correr())
    assert sum(lotes) == 1000
    assert len(lotes) <= 11


def test_un_item_venenoso_no_tumba_el_lote() -> None:
    procesados: list[int] = []
    fallidos: list[int] = []

    async def procesar(lote: list[int]) -> None:
        if 13 in lote:
            raise RuntimeError("fila mala")
        procesados.extend(lote)

    async def al_fallar(item: int, exc: BaseException) -> None:
        fallidos.append(item)

    async def correr() -> None:
        c: ConsumidorPorLotes[int] = ConsumidorPorLotes(procesar, max_lote=50, ventana_s=0.01, al_fallar=al_fallar)
        c.iniciar()
        for i in range(40):
            await c.poner(i)
        await c.vaciar()
        assert c.estadisticas.items_perdidos == 1
        await c.detener()

    asyncio.run(correr())
    assert fallidos == [13]
    assert sorted(procesados) == [i for i in range(40) if i != 13]


def test_descargas_no_bloquean_y_se_registran(tmp_path: Path) -> None:
    registradas: dict[str, str] = {}
    liberar = asyncio.Event

    async def correr() -> None:
        puerta = liberar()

        async def obtener(agente_id: int, referencia: str) -> bytes:
            await puerta.wait()
            if referencia == "rota":
                raise OSError("sin conexión")
            return referencia.encode()

        async def registrar(s: SolicitudMedio, ruta: str) -> None:
            registradas[s.wa_message_id] = ruta

        d = DescargadorMedios(tmp_path, obtener, registrar, max_cola=2, trabajadores=1)
        d.iniciar()
        momento = datetime(2026, 11, 23, tzinfo=UTC)
        pedir = [
            SolicitudMedio("mensajes_recibidos", 3, f"M{i}", momento, Medio("image/png", 3, None, r))
            for i, r in enumerate(["abc", "rota", "xyz", "def"])
        ]
        # The worker holds the first; the queue takes two more; the fourth is dropped, not awaited.
        resultados = []
        for s in pedir:
            resultados.append(d.solicitar(s))
            await asyncio.sleep(0)
        assert resultados == [True, True, True, False]
        assert d.solicitar(SolicitudMedio("mensajes_recibidos", 3, "sin", momento, Medio())) is False
        puerta.set()
        await d.vaciar()
        await d.detener()
        assert d.descartados == 1 and d.fallidos == 1 and d.descargados == 2

    asyncio.run(correr())
    assert set(registradas) == {"M0", "M2"}
    assert Path(registradas["M0"]).read_bytes() == b"abc"
    assert Path(registradas["M0"]).name == "M0.png"
