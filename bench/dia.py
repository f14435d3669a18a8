"""A full working day on the virtual clock: every agent paced by the real `campanas.ritmo`, vs the original queue.

    .venv/bin/python bench/dia.py                 # 210 agents
    .venv/bin/python bench/dia.py --agentes 2000

Discrete-event simulation: each agent's dispatcher loop is modelled step by step as the real one
runs (peek the next due row, ask the policy when it may leave given its typing time, defer rows
whose recipient is outside 07:00–22:00 local, re-check right before sending, register the send).
Capacity is what the policy allows: per agent, the randomized daily cap, or less if the day's
randomized hourly caps don't add up to it. Violations are recounted from the send log by
`ritmo.auditar`. The original `ColaEnvioInteligente` is modelled as written in the reference
document: one loop for the whole center, typing + presence + `delayHumano` per message, hourly
counters that never reset, a 2–7 min sleep for everyone whenever one agent is over its limit.
"""

from __future__ import annotations

import argparse
import heapq
import random
import sys
import time
from collections import deque
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from enlace.campanas.ritmo import PERFIL_ORIGINAL, Ritmo, SinMomentoPermitido, auditar
from enlace.plantillas.render import elegir_variante, renderizar

CDMX = ZoneInfo("America/Mexico_City")
# Where recipients live (rough share of population by time zone).
ZONAS = [
    (ZoneInfo("America/Mexico_City"), 0.80),
    (ZoneInfo("America/Mazatlan"), 0.08),
    (ZoneInfo("America/Tijuana"), 0.05),
    (ZoneInfo("America/Cancun"), 0.07),
]
VARIANTES = [
    "Hola {nombre}, le contactamos respecto a su crédito IMSS por ${monto}. ¿Le interesa conocer más detalles?",
    "{saludo} {nombre}, tenemos una oferta de crédito disponible para usted por {monto} a través de IMSS.",
    "Estimado {nombre}, su perfil califica para un crédito de {monto}. ¿Podemos platicar?",
    "Hola {nombre} 👋 Le escribimos porque tiene disponible un crédito IMSS de {monto}.",
]
NOMBRES = ["María Guadalupe", "José Luis", "Juan", "Ana Karen", "Francisco Javier", "Rosa", "Miguel Ángel"]


def textos_muestra(rng: random.Random, momento: datetime) -> list[str]:
    textos = []
    for i in range(64):
        datos = {"nombre": rng.choice(NOMBRES), "monto": rng.randrange(5_000, 250_000, 500)}
        idx = elegir_variante(len(VARIANTES), "bench", i)
        textos.append(renderizar(VARIANTES, datos, variante=idx, momento=momento, zona=CDMX).texto)
    return textos


def simular_nuestro(agentes: int, contactos: int, inicio: datetime, fin: datetime, semilla: int) -> dict:
    rng = random.Random(semilla)
    textos = textos_muestra(rng, inicio)
    pesos = [p for _, p in ZONAS]
    zonas = [z for z, _ in ZONAS]
    ritmos: list[Ritmo] = []
    # Per agent: its pending rows as a heap (due time, id, zone index, text index) — the claim order.
    filas: list[list[tuple[datetime, int, int, int]]] = []
    for a in range(agentes):
        ritmos.append(Ritmo(PERFIL_ORIGINAL, f"{semilla}:{a}"))
        zs = rng.choices(range(len(zonas)), pesos, k=contactos)
        fila = [(inicio, i, zs[i], rng.randrange(len(textos))) for i in range(contactos)]
        heapq.heapify(fila)
        filas.append(fila)
    envios: list[list[datetime]] = [[] for _ in range(agentes)]
    destinos: list[list[ZoneInfo]] = [[] for _ in range(agentes)]
    diferidas = 0
    # Event queue: (moment, agent, kind, payload). kind 0 = plan, 1 = send.
    eventos: list[tuple[datetime, int, int, tuple]] = [(inicio, a, 0, ()) for a in range(agentes)]
    heapq.heapify(eventos)
    pasos = 0
    cpu0 = time.process_time()
    while eventos:
        ahora, a, tipo, carga = heapq.heappop(eventos)
        if ahora >= fin:
            break
        pasos += 1
        ritmo = ritmos[a]
        fila = filas[a]
        if tipo == 0:
            # Peek the next due row; ask the policy when it may leave, with and without the recipient's limits.
            while fila:
                due, fid, zi, ti = fila[0]
                if due > ahora:
                    heapq.heappush(eventos, (due, a, 0, ()))
                    break
                texto = textos[ti]
                escritura = ritmo.escritura(texto)
                libre = ritmo.siguiente_envio(ahora, escritura)
                try:
                    con_destino = ritmo.siguiente_envio(ahora, escritura, zonas[zi])
                except SinMomentoPermitido:
                    con_destino = fin
                if con_destino > libre:
                    # Recipient asleep: the compliance gate answers fuera_de_horario; defer and take another row.
                    heapq.heapreplace(fila, (con_destino - timedelta(seconds=escritura), fid, zi, ti))
                    diferidas += 1
                    continue
                heapq.heappop(fila)
                # Claim (mark enviando) at libre - escritura, type, send at `libre`.
                heapq.heappush(eventos, (libre, a, 1, (fid, zi, ti)))
                break
        else:
            fid, zi, ti = carga
            if ritmo.puede_enviar(ahora, zonas[zi]):
                ritmo.registrar_envio(ahora)
                envios[a].append(ahora)
                destinos[a].append(zonas[zi])
            else:
                heapq.heappush(fila, (ahora, fid, zi, ti))  # back to pendiente, never sent twice
            heapq.heappush(eventos, (ahora, a, 0, ()))
    cpu = time.process_time() - cpu0
    enviados = sum(len(e) for e in envios)
    dia = inicio.astimezone(CDMX).date()
    capacidad = sum(Ritmo(PERFIL_ORIGINAL, f"{semilla}:{a}").capacidad_dia(dia) for a in range(agentes))
    violaciones = 0
    detalle: dict[str, int] = {}
    for a in range(agentes):
        auditoria = auditar(envios[a], Ritmo(PERFIL_ORIGINAL, f"{semilla}:{a}"), destinos[a])
        violaciones += auditoria.total
        for v in auditoria.violaciones:
            detalle[v.regla] = detalle.get(v.regla, 0) + 1
    ultimo = max((e[-1] for e in envios if e), default=inicio)
    return {
        "enviados": enviados,
        "capacidad": capacidad,
        "violaciones": violaciones,
        "detalle": detalle,
        "cpu_s": cpu,
        "pasos": pasos,
        "diferidas": diferidas,
        "ultimo": ultimo.astimezone(CDMX),
    }


