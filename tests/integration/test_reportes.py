"""Message report (filters, keyset pages, scope), rollup dashboards, exports (streamed, audited) and snapshot."""

from __future__ import annotations

import csv
import io
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import select, text

from enlace.campanas.models import Campana, ParadaSeguridad
from enlace.comun.models import Auditoria
from enlace.mensajes.models import MensajeEnviado, MensajeRecibido
from enlace.sesiones.models import SesionWA

# RelojManual starts on Monday 2026-11-23 15:00 UTC = 09:00 in Mexico City.
LUNES = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


def _mensaje(
    agente_id: int,
    creado: datetime,
    *,
    estado: str = "enviado",
    numero: str = "+525512345678",
    campana_id: int | None = None,
    texto: str = "Hola",
) -> MensajeEnviado:
    enviado = creado + timedelta(seconds=5) if estado in ("enviado", "entregado", "leido") else None
    return MensajeEnviado(
        agente_id=agente_id,
        campana_id=campana_id,
        numero_destino=numero,
        mensaje=texto,
        wa_message_id="3EB0" + secrets.token_hex(9).upper(),
        estado=estado,
        created_at=creado,
        enviado_at=enviado,
        entregado_at=enviado if estado in ("entregado", "leido") else None,
        leido_at=enviado if estado == "leido" else None,
        fallido_at=creado if estado == "fallido" else None,
    )


@pytest.fixture
async def escenario(nucleo: Any, cliente_como: Any, equipo: Any) -> dict[str, Any]:
    norte, sur = await equipo("Norte"), await equipo("Sur")
    c = {
        "admin": await cliente_como("admin"),
        "sup_norte": await cliente_como("supervisor", equipo_id=norte),
        "ana": await cliente_como("agente", equipo_id=norte),
        "beto": await cliente_como("agente", equipo_id=norte),
        "carla": await cliente_como("agente", equipo_id=sur),
    }
    ana, beto, carla = (c[n].usuario["agente_id"] for n in ("ana", "beto", "carla"))
    async with nucleo.fabrica() as session:
        campana = Campana(agente_id=ana, nombre="Pensiones noviembre", estado="activa", total_mensajes=4)
        session.add(campana)
        await session.flush()
        filas = [
            # Ana, Monday: 4 campaign messages in the funnel + one typed on the phone.
            _mensaje(ana, LUNES, estado="leido", campana_id=campana.id, numero="+525511111111"),
            _mensaje(
                ana, LUNES + timedelta(minutes=1), estado="entregado", campana_id=campana.id, numero="+525522222222"
            ),
            _mensaje(ana, LUNES + timedelta(minutes=2), estado="fallido", campana_id=campana.id),
            _mensaje(ana, LUNES + timedelta(minutes=3), estado="pendiente", campana_id=campana.id),
            _mensaje(ana, LUNES + timedelta(minutes=4), estado="enviado", texto='=HYPERLINK("http://x")'),
            # Ana, the Sunday before (local day 2026-11-22).
            _mensaje(ana, LUNES - timedelta(days=1), estado="entregado"),
            # Beto (same team) and Carla (other team), Monday.
            _mensaje(beto, LUNES + timedelta(minutes=5), estado="leido", numero="+525511111111"),
            _mensaje(carla, LUNES + timedelta(minutes=6), estado="entregado", numero="+525533333333"),
        ]
        session.add_all(filas)
        await session.flush()
        # Replies: to Ana's first message after 10 minutes (and again later: counted once), to her second
        # after 30 minutes as an opt-out, to Beto's after 2 minutes.
        recibidos = [
            (ana, filas[0], 600, None),
            (ana, filas[0], 900, None),
            (ana, filas[1], 1800, "baja"),
            (beto, filas[6], 120, None),
        ]
        for agente_id, original, segundos, clase in recibidos:
            session.add(
                MensajeRecibido(
                    agente_id=agente_id,
                    mensaje_origen_id=original.id,
                    campana_id=original.campana_id,
                    numero_origen=original.numero_destino,
                    mensaje="respuesta",
                    wa_message_id=secrets.token_hex(8),
                    recibido_at=original.enviado_at + timedelta(seconds=segundos),
                    clasificacion=clase,
                )
            )
        session.add(SesionWA(agente_id=ana, motor="simulador", estado="conectada", numero_wa="+525500000001"))
        session.add(ParadaSeguridad(agente_id=carla, motivo="restringida", detalle="463"))
        await session.commit()
    return {
        "c": c,
        "ana": ana,
        "beto": beto,
        "carla": carla,
        "norte": norte,
        "sur": sur,
        "campana": campana.id,
        "filas": [f.id for f in filas],
    }


