"""Report latency at scale: N `mensajes_enviados` rows (210 agents, one year) generated in SQL, then timed.

    .venv/bin/python bench/reportes.py                 # 20,000,000 rows (the issue's figure)
    .venv/bin/python bench/reportes.py --filas 2000000 # quicker

Builds a throwaway database (dropped at the end unless --conservar), loads the rows with
generate_series in chunks while the rollup triggers maintain `resumen_diario` incrementally (the
same triggers production uses), adds ~8% replies, then times through the real FastAPI app:

- the first page of `GET /api/reportes/mensajes?agenteId=&fecha=<month>` (p50/p99),
- `GET /api/reportes/mensajes?numero=` (p50/p99),
- one team's month dashboard `GET /api/reportes/tablero/agentes?equipoId=&fecha=<month>` (p50/p99),
- rows/s of a 100,000-row CSV export (the streamed export code path).

The secondary indexes no timed query uses (estado, campaign+estado, contact, the unique WhatsApp id)
are dropped for the load and not rebuilt, to keep the default run near ten minutes on two cores.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import httpx
import psycopg

AGENTES = 210
POR_EQUIPO = 15
LOTE = 1_000_000
LOTE_RESPUESTAS = 100_000
INICIO = datetime(2025, 11, 24, 14, 0, tzinfo=UTC)
DIAS = 365
NUMEROS_DISTINTOS = 5_000_000
# Indexes the timed queries do not use; rebuilding them would double the load time.
INDICES_OMITIDOS = (
    "ix_mensajes_enviados_estado_creado",
    "ix_mensajes_enviados_campana_estado",
    "ix_mensajes_enviados_contacto_id",
    "ix_mensajes_enviados_campana_creado",
    "uq_mensajes_enviados_agente_wa_message_id",
)

SQL_MENSAJES = """
INSERT INTO mensajes_enviados (campana_id, agente_id, origen, numero_origen, numero_destino, mensaje, tipo,
    wa_message_id, estado, enviado_at, entregado_at, leido_at, fallido_at, created_at)
SELECT
    CASE WHEN h %% 10 = 0 THEN NULL ELSE (a - 1) * 12 + mes + 1 END,
    a,
    CASE WHEN h %% 10 = 0 THEN 'telefono' ELSE 'campana' END,
    '+52550000' || lpad(a::text, 4, '0'),
    '+5255' || lpad(((g * 7919) %% %(numeros)s)::text, 8, '0'),
    'Hola, le escribimos de Financiera Enlace sobre su crédito IMSS. Folio ' || g,
    'texto',
    '3EB0' || lpad(upper(to_hex(g)), 18, '0'),
    estado,
    CASE WHEN estado IN ('enviado', 'entregado', 'leido') THEN t + interval '5 seconds' END,
    CASE WHEN estado IN ('entregado', 'leido') THEN t + interval '20 seconds' END,
    CASE WHEN estado = 'leido' THEN t + interval '300 seconds' END,
    CASE WHEN estado = 'fallido' THEN t + interval '5 seconds' END,
    t
FROM (
    SELECT g, 1 + (g %% %(agentes)s) AS a, (g * 2654435761) %% 1000 AS h,
           least(11, floor(g::float8 / %(total)s * 12))::int AS mes,
           %(inicio)s::timestamptz + (g::float8 / %(total)s) * %(dias)s * interval '1 day' AS t
    FROM generate_series(%(desde)s::bigint, %(hasta)s::bigint) g
) base,
LATERAL (SELECT CASE
    WHEN h < 600 THEN 'leido' WHEN h < 800 THEN 'entregado' WHEN h < 920 THEN 'enviado'
    WHEN h < 970 THEN 'fallido' WHEN h < 990 THEN 'cancelado' ELSE 'incierto' END AS estado) e
"""

SQL_RESPUESTAS = """
INSERT INTO mensajes_recibidos (agente_id, mensaje_origen_id, campana_id, numero_origen, numero_destino,
    wa_message_id, recibido_at, mensaje, tipo, clasificacion)
