"""Every Cloud API error code in the table, emitted by the Graph API stand-in, on a send and on a status."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from sqlalchemy import text

from enlace.agentes.models import Agente
from enlace.motores.base import (
    ClaseDesconexion,
    EventoDesconectado,
    EventoPreferencia,
    SesionNoDisponible,
)
from enlace.motores.cloud_api.config import leer_numeros
from enlace.motores.cloud_api.errores import TABLA, ClaseError, ReglaError, regla, tabla_markdown
from enlace.motores.cloud_api.motor import ErrorCloud, MotorCloudApi
from enlace.reloj import RelojManual
from tests.conftest import ajustes_prueba
from tests.soporte.graph_api_falso import GraphFalso

DOCS = "docs/oficial.md"


def _id(r: ReglaError) -> str:
    return f"{r.codigo}-{r.clase.value}"


def test_la_tabla_de_docs_es_la_del_codigo() -> None:
    with open(DOCS, encoding="utf-8") as f:
        docs = f.read()
    assert tabla_markdown() in docs, "docs/oficial.md no tiene la tabla de errores actual (errores.tabla_markdown())"
    assert len(TABLA) >= 45
    assert {r.clase for r in TABLA} == set(ClaseError)


def test_codigos_pedidos_en_su_clase() -> None:
    assert regla(131050).clase == ClaseError.suprimir
    for codigo in (131048, 368, 131031):
        assert regla(codigo).clase == ClaseError.parar_linea
    for codigo in (131049, 130472):
        assert regla(codigo).clase == ClaseError.reintentar and regla(codigo).espera_s == 86400
    assert regla(250).clase == ClaseError.parar_linea, "el rango 200–299 son permisos"
    assert regla(999999).clase == ClaseError.fallo, "lo desconocido no se reintenta a ciegas"


@pytest.fixture
async def graph() -> Any:
    g = GraphFalso()
    g.aprobar("p", cuerpo=0)
    await g.iniciar()
    yield g
    await g.detener()


@pytest.fixture
async def linea(nucleo: Any) -> int:
    async with nucleo.fabrica() as s:
        fila = Agente(nombre="Línea oficial 800")
        s.add(fila)
        await s.commit()
        return fila.id


async def _enviar(motor: MotorCloudApi, reloj: RelojManual, linea: int) -> Any:
    """Send one template, moving the manual clock while the engine backs off (130429)."""
    tarea = asyncio.create_task(
        motor.enviar_plantilla(
            linea, "5215512345678@s.whatsapp.net", nombre="p", idioma="es_MX", parametros=[], wa_message_id="enl.X"
        )
    )
    while not tarea.done():
        await asyncio.sleep(0.01)
        if reloj.proximo_despertar is not None:
            await reloj.avanzar(64)
    return await tarea


@pytest.mark.parametrize("r", TABLA, ids=_id)
async def test_envio_rechazado_con_cada_codigo(
    r: ReglaError, nucleo: Any, graph: GraphFalso, linea: int, url_bd: str
) -> None:
    settings = ajustes_prueba(url_bd, cloud_numeros=json.dumps([graph.configuracion(linea)]))
    eventos: list[Any] = []
    detenidas: list[tuple[Any, ...]] = []

    async def recibir(e: Any) -> None:
        eventos.append(e)

    async def detener(*args: Any) -> None:
        detenidas.append(args)

    reloj = RelojManual()
    motor = MotorCloudApi(leer_numeros(settings), reloj, plantilla_detenida=detener)
    await motor.iniciar(recibir)
    # 130429 is retried inside the engine first; only when it persists does the row wait.
    graph.errores_pendientes = [r.codigo] * (6 if r.codigo == 130429 else 1)
    try:
        if r.clase == ClaseError.parar_linea:
            with pytest.raises(SesionNoDisponible) as exc:
                await _enviar(motor, reloj, linea)
            assert exc.value.codigo == r.codigo
            parada = [e for e in eventos if isinstance(e, EventoDesconectado)]
            assert parada and parada[-1].codigo == r.codigo
            esperada = ClaseDesconexion.sesion_cerrada if r.sesion_cerrada else ClaseDesconexion.restringida
            assert parada[-1].clase == esperada and r.mensaje in parada[-1].detalle
        else:
            with pytest.raises(ErrorCloud) as exc:
                await _enviar(motor, reloj, linea)
            assert exc.value.codigo == r.codigo and r.mensaje in str(exc.value)
            if r.clase == ClaseError.reintentar:
                assert exc.value.reintentable and exc.value.reintentar_en_s == r.espera_s
            else:
                assert not exc.value.reintentable
            suprimidos = [e for e in eventos if isinstance(e, EventoPreferencia)]
            if r.clase == ClaseError.suprimir:
                assert suprimidos and suprimidos[0].telefono_jid == "5215512345678@s.whatsapp.net"
                assert suprimidos[0].detener_marketing
            else:
                assert not suprimidos
            assert bool(detenidas) == r.detiene_plantilla
        assert graph.enviados == [], "nada salió"
    finally:
        await motor.detener()


# ---- the same codes arriving on a `failed` status webhook ---------------------------------------------


@pytest.fixture
async def oficial(nucleo: Any, graph: GraphFalso, linea: int, url_bd: str) -> Any:
    from enlace.captura.service import Captura

    nucleo.settings = ajustes_prueba(url_bd, cloud_numeros=json.dumps([graph.configuracion(linea)]))
    captura = Captura(nucleo.fabrica, nucleo.reloj, nucleo.settings)
    await captura.iniciar()
    nucleo.captura = captura
    yield nucleo
    nucleo.captura = None
    await captura.detener()


@pytest.mark.parametrize("r", TABLA, ids=_id)
async def test_estado_fallido_con_cada_codigo(
    r: ReglaError, oficial: Any, graph: GraphFalso, linea: int, reloj: Any, cliente: Any, db: Any
) -> None:
    recibidos: list[Any] = []

    async def observar(e: Any) -> None:
        recibidos.append(e)

    oficial.suscribir(EventoDesconectado, observar)
    motor = MotorCloudApi(leer_numeros(oficial.settings), reloj)
    await motor.iniciar(observar)
    resultado = await motor.enviar_plantilla(
        linea, "525512345678@s.whatsapp.net", nombre="p", idioma="es_MX", parametros=[], wa_message_id="enl.Y"
    )
    await motor.detener()
    async with oficial.fabrica() as s:
        fila_id = await s.scalar(
            text("""INSERT INTO mensajes_enviados (agente_id, origen, numero_destino, mensaje, wa_message_id, wamid,
                                                   estado, enviado_at, tipo)
                    VALUES (:a, 'campana', '+525512345678', 'Hola', 'enl.Y', :w, 'enviado', now(), 'plantilla')
                    RETURNING id"""),
            {"a": linea, "w": resultado.wamid},
        )
        await s.commit()
    cuerpo, cabeceras = graph.firmado(graph.estado(graph.enviados[-1], "failed", codigo_error=r.codigo))
    respuesta = await cliente.post("/api/webhooks/whatsapp", content=cuerpo, headers=cabeceras)
    assert respuesta.status_code == 200, respuesta.text

    estado, codigo = (
        await db.execute(text("SELECT estado, codigo_error FROM mensajes_enviados WHERE id = :i"), {"i": fila_id})
    ).one()
    assert (estado, codigo) == ("fallido", r.codigo), "el estado fallido queda con su código"
    suprimido = await db.scalar(text("SELECT count(*) FROM supresiones WHERE telefono = '+525512345678'"))
    assert suprimido == (1 if r.clase == ClaseError.suprimir else 0)
    reintento = (
        await db.execute(
            text("SELECT estado, programado_para FROM mensajes_enviados WHERE medio->>'reintento_de' = :i"),
            {"i": str(fila_id)},
        )
    ).first()
    if r.clase == ClaseError.reintentar:
        assert reintento is not None and reintento.estado == "pendiente"
        espera = (reintento.programado_para - reloj.ahora()).total_seconds()
        assert abs(espera - (r.espera_s or 0)) < 1
    else:
        assert reintento is None
    paradas = [e for e in recibidos if isinstance(e, EventoDesconectado)]
    if r.clase == ClaseError.parar_linea:
        assert paradas and paradas[-1].codigo == r.codigo and r.mensaje in paradas[-1].detalle
    else:
        assert not paradas
