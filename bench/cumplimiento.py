"""Compliance cost per message: the opt-out classifier, the gate per claim, and many agents racing on one number.

Runs against a throwaway database on the local PostgreSQL (ENLACE_BENCH_DATABASE_URL, default
postgresql://postgres@127.0.0.1:5432/postgres is used to create and drop it).

    .venv/bin/python bench/cumplimiento.py [--respuestas 50000] [--revisiones 3000] [--concurrencia 8] [--agentes 50]

Last line: bench cumplimiento: clasificador_us=X puerta_p50_ms=A puerta_p99_ms=B revisiones_s=R
           carrera_reclamos=N carrera_pasaron=P (one line)
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import secrets
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import structlog
from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.unit.test_bajas import CASOS

from enlace.cumplimiento.bajas import REGLAS, _clasificar
from enlace.cumplimiento.puerta import revisar_envio
from enlace.db.migrar import migrar
from enlace.db.sesion import crear_fabrica, crear_motor_bd

SERVIDOR = os.environ.get("ENLACE_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
AHORA = datetime(2026, 11, 23, 16, 0, tzinfo=UTC)  # 10:00 in Mexico City


def _url(nombre: str) -> str:
    base, _, consulta = SERVIDOR.partition("?")
    return base.rsplit("/", 1)[0] + "/" + nombre + ("?" + consulta if consulta else "")


def medir_clasificador(n: int) -> float:
    """Uncached cost (clasificar() also caches short repeated replies, which this would only flatter)."""
    textos = [t for t, _, _ in CASOS if t.strip()]
    inicio = time.perf_counter()
    for i in range(n):
        _clasificar(textos[i % len(textos)], REGLAS)
    return (time.perf_counter() - inicio) / n * 1e6


async def preparar(fabrica: Any, contactos: int, agentes: int) -> None:
    async with fabrica() as s:
        await s.execute(
            text("INSERT INTO agentes (nombre) SELECT 'Agente ' || g FROM generate_series(1, :n) g"), {"n": agentes}
        )
        await s.execute(
            text(
                "INSERT INTO contactos (telefono, nombre, agente_id) "
                "SELECT '+5233' || lpad(g::text, 8, '0'), 'C' || g, 1 + g % :a FROM generate_series(1, :n) g"
            ),
            {"n": contactos, "a": agentes},
        )
        # Some history for the frequency window, and a suppression list of realistic size.
        await s.execute(
            text(
                "INSERT INTO mensajes_enviados (agente_id, contacto_id, numero_destino, wa_message_id, estado,"
                " origen, intentado_at) SELECT 1 + g % :a, g, '+5233' || lpad(g::text, 8, '0'),"
                " '3EB0' || lpad(to_hex(g), 18, '0'), 'entregado', 'campana', :t - interval '10 days'"
                " FROM generate_series(1, :n) g"
            ),
            {"n": contactos, "a": agentes, "t": AHORA},
        )
        await s.execute(
            text(
                "INSERT INTO supresiones (telefono, motivo, fuente) "
                "SELECT '+5299' || lpad(g::text, 8, '0'), 'REPEP', 'repep' FROM generate_series(1, 100000) g"
            )
        )
        await s.commit()


async def medir_puerta(fabrica: Any, revisiones: int, concurrencia: int, contactos: int, agentes: int) -> list[float]:
    tiempos: list[float] = []
    siguiente = iter(range(revisiones))

    async def trabajador() -> None:
        for i in siguiente:
            g = 1 + (i * 7919) % contactos
            inicio = time.perf_counter()
            async with fabrica() as s:
                await revisar_envio(
                    s,
                    agente_id=1 + g % agentes,
                    contacto_id=g,
                    telefono=f"+5233{g:08d}",
                    campana_id=None,
                    zona_horaria="America/Mexico_City",
                    estado_mx=None,
                    ahora=AHORA,
                    es_campana=True,
                )
                await s.commit()
            tiempos.append((time.perf_counter() - inicio) * 1000)

    await asyncio.gather(*(trabajador() for _ in range(concurrencia)))
    return tiempos


async def carrera(fabrica: Any, agentes: int) -> int:
    """`agentes` simultaneous claims for the same new person: how many pass the 1-per-7-days cap."""
    tel = "+5255" + "".join(secrets.choice("0123456789") for _ in range(8))
    async with fabrica() as s:
        contacto_id = await s.scalar(
            text("INSERT INTO contactos (telefono, nombre, agente_id) VALUES (:t, 'Persona', 1) RETURNING id"),
            {"t": tel},
        )
        await s.commit()
    pasaron = 0

    async def reclamar(agente_id: int) -> None:
        nonlocal pasaron
        async with fabrica() as s:
            # One row per campaign of the person's agent, all claimed at once: only the phone lock orders them.
            fila_id = await s.scalar(
                text(
                    "INSERT INTO mensajes_enviados (agente_id, contacto_id, numero_destino, wa_message_id, estado)"
                    " VALUES (:a, :c, :t, :w, 'pendiente') RETURNING id"
                ),
                {"a": agente_id, "c": contacto_id, "t": tel, "w": "3EB0" + secrets.token_hex(9).upper()},
            )
            bloqueo = await revisar_envio(
                s,
                agente_id=agente_id,
                contacto_id=contacto_id,
                telefono=tel,
                campana_id=None,
                zona_horaria="America/Mexico_City",
                estado_mx=None,
                ahora=AHORA,
                es_campana=True,
                mensaje_id=fila_id,
            )
            if bloqueo is None:
                await s.execute(
                    text("UPDATE mensajes_enviados SET estado = 'enviando', intentado_at = :t WHERE id = :id"),
                    {"t": AHORA, "id": fila_id},
                )
                pasaron += 1
            await s.commit()

    await asyncio.gather(*(reclamar(1) for _ in range(agentes)))
    return pasaron


async def principal(args: argparse.Namespace) -> None:
    logging.disable(logging.CRITICAL)
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.CRITICAL))
    us = medir_clasificador(args.respuestas)
    print(f"clasificador: {us:.1f} µs por respuesta ({args.respuestas} respuestas)")

    nombre = f"enlace_bench_cump_{secrets.token_hex(3)}"
    with psycopg.connect(SERVIDOR, autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{nombre}"')
    motor = None
    try:
        url = _url(nombre)
        migrar(url)
        motor = crear_motor_bd(url, pool_size=args.concurrencia + 2, max_overflow=args.agentes)
        fabrica = crear_fabrica(motor)
        await preparar(fabrica, args.contactos, args.agentes)
        inicio = time.perf_counter()
        tiempos = await medir_puerta(fabrica, args.revisiones, args.concurrencia, args.contactos, args.agentes)
        total = time.perf_counter() - inicio
        tiempos.sort()
        p50 = statistics.median(tiempos)
        p99 = tiempos[int(len(tiempos) * 0.99) - 1]
        print(
            f"puerta: {args.revisiones} revisiones, concurrencia {args.concurrencia}: "
            f"p50 {p50:.2f} ms, p99 {p99:.2f} ms, {args.revisiones / total:.0f} revisiones/s"
        )
        pasaron = await carrera(fabrica, args.agentes)
        print(f"carrera: {args.agentes} reclamos simultáneos a la misma persona → pasaron {pasaron} (tope 1)")
        print(
            f"bench cumplimiento: clasificador_us={us:.1f} puerta_p50_ms={p50:.2f} puerta_p99_ms={p99:.2f} "
            f"revisiones_s={args.revisiones / total:.0f} carrera_reclamos={args.agentes} carrera_pasaron={pasaron}"
        )
    finally:
        if motor is not None:
            await motor.dispose()
        with psycopg.connect(SERVIDOR, autocommit=True) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{nombre}" WITH (FORCE)')


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--respuestas", type=int, default=50_000)
    p.add_argument("--revisiones", type=int, default=3_000)
    p.add_argument("--concurrencia", type=int, default=8)
    p.add_argument("--contactos", type=int, default=20_000)
    p.add_argument("--agentes", type=int, default=50)
    asyncio.run(principal(p.parse_args()))


if __name__ == "__main__":
    main()