async def test_reporte_filtra_pagina_y_respeta_el_alcance(escenario: dict[str, Any]) -> None:
    c, ana, carla = escenario["c"], escenario["ana"], escenario["carla"]
    admin = c["admin"]

    todos = (await admin.get("/api/reportes/mensajes")).json()
    assert len(todos["items"]) == 8 and todos["siguiente"] is None
    creados = [(i["fecha_reporte"], i["id"]) for i in todos["items"]]
    assert creados == sorted(creados, reverse=True)

    # Keyset pages of 3 walk the same order with no gap or repeat.
    vistos, cursor = [], None
    while True:
        r = await admin.get("/api/reportes/mensajes", params={"limite": 3, **({"cursor": cursor} if cursor else {})})
        assert r.status_code == 200, r.text
        vistos += [i["id"] for i in r.json()["items"]]
        cursor = r.json()["siguiente"]
        if cursor is None:
            break
    assert vistos == [i["id"] for i in todos["items"]]

    async def ids(cliente: Any, **params: Any) -> set[int]:
        r = await cliente.get("/api/reportes/mensajes", params=params)
        assert r.status_code == 200, r.text
        return {i["id"] for i in r.json()["items"]}

    filas = escenario["filas"]
    assert await ids(admin, agenteId=ana, fecha="2026-11-23") == set(filas[:5])
    assert await ids(admin, agenteId=ana, fecha="2026-11-22") == {filas[5]}
    assert await ids(admin, agenteId=ana, fecha="2026-11-01..2026-11-30") == set(filas[:6])
    assert await ids(admin, estado="leido,fallido") == {filas[0], filas[2], filas[6]}
    # The number is normalized the way portfolios are: 10 digits, spaces, +52 all match.
    assert await ids(admin, numero="55 1111 1111") == {filas[0], filas[6]}
    assert await ids(admin, numero="+525511111111", agenteId=escenario["beto"]) == {filas[6]}
    assert await ids(admin, campanaId=escenario["campana"]) == set(filas[:4])
    assert await ids(admin, equipoId=escenario["sur"]) == {filas[7]}

    # Scope: an agent sees only its own rows, a supervisor its teams'.
    assert await ids(c["ana"]) == set(filas[:6])
    assert await ids(c["sup_norte"]) == set(filas[:7])
    assert (await c["ana"].get("/api/reportes/mensajes", params={"agenteId": carla})).status_code == 404
    assert (
        await c["sup_norte"].get("/api/reportes/mensajes", params={"equipoId": escenario["sur"]})
    ).status_code == 404


@pytest.mark.parametrize(
    ("params", "campo"),
    [
        ({"fecha": "23/11/2026"}, "fecha"),
        ({"fecha": "2026-11-30..2026-11-01"}, "fecha"),
        ({"estado": "volando"}, "estado"),
        ({"numero": "5.51234E+09"}, "numero"),
        ({"cursor": "no-es-un-cursor"}, "cursor"),
        ({"limite": 0}, "limite"),
        ({"agenteId": "uno"}, "agenteId"),
    ],
)
async def test_entrada_invalida_nombra_el_campo(escenario: dict[str, Any], params: dict[str, Any], campo: str) -> None:
    r = await escenario["c"]["admin"].get("/api/reportes/mensajes", params=params)
    assert r.status_code == 422, r.text
    assert campo in r.json()["error"]["mensaje"]