# ---- the original design, as written in the reference document ----------------------------------


def _en_horario_humano(local: datetime, rng: random.Random) -> bool:
    if local.hour < 8 or local.hour > 20:
        return False
    if local.isoweekday() == 7:
        return False
    if 13 <= local.hour <= 14:
        return rng.random() > 0.7
    return True


def simular_original(agentes: int, contactos: int, inicio: datetime, fin: datetime, semilla: int) -> dict:
    rng = random.Random(semilla)
    textos = textos_muestra(rng, inicio)
    # The queue interleaves agents round-robin (the kindest order for the single loop).
    cola: deque[int] = deque(a for _ in range(contactos) for a in range(agentes))
    contador = [0] * agentes
    t = inicio
    enviados = 0
    fuera_de_ventana = 0
    while cola and t < fin:
        local = t.astimezone(CDMX)
        if not _en_horario_humano(local, rng):
            t += timedelta(seconds=60)
            continue
        a = cola.popleft()
        limite = rng.randrange(30, 50)  # Math.floor(Math.random()*20)+30, drawn on every check
        if contador[a] >= limite:
            cola.append(a)
            t += timedelta(seconds=rng.uniform(120, 420))  # the whole center sleeps
            continue
        texto = textos[rng.randrange(len(textos))]
        palabras = len(texto.split(" "))
        t += timedelta(seconds=rng.uniform(1.0, 4.0) + palabras * rng.uniform(0.15, 0.35))  # composing
        t += timedelta(seconds=rng.uniform(0.5, 2.0))  # paused
        if t >= fin:
            break
        enviados += 1
        if t.astimezone(CDMX).hour >= 20:
            fuera_de_ventana += 1
        contador[a] += 1  # never reset
        base = rng.uniform(3.0, 15.0)
        t += timedelta(seconds=max(3.0, base + rng.uniform(-1.0, 1.0)))  # delayHumano
    return {"enviados": enviados, "fuera_de_ventana": fuera_de_ventana}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--agentes", type=int, default=210)
    parser.add_argument("--contactos", type=int, default=260, help="pending rows per agent (more than a day's cap)")
    parser.add_argument("--semilla", type=int, default=7)
    parser.add_argument("--dia", default="2026-11-23", help="a working day (YYYY-MM-DD)")
    args = parser.parse_args()

    dia = datetime.fromisoformat(args.dia).date()
    inicio = datetime(dia.year, dia.month, dia.day, 7, 0, tzinfo=CDMX).astimezone(UTC)
    fin = inicio + timedelta(hours=17)  # until midnight local

    print(f"Día {dia} ({dia.strftime('%A')}), {args.agentes} agentes, {args.contactos} contactos pendientes c/u")
    r = simular_nuestro(args.agentes, args.contactos, inicio, fin, args.semilla)
    uso = r["enviados"] / r["capacidad"] if r["capacidad"] else 0.0
    cpu_ms = 1000 * r["cpu_s"] / max(1, r["enviados"])
    print(f"  enviados: {r['enviados']:,}  capacidad de la política: {r['capacidad']:,}  uso: {uso:.2%}")
    print(f"  violaciones: {r['violaciones']} {r['detalle'] or ''}")
    print(f"  filas diferidas por horario del destinatario: {r['diferidas']:,}")
    print(f"  último envío del día: {r['ultimo']:%H:%M} (hora de CDMX)")
    print(f"  CPU del planificador: {r['cpu_s']:.2f} s, {cpu_ms:.3f} ms/mensaje, {r['pasos']:,} eventos")
    o = simular_original(args.agentes, args.contactos, inicio, fin, args.semilla)
    original_uso = o["enviados"] / r["capacidad"] if r["capacidad"] else 0.0
    print(
        f"  diseño original (ColaEnvioInteligente): {o['enviados']:,} enviados = {original_uso:.2%} de la capacidad; "
        f"{o['fuera_de_ventana']} después de las 20:00"
    )
    print(
        f"bench dia: agentes={args.agentes} enviados={r['enviados']} capacidad={r['capacidad']} "
        f"uso={uso:.4f} violaciones={r['violaciones']} cpu_ms_msg={cpu_ms:.3f} original_uso={original_uso:.4f}"
    )


if __name__ == "__main__":
    main()
