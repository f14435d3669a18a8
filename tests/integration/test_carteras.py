"""Carteras on a real database: upload/import with its report, idempotency, ownership, pool, expiry, listings."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

import openpyxl
import pytest
from sqlalchemy import func, select, text

from enlace.carteras import service
from enlace.carteras.models import Cartera, Contacto, ImportacionCartera, ImportacionParte
from enlace.carteras.tasks import esperar_importaciones
from enlace.comun.actor import Actor

CABECERA = "Nombre,Teléfono,Monto,NSS,CURP,Estado,Sucursal\n"


def filas_csv(n: int, inicio: int = 0, lada: str = "55") -> str:
    return "".join(
        f"Persona {i},{lada}{i:08d},{1000 + i}.50,{10000000000 + i},,Jalisco,S{i % 3}\n"
        for i in range(inicio, inicio + n)
    )


async def subir(
    cliente: Any,
    contenido: bytes | str,
    nombre: str = "Cartera prueba",
    *,
    archivo: str = "c.csv",
    agente_id: int | None = None,
) -> Any:
    datos = contenido.encode() if isinstance(contenido, str) else contenido
    form: dict[str, Any] = {"nombre": nombre}
    if agente_id is not None:
        form["agenteId"] = str(agente_id)
    return await cliente.post("/api/cartera/subir", files={"archivo": (archivo, datos)}, data=form)


async def reporte(cliente: Any, importacion_id: int) -> list[dict[str, str]]:
    r = await cliente.get(f"/api/cartera/importaciones/{importacion_id}/reporte")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/csv")
    texto = r.content.decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(texto)))


async def contar(db: Any, sql: str, **params: Any) -> int:
    return int((await db.execute(text(sql), params)).scalar_one())


async def test_subir_csv_importa_y_reporta_cada_fila(cliente_como: Any, db: Any) -> None:
    agente = await cliente_como("agente")
    contenido = (
        CABECERA
        + 'José Núñez,55 1234 5678,"$1,500.00",12345678901,GODE561231HDFRRN09,CDMX,Centro\n'
        + "Ana,5.51234E+09,10,,,Jalisco,\n"
        + "Luis,+52 1 33 1234 5678,abc,,,Sonora,\n"
        + "Repetido,(55) 1234-5678,1,,,,\n"
        + "Extranjero,+1 212 555 1234,1,,,,\n"
        + "Sonora,662 123 4567,5,,,Sonora,Norte\n"
    )
    r = await subir(agente, contenido)
    assert r.status_code == 201, r.text
    imp = r.json()
    assert imp["estado"] == "completada" and imp["fuente"] == "csv_upload"
    assert imp["agente_id"] == agente.usuario["agente_id"]
    assert (imp["filas"], imp["aceptados"], imp["rechazados"], imp["duplicados"]) == (6, 2, 3, 1)

    contacto = (await db.execute(select(Contacto).where(Contacto.telefono == "+525512345678"))).scalar_one()
    assert contacto.agente_id == agente.usuario["agente_id"]
    assert contacto.cartera_id == imp["cartera_id"]
    assert contacto.nombre == "José Núñez"
    assert contacto.estado_mx == "Ciudad de México" and contacto.zona_horaria == "America/Mexico_City"
    assert contacto.datos_credito == {
        "sucursal": "Centro",
        "monto": "1500.00",
        "nss": "12345678901",
        "curp": "GODE561231HDFRRN09",
    }
    sonora = (await db.execute(select(Contacto).where(Contacto.telefono == "+526621234567"))).scalar_one()
    assert sonora.zona_horaria == "America/Hermosillo"
    cartera = await db.get(Cartera, imp["cartera_id"])
    assert cartera is not None and cartera.total_contactos == 2 and cartera.nombre == "Cartera prueba"

    filas = await reporte(agente, imp["id"])
    por_fila = {int(f["fila"]): f for f in filas}
    assert [int(f["fila"]) for f in filas] == [2, 3, 4, 5, 6, 7]
    assert por_fila[2]["resultado"] == "aceptado" and por_fila[2]["telefono"] == "+525512345678"
    assert por_fila[3]["resultado"] == "rechazado" and por_fila[3]["campo"] == "telefono"
    assert "notación científica" in por_fila[3]["motivo"]
    assert por_fila[4]["campo"] == "monto"
    assert por_fila[5]["resultado"] == "duplicado" and "fila 2" in por_fila[5]["motivo"]
    assert "no es un número de México" in por_fila[6]["motivo"]


async def test_misma_cartera_dos_veces_no_agrega_nada(cliente_como: Any, db: Any) -> None:
    agente = await cliente_como("agente")
    contenido = CABECERA + filas_csv(20)
    primera = (await subir(agente, contenido)).json()
    assert primera["aceptados"] == 20
    segunda = await subir(agente, contenido)
    assert segunda.status_code == 201
    datos = segunda.json()
    assert (datos["aceptados"], datos["existentes"], datos["cartera_id"]) == (0, 20, None)
    assert await contar(db, "SELECT count(*) FROM contactos") == 20
    assert await contar(db, "SELECT count(*) FROM carteras") == 1
    filas = await reporte(agente, datos["id"])
    assert {f["resultado"] for f in filas} == {"existente"}
    assert all("ya está en tu cartera" in f["motivo"] for f in filas)


async def test_contacto_de_otro_agente_no_se_entrega(cliente_como: Any, db: Any) -> None:
    uno = await cliente_como("agente")
    otro = await cliente_como("agente")
    await subir(uno, CABECERA + filas_csv(5))
    r = await subir(otro, CABECERA + filas_csv(8))
    datos = r.json()
    assert (datos["aceptados"], datos["otro_agente"]) == (3, 5)
    duenos = await db.execute(text("SELECT agente_id, count(*) FROM contactos GROUP BY agente_id ORDER BY 1"))
    assert sorted(tuple(f) for f in duenos) == sorted([(uno.usuario["agente_id"], 5), (otro.usuario["agente_id"], 3)])
    filas = await reporte(otro, datos["id"])
    ajenos = [f for f in filas if f["resultado"] == "otro_agente"]
    assert len(ajenos) == 5 and "otro agente" in ajenos[0]["motivo"]


async def test_suprimidos_no_se_importan(cliente_como: Any, db: Any) -> None:
    await db.execute(
        text(
            "INSERT INTO supresiones (telefono, motivo, fuente) VALUES ('+525500000001', 'x', 'repep'), "
            "('+525500000002', 'pidió baja', 'baja')"
        )
    )
    await db.commit()
    agente = await cliente_como("agente")
    datos = (await subir(agente, CABECERA + filas_csv(4))).json()
    assert (datos["aceptados"], datos["suprimidos"]) == (2, 2)
    motivos = {f["telefono"]: f["motivo"] for f in await reporte(agente, datos["id"]) if f["resultado"] == "suprimido"}
    assert "REPEP" in motivos["+525500000001"]
    assert "no ser contactada" in motivos["+525500000002"]


async def test_pool_del_admin_y_toma_por_carga(cliente_como: Any, db: Any) -> None:
    admin = await cliente_como("admin")
    r = await subir(admin, CABECERA + filas_csv(10), "Pool noviembre")
    datos = r.json()
    assert r.status_code == 201 and datos["fuente"] == "pool" and datos["agente_id"] is None
    assert await contar(db, "SELECT count(*) FROM contactos WHERE agente_id IS NULL") == 10
    # The same file again into the pool: nothing new.
    assert (await subir(admin, CABECERA + filas_csv(10))).json()["existentes"] == 10
    # An agent uploading numbers that sit free in the pool takes them.
    agente = await cliente_como("agente")
    propio = (await subir(agente, CABECERA + filas_csv(3))).json()
    assert propio["aceptados"] == 3
    assert await contar(db, "SELECT count(*) FROM contactos WHERE agente_id = :a", a=agente.usuario["agente_id"]) == 3
    tomados = [f for f in await reporte(agente, propio["id"]) if f["resultado"] == "aceptado"]
    assert len(tomados) == 3 and tomados[0]["motivo"] == "tomado del pool"


async def test_windows_1252_punto_y_coma_y_xlsx(cliente_como: Any, db: Any) -> None:
    agente = await cliente_como("agente")
    texto = "cliente;celular;entidad\nMaría Peña;55 1111 2222;Yucatán\n"
    r = await subir(agente, texto.encode("cp1252"))
    assert r.status_code == 201 and r.json()["aceptados"] == 1
    assert (await db.execute(select(Contacto.nombre).where(Contacto.telefono == "+525511112222"))).scalar_one() == (
        "María Peña"
    )
    libro = openpyxl.Workbook()
    hoja = libro.active
    hoja.append(["Nombre", "WhatsApp", "Importe"])
    hoja.append(["Pedro", 5522223333, 2500])
    hoja.append(["Fórmula", "=A1", 1])
    salida = io.BytesIO()
    libro.save(salida)
    r = await subir(agente, salida.getvalue(), archivo="cartera.xlsx")
    datos = r.json()
    assert r.status_code == 201 and datos["formato"] == "xlsx"
    assert (datos["aceptados"], datos["rechazados"]) == (1, 1)


@pytest.mark.parametrize(
    ("contenido", "fragmento"),
    [
        (b"", "vacío"),
        (b"nombre,monto\nAna,10\n", "columna de teléfono"),
        (b"\x00\x01\x02\x03\xff" * 300, "no parece un CSV"),
        (b"PK\x03\x04basura", "XLSX"),
        (b"telefono\n", "ninguna fila"),
    ],
)
async def test_archivo_invalido_da_422_y_no_importa_nada(
    cliente_como: Any, db: Any, contenido: bytes, fragmento: str
) -> None:
    agente = await cliente_como("agente")
    r = await subir(agente, contenido)
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert fragmento in error["mensaje"]
    assert await contar(db, "SELECT count(*) FROM contactos") == 0
    assert await contar(db, "SELECT count(*) FROM carteras") == 0
    if contenido:
        fallida = (await db.execute(select(ImportacionCartera))).scalar_one()
        assert fallida.estado == "fallida" and fragmento in (fallida.error or "")


async def test_archivo_grande_va_en_segundo_plano_con_progreso(
    cliente_como: Any, db: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(service, "UMBRAL_SEGUNDO_PLANO", 1000)
    monkeypatch.setattr(service, "TAMANO_PARTE", 4096)
    agente = await cliente_como("agente")
    r = await subir(agente, CABECERA + filas_csv(500))
    assert r.status_code == 202, r.text
    datos = r.json()
    assert datos["estado"] in ("pendiente", "procesando", "completada") and datos["en_segundo_plano"]
    await esperar_importaciones()
    progreso = (await agente.get(f"/api/cartera/importaciones/{datos['id']}")).json()
    assert progreso["estado"] == "completada" and progreso["progreso"] == 1
    assert progreso["aceptados"] == 500
    assert await contar(db, "SELECT count(*) FROM importacion_partes") == 0
    assert len(await reporte(agente, datos["id"])) == 500


async def test_trabajo_guardado_es_idempotente_y_falla_limpio(cliente_como: Any, db: Any, nucleo: Any) -> None:
    from enlace.carteras.lector import OpcionesLectura
    from enlace.db.sesion import url_libpq

    agente_id = (await cliente_como("agente")).usuario["agente_id"]
    for contenido in (b"nombre\nsin telefono\n", (CABECERA + filas_csv(3)).encode()):
        fila = ImportacionCartera(
            agente_id=agente_id,
            nombre_cartera="bg",
            fuente="csv_upload",
            archivo="x.csv",
            tamano_bytes=len(contenido),
            en_segundo_plano=True,
        )
        db.add(fila)
        await db.flush()
        db.add(ImportacionParte(importacion_id=fila.id, parte=0, datos=contenido))
        await db.commit()
        url = url_libpq(nucleo.database_url)
        ahora = nucleo.reloj.ahora()
        estado = service.procesar_importacion_guardada(url, fila.id, ahora=ahora, opciones=OpcionesLectura())
        otra_vez = service.procesar_importacion_guardada(url, fila.id, ahora=ahora, opciones=OpcionesLectura())
        assert otra_vez == estado
    assert await contar(db, "SELECT count(*) FROM contactos") == 3
    assert await contar(db, "SELECT count(*) FROM importacion_partes") == 0
    estados = (await db.execute(text("SELECT estado FROM importaciones_cartera ORDER BY id"))).scalars().all()
    assert estados == ["fallida", "completada"]


async def test_supervisor_sube_para_su_agente_y_no_para_otro(
    cliente_como: Any, equipo: Any, crear_usuario: Any
) -> None:
    propio = await equipo("Propio")
    ajeno = await equipo("Ajeno")
    supervisor = await cliente_como("supervisor", equipo_id=propio)
    mio = await crear_usuario("agente", equipo_id=propio)
    otro = await crear_usuario("agente", equipo_id=ajeno)
    r = await subir(supervisor, CABECERA + filas_csv(2), agente_id=mio["agente_id"])
    assert r.status_code == 201, r.text
    assert r.json()["agente_id"] == mio["agente_id"]
    assert (await subir(supervisor, CABECERA + filas_csv(2, 10), agente_id=otro["agente_id"])).status_code == 404
    assert (await subir(supervisor, CABECERA + filas_csv(2, 20))).status_code == 422


# ---- pool self-assignment -------------------------------------------------------------------------------------------


async def llenar_pool(db: Any, n: int, *, inicio: int = 0) -> None:
    await db.execute(
        text(
            "INSERT INTO contactos (telefono, nombre) "
            "SELECT '+52' || (5500000000 + g)::text, 'Pool ' || g "
            "FROM generate_series(CAST(:a AS integer), CAST(:b AS integer)) g"
        ),
        {"a": inicio, "b": inicio + n - 1},
    )
    await db.commit()


async def test_cincuenta_auto_asignaciones_concurrentes_no_repiten(nucleo: Any, db: Any, crear_usuario: Any) -> None:
    import asyncio

    await llenar_pool(db, 300)
    # Suppressed and opted-out contacts never leave the pool.
    await db.execute(text("INSERT INTO supresiones (telefono, motivo, fuente) VALUES ('+525500000000', 'x', 'baja')"))
    await db.execute(text("UPDATE contactos SET estado = 'baja' WHERE telefono = '+525500000001'"))
    await db.commit()
    agentes = [await crear_usuario("agente") for _ in range(10)]
    actores = [Actor(usuario_id=a["id"], rol="agente", agente_id=a["agente_id"]) for a in agentes]
    inicio = asyncio.Event()

    async def pedir(actor: Actor) -> int:
        async with nucleo.fabrica() as session:
            await inicio.wait()
            salida = await service.auto_asignar(session, actor, agente_id=None, cantidad=7, ahora=nucleo.reloj.ahora())
            await session.commit()
            return salida.asignados

    tareas = [asyncio.create_task(pedir(actores[i % 10])) for i in range(50)]
    await asyncio.sleep(0.05)
    inicio.set()
    asignados = await asyncio.gather(*tareas)
    assert sum(asignados) == 298  # 300 minus the suppressed and the opted-out one
    filas = (await db.execute(text("SELECT agente_id, cartera_id FROM contactos WHERE agente_id IS NOT NULL"))).all()
    assert len(filas) == 298
    # Each contact belongs to one agent, and to a cartera of that same agent.
    consistentes = await contar(
        db,
        "SELECT count(*) FROM contactos c JOIN carteras k ON k.id = c.cartera_id "
        "WHERE k.agente_id = c.agente_id AND k.fuente = 'auto_asignacion'",
    )
    assert consistentes == 298
    totales = await contar(db, "SELECT coalesce(sum(total_contactos), 0) FROM carteras")
    assert totales == 298
    assert await contar(db, "SELECT count(*) FROM contactos WHERE agente_id IS NULL") == 2


async def test_auto_asignar_por_http_y_pool_vacio(cliente_como: Any, db: Any) -> None:
    await llenar_pool(db, 5)
    agente = await cliente_como("agente")
    r = await agente.post("/api/cartera/auto-asignar", json={"agenteId": agente.usuario["agente_id"], "cantidad": 3})
    assert r.status_code == 200, r.text
    assert r.json()["asignados"] == 3 and r.json()["cartera_id"]
    r = await agente.post("/api/cartera/auto-asignar", json={"cantidad": 10})
    assert r.json()["asignados"] == 2 and "Solo había 2" in r.json()["mensaje"]
    r = await agente.post("/api/cartera/auto-asignar", json={"cantidad": 10})
    assert r.json()["asignados"] == 0 and r.json()["cartera_id"] is None
    assert await contar(db, "SELECT count(*) FROM carteras") == 2
    assert (await agente.post("/api/cartera/auto-asignar", json={"cantidad": 0})).status_code == 422


async def test_asignaciones_sin_actividad_vuelven_al_pool(nucleo: Any, db: Any, crear_usuario: Any, reloj: Any) -> None:
    await llenar_pool(db, 4)
    usuario = await crear_usuario("agente")
    actor = Actor(usuario_id=usuario["id"], rol="agente", agente_id=usuario["agente_id"])
    async with nucleo.fabrica() as session:
        salida = await service.auto_asignar(session, actor, agente_id=None, cantidad=4, ahora=reloj.ahora())
        await session.commit()
    assert salida.asignados == 4
    # One contact had activity recently: it stays with the agent.
    await reloj.avanzar(13 * 86400)
    await db.execute(
        text("UPDATE contactos SET ultima_actividad_at = :t WHERE telefono = '+525500000000'"), {"t": reloj.ahora()}
    )
    await db.commit()
    async with nucleo.fabrica() as session:
        assert await service.expirar_asignaciones(session, ahora=reloj.ahora(), dias=14) == 0
        await reloj.avanzar(2 * 86400)
        assert await service.expirar_asignaciones(session, ahora=reloj.ahora(), dias=14) == 3
        await session.commit()
    libres = await contar(db, "SELECT count(*) FROM contactos WHERE agente_id IS NULL AND cartera_id IS NULL")
    assert libres == 3


async def test_reasignar_supervisor_y_agente_no(cliente_como: Any, db: Any, crear_usuario: Any) -> None:
    admin = await cliente_como("admin")
    agente = await cliente_como("agente")
    otro = await crear_usuario("agente")
    datos = (await subir(agente, CABECERA + filas_csv(3))).json()
    ids = (await db.execute(text("SELECT id FROM contactos ORDER BY id"))).scalars().all()
    r = await agente.post("/api/cartera/reasignar", json={"contactoIds": ids, "agenteId": otro["agente_id"]})
    assert r.status_code == 403
    r = await admin.post("/api/cartera/reasignar", json={"contactoIds": ids[:2], "agenteId": otro["agente_id"]})
    assert r.status_code == 200, r.text
    assert r.json()["reasignados"] == 2
    assert await contar(db, "SELECT count(*) FROM contactos WHERE agente_id = :a", a=otro["agente_id"]) == 2
    r = await admin.post("/api/cartera/reasignar", json={"contactoIds": [ids[2]], "agenteId": None})
    assert r.json()["reasignados"] == 1
    assert await contar(db, "SELECT count(*) FROM contactos WHERE agente_id IS NULL") == 1
    r = await admin.post("/api/cartera/reasignar", json={"contactoIds": [999999], "agenteId": None})
    assert r.status_code == 404
    assert datos["aceptados"] == 3


async def test_listados_con_alcance_y_nss_enmascarado(cliente_como: Any, db: Any) -> None:
    agente = await cliente_como("agente")
    otro = await cliente_como("agente")
    admin = await cliente_como("admin")
    await subir(agente, CABECERA + filas_csv(3))
    await subir(otro, CABECERA + filas_csv(2, 100))
    await subir(admin, CABECERA + filas_csv(4, 200))  # pool

    propios = (await agente.get("/api/contactos")).json()
    assert propios["total"] == 3
    assert {c["agente_id"] for c in propios["items"]} == {agente.usuario["agente_id"]}
    nss = propios["items"][0]["datos_credito"]["nss"]
    assert nss.startswith("*******") and len(nss) == 11
    assert (await agente.get("/api/contactos", params={"pool": "true"})).json()["total"] == 0

    todos = (await admin.get("/api/contactos", params={"porPagina": 2})).json()
    assert todos["total"] == 9 and len(todos["items"]) == 2
    assert not todos["items"][0]["datos_credito"]["nss"].startswith("*")
    assert (await admin.get("/api/contactos", params={"pool": "true"})).json()["total"] == 4
    buscado = (await admin.get("/api/contactos", params={"q": "Persona 101"})).json()
    assert [c["nombre"] for c in buscado["items"]] == ["Persona 101"]

    carteras = (await agente.get("/api/carteras")).json()
    assert carteras["total"] == 1 and carteras["items"][0]["contactos_actuales"] == 3
    assert (await admin.get("/api/carteras")).json()["total"] == 3
    ajena = (await admin.get("/api/carteras", params={"agenteId": otro.usuario["agente_id"]})).json()["items"][0]
    assert (await agente.get(f"/api/carteras/{ajena['id']}")).status_code == 404
    contacto_ajeno = (await otro.get("/api/contactos")).json()["items"][0]["id"]
    assert (await agente.get(f"/api/contactos/{contacto_ajeno}")).status_code == 404
    importaciones = (await agente.get("/api/cartera/importaciones")).json()
    assert importaciones["total"] == 1
    assert (await db.execute(select(func.count()).select_from(ImportacionCartera))).scalar_one() == 3


async def test_reporte_neutraliza_formulas(cliente_como: Any) -> None:
    agente = await cliente_como("agente")
    datos = (await subir(agente, 'telefono,nombre\n=HYPERLINK("x"),a\n5512345678,b\n')).json()
    filas = await reporte(agente, datos["id"])
    assert filas[0]["telefono"].startswith("'=")
    assert filas[1]["telefono"] == "+525512345678"


async def test_reloj_en_fechas_de_asignacion(cliente_como: Any, db: Any, reloj: Any) -> None:
    await llenar_pool(db, 1)
    agente = await cliente_como("agente")
    await reloj.avanzar(3600)
    await agente.post("/api/cartera/auto-asignar", json={"cantidad": 1})
    asignado = (await db.execute(select(Contacto.asignado_at))).scalar_one()
    assert asignado == reloj.ahora()
    assert reloj.ahora() - asignado == timedelta(0)


async def test_cli_importar_cartera(crear_usuario: Any, db: Any, url_bd: str, tmp_path: Any) -> None:
    import asyncio
    import os
    import sys
    from pathlib import Path

    agente = await crear_usuario("agente")
    archivo = tmp_path / "cartera.csv"
    archivo.write_text(CABECERA + filas_csv(30) + "Mal,123,1,,,,\n", encoding="utf-8")
    enlace = Path(sys.executable).with_name("enlace")
    entorno = {**os.environ, "ENLACE_DATABASE_URL": url_bd, "ENLACE_ENTORNO": "pruebas"}
    proceso = await asyncio.create_subprocess_exec(
        str(enlace),
        "importar-cartera",
        str(archivo),
        "--agente",
        str(agente["agente_id"]),
        "--nombre",
        "Desde CLI",
        env=entorno,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    salida, error = await proceso.communicate()
    assert proceso.returncode == 0, error.decode()
    assert "aceptados 30, rechazados 1" in salida.decode()
    assert await contar(db, "SELECT count(*) FROM contactos WHERE agente_id = :a", a=agente["agente_id"]) == 30
    assert (await db.execute(text("SELECT nombre FROM carteras"))).scalar_one() == "Desde CLI"


async def test_trabajo_procrastinate_importa_archivo_grande(
    nucleo: Any, cliente_como: Any, db: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With this node's worker running, a large upload becomes a `carteras.importar` job that completes."""
    import asyncio

    from enlace.carteras import tasks
    from enlace.tareas import Tareas

    monkeypatch.setattr(service, "UMBRAL_SEGUNDO_PLANO", 100)
    componente = Tareas(nucleo.database_url, nodo_id="prueba")
    tasks.registrar(componente, nucleo)
    await componente.iniciar()
    nucleo.tareas = componente
    try:
        agente = await cliente_como("agente")
        r = await subir(agente, CABECERA + filas_csv(50))
        assert r.status_code == 202, r.text
        importacion_id = r.json()["id"]
        estado = ""
        for _ in range(300):  # the worker picks the job up on NOTIFY; bounded wait, not a timing assertion
            estado = (await agente.get(f"/api/cartera/importaciones/{importacion_id}")).json()["estado"]
            if estado in ("completada", "fallida"):
                break
            await asyncio.sleep(0.1)
        assert estado == "completada"
        trabajos = await contar(
            db, "SELECT count(*) FROM procrastinate_jobs WHERE task_name = 'carteras.importar' AND status = 'succeeded'"
        )
        assert trabajos == 1
        assert await contar(db, "SELECT count(*) FROM contactos") == 50
    finally:
        nucleo.tareas = None
        await componente.detener()


async def test_columna_extra_con_nombre_larguisimo_y_valor_enorme(cliente_como: Any) -> None:
    agente = await cliente_como("agente")
    columna = "Observaciones del asesor de cobranza " * 5
    contenido = f"telefono,{columna}\n5512345678,{'x' * 3000}\n5512345679,corta\n"
    r = await subir(agente, contenido)
    assert r.status_code == 201, r.text
    assert (r.json()["aceptados"], r.json()["rechazados"]) == (1, 1)
    rechazo = next(f for f in await reporte(agente, r.json()["id"]) if f["resultado"] == "rechazado")
    assert len(rechazo["campo"]) <= 80 and "3000 caracteres" in rechazo["motivo"]