async def test_tableros_desde_el_resumen(escenario: dict[str, Any], nucleo: Any) -> None:
    c, ana, beto = escenario["c"], escenario["ana"], escenario["beto"]
    r = await c["admin"].get(
        "/api/reportes/tablero/agentes", params={"fecha": "2026-11-23", "equipoId": escenario["norte"]}
    )
    assert r.status_code == 200, r.text
    por_agente = {f["agente_id"]: f for f in r.json()}
    assert set(por_agente) == {ana, beto}
    a = por_agente[ana]
    assert (a["enviados"], a["entregados"], a["leidos"], a["fallidos"]) == (3, 2, 1, 1)
    assert (a["respondidos"], a["bajas"]) == (2, 1)
    assert a["tasa_respuesta"] == pytest.approx(2 / 3, abs=1e-3)
    assert a["mediana_respuesta_s"] == pytest.approx(1200)  # median of 600 s and 1800 s
    assert por_agente[beto]["mediana_respuesta_s"] == pytest.approx(120)

    # The rollup equals a recount from the raw rows (triggers kept it in step).
    async with nucleo.fabrica() as session:
        recuento = (
            await session.execute(
                text(
                    "SELECT count(*) FILTER (WHERE estado IN ('enviado','entregado','leido')), "
                    "count(*) FILTER (WHERE estado = 'fallido') FROM mensajes_enviados"
                )
            )
        ).one()
        resumen = (await session.execute(text("SELECT sum(enviados), sum(fallidos) FROM resumen_diario"))).one()
    assert tuple(recuento) == tuple(resumen)

    r = await c["admin"].get(f"/api/reportes/tablero/campanas/{escenario['campana']}")
    assert r.status_code == 200, r.text
    embudo = r.json()
    assert (embudo["enviados"], embudo["entregados"], embudo["leidos"], embudo["respondidos"]) == (2, 2, 1, 2)
    assert embudo["por_estado"] == {"leido": 1, "entregado": 1, "fallido": 1, "pendiente": 1}
    assert (await c["carla"].get(f"/api/reportes/tablero/campanas/{escenario['campana']}")).status_code == 404

    r = await c["admin"].get("/api/reportes/tablero/equipos", params={"fecha": "2026-11-01..2026-11-30"})
    equipos = {f["equipo_id"]: f for f in r.json()}
    assert equipos[escenario["norte"]]["enviados"] == 5 and equipos[escenario["norte"]]["agentes"] == 2
    assert equipos[escenario["sur"]]["enviados"] == 1
    r = await c["sup_norte"].get("/api/reportes/tablero/equipos", params={"fecha": "2026-11-01..2026-11-30"})
    assert [f["equipo_id"] for f in r.json()] == [escenario["norte"]]

    hoy = (await c["ana"].get("/api/reportes/tablero/hoy")).json()
    assert hoy["dia"] == "2026-11-23"
    assert hoy["totales"]["enviados"] == 3 and [f["agente_id"] for f in hoy["por_agente"]] == [ana]

    # A receipt arriving later moves the counters incrementally.
    async with nucleo.fabrica() as session:
        await session.execute(
            text("UPDATE mensajes_enviados SET estado = 'leido' WHERE id = :id"), {"id": escenario["filas"][1]}
        )
        await session.commit()
    hoy = (await c["ana"].get("/api/reportes/tablero/hoy")).json()
    assert hoy["totales"]["leidos"] == 2 and hoy["totales"]["entregados"] == 2


async def test_fechas_por_cuando_se_envio_como_los_tableros(nucleo: Any, cliente_como: Any) -> None:
    """A campaign queued Monday evening and sent over Tuesday and Wednesday is filed by send day."""
    admin = await cliente_como("admin")
    agente = await cliente_como("agente")
    aid = agente.usuario["agente_id"]
    lunes_noche = LUNES + timedelta(hours=10)  # Monday 19:00 in Mexico City
    martes, miercoles = LUNES + timedelta(days=1), LUNES + timedelta(days=2)
    async with nucleo.fabrica() as session:
        filas = []
        for i, enviado in enumerate([martes, martes + timedelta(minutes=1), miercoles]):
            fila = _mensaje(aid, lunes_noche, estado="pendiente", numero=f"+52551000000{i}")
            fila.estado, fila.enviado_at = "enviado", enviado
            filas.append(fila)
        # Never sent: filed by when it failed; still queued: by when it was created.
        filas.append(_mensaje(aid, lunes_noche, estado="pendiente", numero="+525510000009"))
        fallido = _mensaje(aid, lunes_noche, estado="pendiente", numero="+525510000008")
        fallido.estado, fallido.fallido_at = "fallido", miercoles
        filas.append(fallido)
        session.add_all(filas)
        await session.commit()

    async def reporte(fecha: str) -> list[dict[str, Any]]:
        r = await admin.get("/api/reportes/mensajes", params={"fecha": fecha, "agenteId": aid})
        assert r.status_code == 200, r.text
        return r.json()["items"]

    async def tablero(fecha: str) -> dict[str, Any]:
        r = await admin.get("/api/reportes/tablero/agentes", params={"fecha": fecha, "agenteId": aid})
        assert r.status_code == 200, r.text
        filas = r.json()
        return filas[0] if filas else {"enviados": 0, "fallidos": 0}

    assert [i["numero_destino"] for i in await reporte("2026-11-23")] == ["+525510000009"]
    assert len(await reporte("2026-11-24")) == 2
    miercoles_items = await reporte("2026-11-25")
    assert {i["numero_destino"] for i in miercoles_items} == {"+525510000002", "+525510000008"}
    assert all(i["fecha_reporte"].startswith("2026-11-25") for i in miercoles_items)
    rango = await admin.get("/api/reportes/mensajes", params={"desde": "2026-11-24", "hasta": "2026-11-25"})
    assert len(rango.json()["items"]) == 4
    # The dashboards count the same days as the report.
    assert (await tablero("2026-11-23"))["enviados"] == 0
    assert (await tablero("2026-11-24"))["enviados"] == 2
    assert ((await tablero("2026-11-25"))["enviados"], (await tablero("2026-11-25"))["fallidos"]) == (1, 1)
    exportado = await admin.get(
        "/api/reportes/mensajes/exportar", params={"formato": "csv", "fecha": "2026-11-24", "agenteId": aid}
    )
    assert len(list(csv.reader(io.StringIO(exportado.content.decode("utf-8-sig"))))) == 3  # header + 2


