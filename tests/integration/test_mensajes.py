"""The outgoing-message status table: Python and the database trigger agree, and illegal moves are refused."""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from enlace.captura.service import Captura
from enlace.mensajes import estados
from enlace.mensajes.repository import TransicionInvalida, transicionar, transicionar_uno
from enlace.motores.base import EstadoEntrega, EventoEstado, EventoMensaje, TipoContenido


async def _sql(nucleo: Any, consulta: str, **params: Any) -> list[Any]:
    async with nucleo.fabrica() as s:
        resultado = await s.execute(text(consulta), params)
        filas = list(resultado.all()) if resultado.returns_rows else []
        await s.commit()
        return filas


async def _fila(nucleo: Any, estado: str = "pendiente", wa: str = "3EB0PRUEBA") -> tuple[int, int]:
    agente = (await _sql(nucleo, "INSERT INTO agentes (nombre, numero_wa) VALUES ('A', '+525500000001') RETURNING id"))[
        0
    ][0]
    fila = await _sql(
        nucleo,
        "INSERT INTO mensajes_enviados (agente_id, origen, numero_destino, mensaje, wa_message_id, estado)"
        " VALUES (:a, 'campana', '+525512345678', 'Hola', :w, :e) RETURNING id",
        a=agente,
        w=wa,
        e=estado,
    )
    return agente, fila[0][0]


def test_tabla_coherente_con_el_rango() -> None:
    """Every move keeps or raises the rank, and every proof that outranks a status is a legal move from it."""
    assert set(estados.TRANSICIONES) == set(estados.ESTADOS) == set(estados.RANGO)
    for desde, siguientes in estados.TRANSICIONES.items():
        for hacia in siguientes:
            assert estados.RANGO[hacia] >= estados.RANGO[desde], (desde, hacia)
        for prueba in estados.PRUEBAS:
            if estados.RANGO[prueba] > estados.RANGO[desde]:
                assert prueba in siguientes, (desde, prueba)
    assert estados.ENVIADOS <= estados.SALIDOS and estados.ENTREGADOS <= estados.ENVIADOS
    assert estados.CUENTAN_PARA_TOPE <= estados.SALIDOS
    assert estados.FINALES.isdisjoint(estados.ABIERTOS)
    assert estados.FINALES | estados.ABIERTOS == set(estados.ESTADOS)


async def test_la_base_aplica_la_misma_tabla(nucleo: Any) -> None:
    """The trigger's function answers exactly like `TRANSICIONES` for every pair, and the named sets agree."""
    pares = list(itertools.product(estados.ESTADOS, repeat=2))
    filas = await _sql(
        nucleo,
        "SELECT d, h, mensajes_transicion_permitida(d, h)"
        " FROM unnest(CAST(:d AS text[]), CAST(:h AS text[])) AS t(d, h)",
        d=[d for d, _ in pares],
        h=[h for _, h in pares],
    )
    distintas = [(d, h, bd) for d, h, bd in filas if bd != estados.permitida(d, h)]
    assert not distintas, f"la migración y enlace.mensajes.estados difieren: {distintas}"
    for nombre, conjunto in (("enviado", estados.ENVIADOS), ("entregado", estados.ENTREGADOS)):
        filas = await _sql(
            nucleo, f"SELECT e, mensajes_{nombre}(e) FROM unnest(CAST(:e AS text[])) AS e", e=list(estados.ESTADOS)
        )
        assert {e for e, si in filas if si} == conjunto


@pytest.mark.parametrize(
    ("inicial", "ilegal"),
    [
        ("leido", "entregado"),
        ("entregado", "enviado"),
        ("fallido", "enviado"),
        ("incierto", "pendiente"),
        ("cancelado", "pendiente"),
        ("enviado", "enviando"),
        ("suprimido", "enviando"),
        ("pendiente", "incierto"),
    ],
)
async def test_update_directo_ilegal_rechazado(nucleo: Any, inicial: str, ilegal: str) -> None:
    _, mensaje = await _fila(nucleo, inicial)
    with pytest.raises(IntegrityError, match="transición de estado no permitida"):
        await _sql(nucleo, "UPDATE mensajes_enviados SET estado = :e WHERE id = :id", e=ilegal, id=mensaje)
    assert (await _sql(nucleo, "SELECT estado FROM mensajes_enviados WHERE id = :id", id=mensaje))[0][0] == inicial
    # Changing other columns of the row is not a transition.
    await _sql(nucleo, "UPDATE mensajes_enviados SET detalle_error = 'x' WHERE id = :id", id=mensaje)


async def test_transicionar_solo_desde_origenes_validos(nucleo: Any) -> None:
    agente, mensaje = await _fila(nucleo, "pendiente")
    async with nucleo.fabrica() as s:
        with pytest.raises(TransicionInvalida):
            await transicionar_uno(s, mensaje, "pendiente", desde=("incierto",))
        assert await transicionar_uno(s, mensaje, "enviando", desde=("pendiente",))
        assert not await transicionar_uno(s, mensaje, "cancelado")  # enviando → cancelado is not a move
        movidos = await transicionar(s, "enviado", ids=[mensaje], enviado_at=nucleo.reloj.ahora())
        assert [m.id for m in movidos] == [mensaje] and movidos[0].agente_id == agente
        await s.commit()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    inicial=st.sampled_from(["pendiente", "enviando", "incierto", "cancelado", "suprimido", "enviado"]),
    recibos=st.lists(st.sampled_from(list(EstadoEntrega)), min_size=1, max_size=8),
    orden=st.randoms(use_true_random=False),
    lote=st.integers(min_value=1, max_value=4),
    eco=st.booleans(),
)
async def test_recibos_en_cualquier_orden_terminan_en_el_rango_maximo(
    nucleo: Any, inicial: str, recibos: list[EstadoEntrega], orden: Any, lote: int, eco: bool
) -> None:
    await _sql(nucleo, "TRUNCATE agentes, mensajes_enviados, eventos_entrega, recibos_pendientes CASCADE")
    agente, mensaje = await _fila(nucleo, inicial)
    t0 = nucleo.reloj.ahora()
    eventos: list[Any] = [
        EventoEstado(agente, "3EB0PRUEBA", tipo, t0 + timedelta(seconds=i)) for i, tipo in enumerate(recibos)
    ]
    if eco:
        eventos.append(
            EventoMensaje(
                agente, "3EB0PRUEBA", True, "5215512345678@s.whatsapp.net", None, t0, TipoContenido.texto, "Hola"
            )
        )
    orden.shuffle(eventos)
    captura = Captura(nucleo.fabrica, nucleo.reloj, nucleo.settings)
    for i in range(0, len(eventos), lote):
        await captura.procesar(eventos[i : i + lote])
    esperado = inicial
    for tipo in recibos:
        esperado = estados.fusionar(esperado, {"reproducido": "leido"}.get(tipo.value, tipo.value))
    if eco:
        esperado = estados.fusionar(esperado, "enviado")
    final = (await _sql(nucleo, "SELECT estado FROM mensajes_enviados WHERE id = :id", id=mensaje))[0][0]
    assert final == esperado
    assert estados.RANGO[final] == max(
        [estados.RANGO[inicial]]
        + [estados.RANGO[{"reproducido": "leido"}.get(t.value, t.value)] for t in recibos]
        + ([estados.RANGO["enviado"]] if eco else [])
    )
