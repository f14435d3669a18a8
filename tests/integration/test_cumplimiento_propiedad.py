"""Property: whatever the interleaving of agents, campaigns and an opt-out, nothing leaves after the opt-out commits."""

from __future__ import annotations

import asyncio
import itertools
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from enlace.agentes.models import Agente
from enlace.campanas.models import Campana
from enlace.carteras.models import Contacto
from enlace.cumplimiento import service
from enlace.cumplimiento.puerta import revisar_envio, revisar_suprimido
from enlace.mensajes.models import MensajeEnviado, MensajeRecibido

AHORA = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)  # 09:00 in Mexico City


def _tel() -> str:
    return "+5281" + "".join(secrets.choice("0123456789") for _ in range(8))


@dataclass
class Bitacora:
    """What left, in one global order shared with the opt-out's commit."""

    orden: itertools.count[int] = field(default_factory=itertools.count)
    envios: list[tuple[int, str, int, str]] = field(default_factory=list)  # (orden, telefono, id, origen)
    baja_confirmada: int | None = None


async def _despachar(fabrica: Any, agente_id: int, destino: str, pausas: list[int], bitacora: Bitacora) -> None:
    """The dispatcher's protocol: claim + gate in one transaction; pre-send check held across the send."""
    for pausa in itertools.cycle(pausas or [0]):
        async with fabrica() as s:
            fila = await s.scalar(
                select(MensajeEnviado)
                .where(MensajeEnviado.agente_id == agente_id, MensajeEnviado.estado == "pendiente")
                .order_by(MensajeEnviado.id)
                .limit(1)
                .with_for_update(skip_locked=True)
            )
            if fila is None:
                return
            bloqueo = await revisar_envio(
                s,
                agente_id=agente_id,
                contacto_id=fila.contacto_id,
                telefono=fila.numero_destino or "",
                campana_id=fila.campana_id,
                zona_horaria="America/Mexico_City",
                estado_mx=None,
                ahora=AHORA,
                es_campana=fila.origen == "campana",
                mensaje_id=fila.id,
            )
            if bloqueo is not None:
                fila.estado = "suprimido" if bloqueo.codigo == "suprimido" else "cancelado"
                await s.commit()
                continue
            fila.estado, fila.intentado_at = "enviando", AHORA
            mensaje_id, telefono, origen = fila.id, fila.numero_destino or "", fila.origen
            await s.commit()
        # The typing delay (a few real milliseconds): the window in which an opt-out may commit.
        await asyncio.sleep(pausa * 0.002)
        async with fabrica() as s:
            if await revisar_suprimido(s, telefono=telefono, mensaje_id=mensaje_id) is not None:
                fila = await s.get(MensajeEnviado, mensaje_id)
                assert fila is not None
                fila.estado = "suprimido"
                await s.commit()
                continue
            # engine.send, recorded while the phone's lock is held.
            bitacora.envios.append((next(bitacora.orden), telefono, mensaje_id, origen))
            await asyncio.sleep(0.001 * (pausa % 3))
            # Release the lock before any write (the report triggers lock rows an opt-out may hold).
            await s.commit()
            fila = await s.get(MensajeEnviado, mensaje_id)
            assert fila is not None
            fila.estado, fila.enviado_at = "enviado", AHORA
            await s.commit()
    del destino


async def _baja(fabrica: Any, agente_id: int, telefono: str, espera: int, bitacora: Bitacora) -> None:
    await asyncio.sleep(espera * 0.001)
    async with fabrica() as s:
        recibido = MensajeRecibido(
            agente_id=agente_id,
            numero_origen=telefono,
            mensaje="YA NO ME MANDEN MENSAJES",
            wa_message_id="3EB0" + secrets.token_hex(9).upper(),
            recibido_at=AHORA,
        )
        s.add(recibido)
        await s.flush()
        resultado = await service.evaluar_respuesta(
            s,
            mensaje_recibido_id=recibido.id,
            telefono=telefono,
            texto=recibido.mensaje,
            contacto_id=None,
            agente_id=agente_id,
            ahora=AHORA,
        )
        assert resultado.clase == "baja"
        await s.commit()
    bitacora.baja_confirmada = next(bitacora.orden)


plan_agente = st.fixed_dictionaries(
    {
        # Each message: (to the person who opts out?, origin).
        "mensajes": st.lists(
            st.tuples(st.booleans(), st.sampled_from(["campana", "respuesta", "telefono"])), min_size=1, max_size=4
        ),
        "pausas": st.lists(st.integers(min_value=0, max_value=30), min_size=1, max_size=4),
    }
)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    agentes=st.lists(plan_agente, min_size=2, max_size=4),
    espera_baja=st.integers(min_value=0, max_value=80),
    quien_recibe=st.integers(min_value=0, max_value=3),
)
async def test_nada_sale_hacia_el_numero_despues_de_la_baja(
    nucleo: Any, agentes: list[dict[str, Any]], espera_baja: int, quien_recibe: int
) -> None:
    fabrica = nucleo.fabrica
    persona, otro = _tel(), _tel()
    async with fabrica() as s:
        filas = [Agente(nombre=f"Agente {i}") for i in range(len(agentes))]
        s.add_all(filas)
        await s.flush()
        ids = [a.id for a in filas]
        # The person's contact belongs to the first agent; the others' campaign rows hit 'no_asignado'.
        contacto = Contacto(telefono=persona, agente_id=ids[0], nombre="Persona")
        s.add(contacto)
        await s.flush()
        for agente_id, plan in zip(ids, agentes, strict=True):
            # Every agent runs its own campaigns (up to two); campaign rows belong to one of them.
            campanas = [Campana(agente_id=agente_id, nombre=f"C{agente_id}-{k}", estado="activa") for k in range(2)]
            s.add_all(campanas)
            await s.flush()
            for n, (a_la_persona, origen) in enumerate(plan["mensajes"]):
                s.add(
                    MensajeEnviado(
                        agente_id=agente_id,
                        campana_id=campanas[n % 2].id if origen == "campana" else None,
                        contacto_id=contacto.id if a_la_persona else None,
                        origen=origen,
                        numero_destino=persona if a_la_persona else otro,
                        mensaje="Hola",
                        wa_message_id="3EB0" + secrets.token_hex(9).upper(),
                        estado="pendiente",
                    )
                )
        await s.commit()

    bitacora = Bitacora()
    await asyncio.gather(
        *(_despachar(fabrica, a, persona, plan["pausas"], bitacora) for a, plan in zip(ids, agentes, strict=True)),
        _baja(fabrica, ids[quien_recibe % len(ids)], persona, espera_baja, bitacora),
    )

    assert bitacora.baja_confirmada is not None
    tarde = [e for e in bitacora.envios if e[1] == persona and e[0] > bitacora.baja_confirmada]
    assert not tarde, f"salieron mensajes después de la baja: {tarde}"
    # The frequency cap held across agents too: at most one campaign message reached the person.
    assert sum(1 for e in bitacora.envios if e[1] == persona and e[3] == "campana") <= 1
    async with fabrica() as s:
        restantes = await s.scalars(
            select(MensajeEnviado.estado).where(
                MensajeEnviado.numero_destino == persona, MensajeEnviado.agente_id.in_(ids)
            )
        )
        # Nothing is left waiting for the person, and nothing is stuck mid-send.
        assert set(restantes.all()) <= {"enviado", "cancelado", "suprimido"}