async def test_created_at_sale_del_reloj_inyectado(nucleo: Any, cliente_como: Any) -> None:
    """Rows stamped by the database's now() would sit days away from the simulated time line."""
    agente = await cliente_como("agente")
    async with nucleo.fabrica() as session:
        fila = MensajeEnviado(
            agente_id=agente.usuario["agente_id"],
            numero_destino="+525512340000",
            mensaje="Hola",
            wa_message_id="3EB0" + secrets.token_hex(9).upper(),
            estado="pendiente",
        )
        session.add(fila)
        await session.commit()
        assert fila.created_at == nucleo.reloj.ahora()


async def test_exportaciones_en_flujo_auditadas_y_neutralizadas(escenario: dict[str, Any], nucleo: Any) -> None:
    c = escenario["c"]
    r = await c["ana"].get("/api/reportes/mensajes/exportar", params={"formato": "csv", "fecha": "2026-11-23"})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"]
    filas = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert filas[0][:3] == ["Folio", "ID de agente", "Agente"]
    assert filas[0][7] == "Número destino"
    # Phones as plain text for a CRM import: "+52…", no apostrophe.
    assert all(f[7].startswith("+52") for f in filas[1:])
    assert len(filas) == 6  # header + Ana's five Monday rows
    mensajes = {f[8] for f in filas[1:]}
    assert '\'=HYPERLINK("http://x")' in mensajes
    assert all(f[1] == str(escenario["ana"]) for f in filas[1:])

    r = await c["sup_norte"].get("/api/reportes/mensajes/exportar", params={"formato": "xlsx"})
    assert r.status_code == 200, r.text
    hoja = load_workbook(io.BytesIO(r.content)).active
    valores = list(hoja.iter_rows(values_only=True))
    assert len(valores) == 8  # header + the team's 7 rows
    assert all(c.data_type != "f" for fila in hoja.iter_rows() for c in fila)

    async with nucleo.fabrica() as session:
        auditorias = (
            await session.scalars(
                select(Auditoria).where(Auditoria.accion == "reportes.exportar").order_by(Auditoria.id)
            )
        ).all()
    assert [a.detalle["formato"] for a in auditorias] == ["csv", "xlsx"]
    assert auditorias[0].usuario_id == c["ana"].usuario["id"]
    assert auditorias[0].detalle["filtros"] == {"fecha": "2026-11-23"}


async def test_snapshot_de_supervision(escenario: dict[str, Any]) -> None:
    c = escenario["c"]
    snap = (await c["sup_norte"].get("/api/supervision/snapshot")).json()
    assert {a["id"] for a in snap["agentes"]} == {escenario["ana"], escenario["beto"]}
    ana = next(a for a in snap["agentes"] if a["id"] == escenario["ana"])
    assert ana["sesion"]["estado"] == "conectada" and ana["hoy"]["enviados"] == 3
    assert [x["id"] for x in snap["campanas_activas"]] == [escenario["campana"]]
    assert snap["paradas"] == []  # Carla's stop is another team's
    assert snap["salas"] == [f"equipo:{escenario['norte']}"]
    assert snap["totales_hoy"]["enviados"] == 4

    snap = (await c["admin"].get("/api/supervision/snapshot")).json()
    assert len(snap["agentes"]) == 3 and [p["agente_id"] for p in snap["paradas"]] == [escenario["carla"]]
    assert snap["salas"] == ["supervision"]

    snap = (await c["carla"].get("/api/supervision/snapshot")).json()
    assert [a["id"] for a in snap["agentes"]] == [escenario["carla"]] and snap["campanas_activas"] == []


async def test_avisos_de_supervision(escenario: dict[str, Any]) -> None:
    c = escenario["c"]
    r = await c["sup_norte"].post("/api/supervision/avisos", json={"agenteId": escenario["ana"], "texto": "Hola"})
    assert r.status_code == 202 and r.json()["salas"] == [f"agente:{escenario['ana']}", "supervision"]
    r = await c["sup_norte"].post("/api/supervision/avisos", json={"agenteId": escenario["carla"], "texto": "x"})
    assert r.status_code == 404
    r = await c["ana"].post("/api/supervision/avisos", json={"agenteId": escenario["ana"], "texto": "x"})
    assert r.status_code == 403
    r = await c["admin"].post("/api/supervision/avisos", json={"texto": "x"})
    assert r.status_code == 422
