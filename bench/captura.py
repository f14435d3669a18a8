"""Capture throughput and event-to-commit latency, next to the original one-statement-per-event design.

Runs against a throwaway database on the local PostgreSQL (ENLACE_BENCH_DATABASE_URL, default
postgresql://postgres@127.0.0.1:5432/postgres is used to create and drop it).

Event mix per campaign message: the echo of the send, server ack, delivered, read, and a reply for
30% of them (the shape of a running campaign).

    .venv/bin/python bench/captura.py [--mensajes 6000] [--segundos 10] [--carga 1000] [--base 2000]

Last line: bench captura: eventos_s=X base_eventos_s=Y razon=X/Y p50_ms=A p99_ms=B
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import secrets
import statistics
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import structlog
from sqlalchemy import text

from enlace.captura.service import Captura
from enlace.db.migrar import migrar
from enlace.db.sesion import crear_fabrica, crear_motor_bd, esperar_post_commit
from enlace.motores.base import EstadoEntrega, EventoEstado, EventoMensaje, TipoContenido
from enlace.reloj import RelojReal
from enlace.settings import Settings

AGENTES = 20
SERVIDOR = os.environ.get("ENLACE_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def _url(nombre: str) -> str:
    base, _, consulta = SERVIDOR.partition("?")
    return base.rsplit("/", 1)[0] + "/" + nombre + ("?" + consulta if consulta else "")


def telefono(i: int) -> str:
    return f"+5233{i:08d}"


def jid(tel: str) -> str:
    return f"521{tel[3:]}@s.whatsapp.net"


async def preparar(fabrica: Any, n: int, desde: int) -> list[tuple[int, str, str]]:
    """n campaign messages already sent by the dispatcher (rows in `enviado`), each to its own contact."""
    mensajes = []
    async with fabrica() as s:
        for i in range(desde, desde + n):
            agente = 1 + i % AGENTES
            mensajes.append((agente, f"3EB0{i:018X}", telefono(i)))
        await s.execute(
            text(
                "INSERT INTO contactos (agente_id, nombre, telefono, estado)"
                " SELECT a, 'Persona', t, 'contactado' FROM unnest(CAST(:a AS int[]), CAST(:t AS text[])) AS v(a, t)"
            ),
            {"a": [m[0] for m in mensajes], "t": [m[2] for m in mensajes]},
        )
        ahora = datetime.now(UTC)
        await s.execute(
            text(
                "INSERT INTO mensajes_enviados (campana_id, agente_id, contacto_id, origen, numero_destino, mensaje,"
                " wa_message_id, estado, enviado_at)"
                " SELECT v.a, v.a, c.id, 'campana', v.t, 'Hola, le escribimos de Financiera', v.w, 'enviado', :ahora"
                " FROM unnest(CAST(:a AS int[]), CAST(:w AS text[]), CAST(:t AS text[])) AS v(a, w, t)"
                " JOIN contactos c ON c.telefono = v.t"
            ),
            {
                "a": [m[0] for m in mensajes],
                "w": [m[1] for m in mensajes],
                "t": [m[2] for m in mensajes],
                "ahora": ahora,
            },
        )
        await s.commit()
    return mensajes


def eventos_de(mensajes: list[tuple[int, str, str]], semilla: int) -> list[Any]:
    """Events in a realistic interleaving: each message's events in order, messages overlapping."""
    import random

    rnd = random.Random(semilla)
    t0 = datetime.now(UTC)
    por_mensaje: list[list[Any]] = []
    for k, (agente, wa, tel) in enumerate(mensajes):
        m = t0 + timedelta(seconds=k)
        evs: list[Any] = [
            EventoMensaje(agente, wa, True, jid(tel), None, m, TipoContenido.texto, "Hola, le escribimos"),
            EventoEstado(agente, wa, EstadoEntrega.enviado, m + timedelta(seconds=1)),
            EventoEstado(agente, wa, EstadoEntrega.entregado, m + timedelta(seconds=3)),
            EventoEstado(agente, wa, EstadoEntrega.leido, m + timedelta(seconds=30)),
        ]
        if rnd.random() < 0.3:
            evs.append(
                EventoMensaje(
                    agente,
                    f"R{wa}",
                    False,
                    jid(tel),
                    None,
                    m + timedelta(seconds=60),
                    TipoContenido.texto,
                    "Me interesa, ¿qué requisitos piden?",
                )
            )
        por_mensaje.append(evs)
    # Interleave: a sliding window of ~50 messages in flight at once.
    salida: list[Any] = []
    activos: list[list[Any]] = []
    pendientes = list(reversed(por_mensaje))
    while pendientes or activos:
        while pendientes and len(activos) < 50:
            activos.append(pendientes.pop())
        i = rnd.randrange(len(activos))
        salida.append(activos[i].pop(0))
        if not activos[i]:
            activos.pop(i)
    return salida


