"""Benchmark: import a generated portfolio CSV and compare with a plain COPY of the same normalized rows.

    .venv/bin/python bench/importar.py [--filas 1000000] [--url postgresql://postgres@127.0.0.1:5432/postgres]

Creates a scratch database, generates a messy CSV (mixed phone formats, accents, ~1% bad rows, a few
duplicates), imports it into the pool through the real importer (parse → COPY staging → set-based SQL),
then COPYs the resulting normalized rows into an identical table (same indexes) and reports the ratio.
Last line: `bench importar: filas=N filas_s=X copy_razon=R rss_mb=M`.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import secrets
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from enlace.carteras.importador import DestinoImportacion, importar_archivo
from enlace.db.migrar import migrar

NOMBRES = ["José", "María", "Juan", "Guadalupe", "Francisco", "Ana", "Luis", "Rosa", "Jesús", "Verónica"]
APELLIDOS = ["Hernández", "García", "Martínez", "López", "González", "Pérez", "Rodríguez", "Sánchez", "Núñez"]
ESTADOS = ["CDMX", "Jalisco", "Nuevo León", "Sonora", "Quintana Roo", "Edo. Méx.", "Puebla", "Sinaloa", "Yucatán"]
LADAS = ["55", "33", "81", "222", "998", "662", "664", "669", "999", "442", "477", "614"]
TIPOS = ["Pensión", "Préstamo IMSS", "Nómina"]
MALOS = ["5.51234E+09", "123", "+1 212 555 1234", "", "8001234567", "abc"]


def generar_csv(ruta: Path, filas: int, semilla: int = 7) -> None:
    """A realistic messy file, written in blocks (never whole in memory)."""
    azar = random.Random(semilla)
    with ruta.open("w", encoding="utf-8", newline="") as f:
        f.write("Nombre,Celular,Monto,NSS,Estado,Tipo de crédito,Sucursal\n")
        bloque: list[str] = []
        anterior = "5512345678"
        for i in range(filas):
            lada = azar.choice(LADAS)
            numero = lada + str(azar.randrange(10 ** (10 - len(lada)))).zfill(10 - len(lada))
            r = azar.random()
            if r < 0.5:
                tel = numero
            elif r < 0.65:
                tel = f"{numero[:2]} {numero[2:6]} {numero[6:]}"
            elif r < 0.75:
                tel = "+52 1 " + numero
            elif r < 0.85:
                tel = "52" + numero
            elif r < 0.985:
                tel = f"({numero[:3]}) {numero[3:6]}-{numero[6:]}"
            elif r < 0.995:
                tel = azar.choice(MALOS)
            else:
                tel = anterior  # a duplicate inside the file
            anterior = numero
            nombre = f"{azar.choice(NOMBRES)} {azar.choice(APELLIDOS)} {azar.choice(APELLIDOS)}"
            bloque.append(
                f'"{nombre}",{tel},{azar.randrange(5000, 300000)}.00,{azar.randrange(10**10, 10**11)},'
                f"{azar.choice(ESTADOS)},{azar.choice(TIPOS)},S{i % 50}\n"
            )
            if len(bloque) >= 10_000:
                f.write("".join(bloque))
                bloque.clear()
        f.write("".join(bloque))


def rss_mb() -> float:
    # ru_maxrss is KiB on Linux: the peak of this process so far.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def url_con_base(url: str, nombre: str) -> str:
    base, _, consulta = url.partition("?")
    return base.rsplit("/", 1)[0] + "/" + nombre + ("?" + consulta if consulta else "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--filas", type=int, default=1_000_000)
    parser.add_argument(
        "--url", default=os.environ.get("ENLACE_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    )
    args = parser.parse_args()

    nombre_bd = f"enlace_bench_importar_{os.getpid()}_{secrets.token_hex(2)}"
    with psycopg.connect(args.url, autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{nombre_bd}"')
    url = url_con_base(args.url, nombre_bd)
    try:
        migrar(url)
        with tempfile.TemporaryDirectory() as tmp:
            archivo = Path(tmp) / "cartera.csv"
            t = time.perf_counter()
            generar_csv(archivo, args.filas)
            megas = archivo.stat().st_size / 1e6
            print(f"generado: {args.filas} filas, {megas:.1f} MB en {time.perf_counter() - t:.1f} s")

            ahora = datetime.now(UTC)
            destino = DestinoImportacion(
                agente_id=None,
                nombre_cartera="bench",
                fuente="pool",
                usuario_id=None,
                archivo=archivo.name,
                tamano_bytes=archivo.stat().st_size,
            )
            t = time.perf_counter()
            resultado = importar_archivo(url, archivo, destino, ahora=ahora)
            t_importar = time.perf_counter() - t
            rss_importar = rss_mb()
            print(
                f"importado: {resultado.filas} filas en {t_importar:.1f} s (lectura+COPY staging "
                f"{resultado.segundos_lectura:.1f} s, SQL {resultado.segundos_sql:.1f} s); {resultado.conteos}"
            )

            # The same rows, already normalized, through a plain COPY into an identical table.
            normalizado = Path(tmp) / "normalizado.tsv"
            with psycopg.connect(url, autocommit=True) as c, normalizado.open("wb") as f:
                with c.cursor().copy(
                    "COPY (SELECT cartera_id, agente_id, nombre, telefono, estado_mx, zona_horaria, datos_credito, "
                    "importacion_id, fila_origen FROM contactos ORDER BY id) TO STDOUT"
                ) as copia:
                    for bloque in copia:
                        f.write(bloque)
                # Baseline target: the real contactos table (same indexes, constraints and foreign keys), emptied.
                c.execute("TRUNCATE contactos CASCADE")
            with psycopg.connect(url) as c, normalizado.open("rb") as f:
                t = time.perf_counter()
                with c.cursor().copy(
                    "COPY contactos (cartera_id, agente_id, nombre, telefono, estado_mx, zona_horaria, "
                    "datos_credito, importacion_id, fila_origen) FROM STDIN"
                ) as copia:
                    while bloque := f.read(1 << 20):
                        copia.write(bloque)
                c.commit()
                t_copy = time.perf_counter() - t
            print(f"COPY de las mismas filas normalizadas: {t_copy:.1f} s")

        filas_s = resultado.filas / t_importar
        razon = t_importar / t_copy
        rss = max(rss_importar, rss_mb())
        print(f"importar: {filas_s:,.0f} filas/s, {razon:.2f}x el COPY, RSS pico {rss:.0f} MB")
        print(f"bench importar: filas={resultado.filas} filas_s={filas_s:.0f} copy_razon={razon:.2f} rss_mb={rss:.0f}")
    finally:
        with psycopg.connect(args.url, autocommit=True) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{nombre_bd}" WITH (FORCE)')


if __name__ == "__main__":
    main()