SELECT agente_id, id, campana_id, numero_destino, numero_origen, 'R' || id,
       enviado_at + ((id * 37) %% 7200 + 30) * interval '1 second', 'Sí, me interesa', 'texto',
       CASE WHEN id %% 53 = 0 THEN 'baja' END
FROM mensajes_enviados
WHERE id BETWEEN %(desde)s AND %(hasta)s AND estado = 'leido' AND id %% 7 = 0
"""


def percentil(valores: list[float], p: float) -> float:
    ordenados = sorted(valores)
    if not ordenados:
        return float("nan")
    k = (len(ordenados) - 1) * p
    i = int(k)
    j = min(i + 1, len(ordenados) - 1)
    return ordenados[i] + (ordenados[j] - ordenados[i]) * (k - i)


def cargar(url: str, filas: int) -> None:
    with psycopg.connect(url, autocommit=True) as c:
        c.execute("SET synchronous_commit = off")
        c.execute("SET maintenance_work_mem = '512MB'")
        c.execute("SET work_mem = '256MB'")
        equipos = (AGENTES + POR_EQUIPO - 1) // POR_EQUIPO
        c.execute("INSERT INTO equipos (id, nombre) SELECT e, 'Equipo ' || e FROM generate_series(1, %s) e", (equipos,))
        c.execute(
            "INSERT INTO agentes (id, nombre, equipo_id, activo) "
            "SELECT a, 'Agente ' || lpad(a::text, 3, '0'), 1 + (a - 1) / %s, true FROM generate_series(1, %s) a",
            (POR_EQUIPO, AGENTES),
        )
        c.execute(
            "INSERT INTO campanas (id, agente_id, nombre, estado, zona_horaria, canal, total_mensajes) "
            "SELECT (a - 1) * 12 + m + 1, a, 'Campaña ' || a || '-' || (m + 1), "
            "CASE WHEN m = 11 THEN 'activa' ELSE 'completada' END, 'America/Mexico_City', 'agente', 0 "
            "FROM generate_series(1, %s) a, generate_series(0, 11) m",
            (AGENTES,),
        )
        for tabla in ("equipos", "agentes", "campanas"):
            c.execute(f"SELECT setval(pg_get_serial_sequence('{tabla}', 'id'), (SELECT max(id) FROM {tabla}))")

        indices = c.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'mensajes_enviados' "
            "AND indexname NOT LIKE 'pk_%'"
        ).fetchall()
        for nombre, _ in indices:
            if nombre.startswith("uq_"):
                c.execute(f"ALTER TABLE mensajes_enviados DROP CONSTRAINT {nombre}")
            else:
                c.execute(f"DROP INDEX {nombre}")

        # Foreign-key checks off for the bulk load (the generated ids are valid by construction); the
        # rollup triggers stay on, so resumen_diario is maintained exactly as in production.
        for tabla in ("mensajes_enviados", "mensajes_recibidos"):
            c.execute(f"ALTER TABLE {tabla} DISABLE TRIGGER ALL")
            c.execute(f"ALTER TABLE {tabla} ENABLE TRIGGER USER")
        t0 = time.perf_counter()
        for desde in range(1, filas + 1, LOTE):
            hasta = min(filas, desde + LOTE - 1)
            c.execute(
                SQL_MENSAJES,
                {
                    "numeros": NUMEROS_DISTINTOS,
                    "agentes": AGENTES,
                    "total": filas,
                    "inicio": INICIO,
                    "dias": DIAS,
                    "desde": desde,
                    "hasta": hasta,
                },
            )
            print(f"  mensajes {hasta:>12,} ({time.perf_counter() - t0:6.1f} s)", flush=True)
        t1 = time.perf_counter()
        # Small statements, like capture's batches: the rollup trigger then looks each original message up
        # by primary key instead of hashing the whole table once per statement.
        for desde in range(1, filas + 1, LOTE_RESPUESTAS):
            c.execute(SQL_RESPUESTAS, {"desde": desde, "hasta": desde + LOTE_RESPUESTAS - 1})
        print(f"  respuestas ({time.perf_counter() - t1:6.1f} s)", flush=True)
        for tabla in ("mensajes_enviados", "mensajes_recibidos"):
            c.execute(f"ALTER TABLE {tabla} ENABLE TRIGGER ALL")

        t2 = time.perf_counter()
        for nombre, definicion in indices:
            if nombre in INDICES_OMITIDOS:
                continue
            c.execute(definicion)
        c.execute("VACUUM ANALYZE mensajes_enviados")
        c.execute("VACUUM ANALYZE mensajes_recibidos")
        c.execute("VACUUM ANALYZE resumen_diario")
        c.execute("VACUUM ANALYZE respuestas_contadas")
        print(f"  índices y ANALYZE ({time.perf_counter() - t2:6.1f} s)", flush=True)
        resumen = c.execute("SELECT sum(enviados) + sum(fallidos), count(*) FROM resumen_diario").fetchone()
        reales = c.execute(
            "SELECT count(*) FROM mensajes_enviados WHERE estado IN ('enviado','entregado','leido','fallido')"
        ).fetchone()
        assert resumen is not None and reales is not None
        print(f"  resumen_diario: {resumen[1]:,} filas; cuenta {resumen[0]:,} = recuento {reales[0]:,}")
        if resumen[0] != reales[0]:
            raise SystemExit("el resumen no coincide con los datos")


async def medir(url: str, filas: int, repeticiones: int, semilla: int) -> dict[str, float]:
    from enlace.api import create_app
    from enlace.auth.schemas import UsuarioCrear
    from enlace.auth.service import crear_usuario
    from enlace.comun.actor import Actor
    from enlace.nucleo import Nucleo
    from enlace.reportes import repository as repo
    from enlace.reportes.service import exportar
    from enlace.settings import Settings

    ajustes = Settings(_env_file=None, entorno="pruebas", database_url=url, motor="simulador")  # type: ignore[call-arg]
    nucleo = Nucleo(ajustes, url, con_componentes=False)
    await nucleo.iniciar()
    app = create_app(nucleo, iniciar_nucleo=False)
    async with nucleo.fabrica() as session:
        await crear_usuario(
            session, UsuarioCrear(usuario="bench", nombre="Bench", rol="admin", password="contraseña-bench-1")
        )
        await session.commit()
    rng = random.Random(semilla)
    cifras: dict[str, float] = {}
    transporte = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transporte, base_url="http://bench") as http:
        r = await http.post("/api/auth/login", json={"usuario": "bench", "password": "contraseña-bench-1"})
        r.raise_for_status()

        def mes_al_azar() -> str:
            inicio = (INICIO + timedelta(days=rng.randrange(0, DIAS - 31))).date()
            inicio = date(inicio.year, inicio.month, 1)
            fin = (date(inicio.year + (inicio.month == 12), inicio.month % 12 + 1, 1)) - timedelta(days=1)
            return f"{inicio}..{fin}"

        async def cronometrar(nombre: str, ruta: str, parametros: Any) -> list[float]:
            tiempos = []
            for i in range(repeticiones + 3):
                params = parametros()
                t = time.perf_counter()
                respuesta = await http.get(ruta, params=params)
                dt = (time.perf_counter() - t) * 1000
                respuesta.raise_for_status()
                if i >= 3:  # the first calls warm caches and prepared plans
                    tiempos.append(dt)
            print(f"{nombre:<34} p50 {percentil(tiempos, 0.5):7.1f} ms   p99 {percentil(tiempos, 0.99):7.1f} ms")
            return tiempos

        pagina = await cronometrar(
            "página agente + mes",
            "/api/reportes/mensajes",
            lambda: {"agenteId": rng.randint(1, AGENTES), "fecha": mes_al_azar()},
        )
        numero = await cronometrar(
            "por número",
            "/api/reportes/mensajes",
            lambda: {"numero": "+5255" + str((rng.randint(1, filas) * 7919) % NUMEROS_DISTINTOS).zfill(8)},
        )
        equipos = (AGENTES + POR_EQUIPO - 1) // POR_EQUIPO
        tablero = await cronometrar(
            "tablero de un equipo (mes)",
            "/api/reportes/tablero/agentes",
            lambda: {"equipoId": rng.randint(1, equipos), "fecha": mes_al_azar()},
        )
        respuesta = await http.get("/api/reportes/tablero/agentes", params={"equipoId": 1, "fecha": mes_al_azar()})
        print(f"  (el tablero devuelve {len(respuesta.json())} filas agente×día con mediana de respuesta)")
        cifras.update(
            pagina_p50=percentil(pagina, 0.5),
            pagina_p99=percentil(pagina, 0.99),
            numero_p50=percentil(numero, 0.5),
            numero_p99=percentil(numero, 0.99),
            tablero_p50=percentil(tablero, 0.5),
            tablero_p99=percentil(tablero, 0.99),
        )

    objetivo = min(100_000, filas)
    admin = Actor(usuario_id=0, rol="admin", nombre="bench")
    t = time.perf_counter()
    total_bytes = 0
    zona = ZoneInfo("America/Mexico_City")
    async for bloque in exportar(nucleo.fabrica, admin, repo.FiltroMensajes(), "csv", zona, maximo=objetivo):
        total_bytes += len(bloque)
    dt = time.perf_counter() - t
    cifras["export_filas_s"] = objetivo / dt
    megas = total_bytes / 1e6
    print(f"{'exportación CSV':<34} {objetivo:,} filas en {dt:.2f} s = {objetivo / dt:,.0f} filas/s ({megas:.1f} MB)")
    await nucleo.detener()
    return cifras


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--filas", type=int, default=20_000_000, help="filas de mensajes_enviados (20 millones)")
    parser.add_argument("--repeticiones", type=int, default=60, help="consultas medidas por tipo")
    parser.add_argument("--semilla", type=int, default=7)
    parser.add_argument("--conservar", action="store_true", help="no borrar la base al terminar")
    parser.add_argument(
        "--servidor",
        default=os.environ.get("ENLACE_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
    )
    args = parser.parse_args()

    from enlace.db.migrar import migrar

    nombre = f"enlace_bench_reportes_{os.getpid()}"
    base = args.servidor.rsplit("/", 1)[0]
    url = f"{base}/{nombre}"
    with psycopg.connect(args.servidor, autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{nombre}"')
    try:
        inicio = time.perf_counter()
        migrar(url)
        print(f"Generando {args.filas:,} mensajes de {AGENTES} agentes en {DIAS} días…", flush=True)
        cargar(url, args.filas)
        print(f"Carga completa en {time.perf_counter() - inicio:.0f} s", flush=True)
        cifras = asyncio.run(medir(url, args.filas, args.repeticiones, args.semilla))
    finally:
        if not args.conservar:
            with psycopg.connect(args.servidor, autocommit=True) as c:
                c.execute(f'DROP DATABASE IF EXISTS "{nombre}" WITH (FORCE)')
    print(
        f"objetivos: página p99 < 50 ms ({'ok' if cifras['pagina_p99'] < 50 else 'NO'}), "
        f"tablero < 200 ms ({'ok' if cifras['tablero_p99'] < 200 else 'NO'})"
    )
    print(
        f"bench reportes: filas={args.filas} pagina_p99_ms={cifras['pagina_p99']:.1f} "
        f"numero_p99_ms={cifras['numero_p99']:.1f} tablero_ms={cifras['tablero_p99']:.1f} "
        f"export_filas_s={cifras['export_filas_s']:.0f}"
    )


if __name__ == "__main__":
    main()