async def base_original(fabrica: Any, eventos: list[Any]) -> float:
    """The original InterceptorService: one statement and one commit per event, sequentially."""
    inicio = time.perf_counter()
    for ev in eventos:
        async with fabrica() as s:
            if isinstance(ev, EventoMensaje) and ev.de_mi:
                await s.execute(
                    text(
                        "INSERT INTO mensajes_enviados (agente_id, numero_destino, mensaje, wa_message_id, estado,"
                        " enviado_at) VALUES (:a, :n, :m, :w, 'enviado', now())"
                        " ON CONFLICT (agente_id, wa_message_id) DO NOTHING"
                    ),
                    {"a": ev.agente_id, "n": ev.chat_jid.split("@")[0], "m": ev.texto, "w": ev.wa_message_id},
                )
            elif isinstance(ev, EventoMensaje):
                await s.execute(
                    text(
                        "INSERT INTO mensajes_recibidos (agente_id, numero_origen, mensaje, wa_message_id,"
                        " recibido_at) VALUES (:a, :n, :m, :w, now())"
                    ),
                    {"a": ev.agente_id, "n": ev.chat_jid.split("@")[0], "m": ev.texto, "w": ev.wa_message_id},
                )
            else:
                columna = "leido_at" if ev.estado == EstadoEntrega.leido else "entregado_at"
                await s.execute(
                    text(
                        f"UPDATE mensajes_enviados SET estado = :e, {columna} = now()"
                        " WHERE agente_id = :a AND wa_message_id = :w"
                    ),
                    {"e": str(ev.estado), "a": ev.agente_id, "w": ev.wa_message_id},
                )
            await s.commit()
    return len(eventos) / (time.perf_counter() - inicio)


async def rendimiento(captura: Captura, eventos: list[Any]) -> float:
    """Closed loop: everything offered at once; events/s until the last one is committed."""
    inicio = time.perf_counter()
    for ev in eventos:
        await captura.recibir(ev)
    await captura.vaciar()
    return len(eventos) / (time.perf_counter() - inicio)


async def latencia(captura: Captura, eventos: list[Any], carga: int) -> None:
    """Open loop at a fixed offered load: events enter on schedule whatever the database does."""
    tick = 0.01
    por_tick = max(1, round(carga * tick))
    inicio = time.perf_counter()
    for n in range(0, len(eventos), por_tick):
        objetivo = inicio + (n // por_tick) * tick
        espera = objetivo - time.perf_counter()
        if espera > 0:
            await asyncio.sleep(espera)
        for ev in eventos[n : n + por_tick]:
            await captura.recibir(ev)
    await captura.vaciar()


def percentil(valores: list[float], p: float) -> float:
    ordenados = sorted(valores)
    return ordenados[min(len(ordenados) - 1, int(p * len(ordenados)))]


async def principal(args: argparse.Namespace) -> None:
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    nombre = f"enlace_bench_captura_{os.getpid()}_{secrets.token_hex(2)}"
    with psycopg.connect(SERVIDOR, autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{nombre}"')
    url = _url(nombre)
    try:
        await asyncio.to_thread(migrar, url)
        motor = crear_motor_bd(url)
        fabrica = crear_fabrica(motor)
        async with fabrica() as s:
            await s.execute(
                text(
                    "INSERT INTO agentes (id, nombre, numero_wa)"
                    " SELECT g, 'Agente ' || g, '+5255' || lpad(g::text, 8, '0') FROM generate_series(1, :n) g"
                ),
                {"n": AGENTES},
            )
            await s.execute(
                text(
                    "INSERT INTO campanas (id, agente_id, nombre, estado, zona_horaria)"
                    " SELECT g, g, 'Campaña ' || g, 'activa', 'America/Mexico_City' FROM generate_series(1, :n) g"
                ),
                {"n": AGENTES},
            )
            await s.commit()
        ajustes = Settings(_env_file=None, entorno="pruebas", database_url=url)  # type: ignore[call-arg]

        n_base = max(1, args.base // 4)
        base_evs = eventos_de(await preparar(fabrica, n_base, 0), 1)[: args.base]
        base_s = await base_original(fabrica, base_evs)
        print(f"base (una sentencia y un commit por evento): {len(base_evs)} eventos, {base_s:,.0f} eventos/s")

        lat: list[float] = []
        captura = Captura(fabrica, RelojReal(), ajustes, al_procesar=lat.extend, particiones=args.particiones)
        await captura.iniciar()
        try:
            evs = eventos_de(await preparar(fabrica, args.mensajes, 10_000_000), 2)
            n_lat = args.carga * args.segundos
            evs_lat = eventos_de(await preparar(fabrica, n_lat // 4 + 1, 20_000_000), 3)[:n_lat]
            async with fabrica() as s:
                await s.execute(text("ANALYZE"))
                await s.commit()
            # A short warm-up (connections, prepared statements), not measured.
            await rendimiento(captura, evs[:500])
            evs = evs[500:]
            est = captura.consumidor.estadisticas
            # Fixed offered load first, so the burst below (and the vacuum it triggers) does not disturb it.
            lat.clear()
            lotes_antes = est.lotes
            await latencia(captura, evs_lat, args.carga)
            p50 = statistics.median(lat) * 1000
            p99 = percentil(lat, 0.99) * 1000
            print(
                f"latencia evento→commit a {args.carga} eventos/s durante {args.segundos} s: "
                f"p50={p50:.1f} ms p99={p99:.1f} ms max={max(lat) * 1000:.1f} ms "
                f"lotes={est.lotes - lotes_antes} perdidos={est.items_perdidos}"
            )
            lotes_antes = est.lotes
            eventos_s = await rendimiento(captura, evs)
            print(
                f"captura a carga máxima: {len(evs)} eventos, {eventos_s:,.0f} eventos/s, "
                f"lotes={est.lotes - lotes_antes} mayor_lote={est.mayor_lote}"
            )
        finally:
            await captura.detener()
            await esperar_post_commit()
        async with fabrica() as s:
            filas = (await s.execute(text("SELECT count(*) FROM mensajes_recibidos"))).scalar_one()
            print(f"filas mensajes_recibidos={filas}")
        await motor.dispose()
        razon = eventos_s / base_s
        print(
            f"bench captura: eventos_s={eventos_s:.0f} base_eventos_s={base_s:.0f} razon={razon:.1f} "
            f"p50_ms={p50:.1f} p99_ms={p99:.1f}"
        )
    finally:
        with psycopg.connect(SERVIDOR, autocommit=True) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{nombre}" WITH (FORCE)')


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--mensajes", type=int, default=6000, help="campaign messages for the throughput run")
    p.add_argument("--segundos", type=int, default=10, help="seconds of the fixed-load latency run")
    p.add_argument("--carga", type=int, default=1000, help="offered load (events/s) of the latency run")
    p.add_argument("--base", type=int, default=2000, help="events for the one-statement-per-event baseline")
    p.add_argument("--particiones", type=int, default=1, help="capture workers (events partitioned by agent)")
    asyncio.run(principal(p.parse_args()))


if __name__ == "__main__":
    main()
