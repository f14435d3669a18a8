"""Turns a batch of engine events into what must be written: deduplicated messages, merged receipts, maps.

Pure: no database. The service resolves what the batch cannot know (stored LID maps, scope) and
the repository writes the plan with a few multi-row statements, in this order so causality holds:
identifier maps, sent messages (echoes), receipts, received messages, edits and deletes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from enlace.captura.estados import Resumen
from enlace.comun.telefonos import TipoJid, analizar_jid, lid_normalizado, resolver_telefono, telefono_de_jid
from enlace.motores.base import (
    EventoEstado,
    EventoMapeoIdentificador,
    EventoMensaje,
    EventoPreferencia,
    TipoContenido,
)

Clave = tuple[int, str]  # (agente_id, wa_message_id)

TIPOS_MODIFICACION = {TipoContenido.edicion, TipoContenido.borrado}


@dataclass(frozen=True, slots=True)
class Recibo:
    """One receipt as it arrived (every one is appended to eventos_entrega)."""

    agente_id: int
    wa_message_id: str
    tipo: str
    momento: datetime
    codigo_error: int | None
    detalle_error: str | None


@dataclass(slots=True)
class MensajePlan:
    evento: EventoMensaje
    telefono: str | None = None  # the other party, canonical
    lid: str | None = None  # the other party's LID when the chat is addressed by one
    es_grupo: bool = False
    es_difusion: bool = False


@dataclass(slots=True)
class PlanLote:
    mapeos: dict[str, str] = field(default_factory=dict)  # lid (or Cloud API user id) -> canonical phone
    salientes: dict[Clave, MensajePlan] = field(default_factory=dict)
    entrantes: dict[Clave, MensajePlan] = field(default_factory=dict)
    modificaciones: list[MensajePlan] = field(default_factory=list)  # edits / deletes, in arrival order
    recibos: list[Recibo] = field(default_factory=list)  # every receipt, in arrival order
    resumenes: dict[Clave, Resumen] = field(default_factory=dict)  # receipts merged per message
    preferencias: list[EventoPreferencia] = field(default_factory=list)
    duplicados: int = 0

    def lids_sin_resolver(self) -> set[str]:
        return {
            m.lid
            for m in (*self.salientes.values(), *self.entrantes.values(), *self.modificaciones)
            if m.telefono is None and m.lid
        }

    def resolver_lids(self, mapeo: dict[str, str]) -> None:
        """Fill phones of LID-addressed messages from maps found outside the batch (the database)."""
        for m in (*self.salientes.values(), *self.entrantes.values(), *self.modificaciones):
            if m.telefono is None and m.lid and m.lid in mapeo:
                m.telefono = mapeo[m.lid]


def _mapeo_de_mensaje(ev: EventoMensaje) -> tuple[str, str] | None:
    for a, b in ((ev.chat_jid, ev.telefono_jid), (ev.telefono_jid, ev.chat_jid)):
        lid = lid_normalizado(a) if a else None
        tel = telefono_de_jid(b)
        if lid and tel:
            return lid, tel
    return None


def planificar(eventos: list[object]) -> PlanLote:
    """Group a batch; the first copy of a message wins (a duplicate carries the same facts)."""
    plan = PlanLote()
    for ev in eventos:
        if isinstance(ev, EventoMapeoIdentificador):
            lid = lid_normalizado(ev.lid) or lid_normalizado(f"{ev.lid}@lid")
            tel = telefono_de_jid(ev.telefono_jid)
            if lid and tel:
                plan.mapeos[lid] = tel
        elif isinstance(ev, EventoMensaje):
            par = _mapeo_de_mensaje(ev)
            if par:
                plan.mapeos[par[0]] = par[1]
            if ev.bsuid:  # Cloud API business-scoped user id: remember its phone when the webhook gives both
                tel = telefono_de_jid(ev.telefono_jid) or telefono_de_jid(ev.chat_jid)
                if tel:
                    plan.mapeos[ev.bsuid] = tel
    for ev in eventos:
        if isinstance(ev, EventoMensaje):
            info = analizar_jid(ev.chat_jid)
            lid = lid_normalizado(ev.chat_jid) or (lid_normalizado(ev.telefono_jid) if ev.telefono_jid else None)
            telefono = resolver_telefono(ev.chat_jid, ev.telefono_jid, plan.mapeos)
            if telefono is None and lid is None and ev.bsuid:
                # Phone withheld: the user id is looked up like a LID (here or in mapeos_identificador).
                lid = ev.bsuid
                telefono = plan.mapeos.get(ev.bsuid)
            mp = MensajePlan(
                evento=ev,
                telefono=telefono,
                lid=lid,
                es_grupo=ev.es_grupo or info.tipo == TipoJid.grupo,
                es_difusion=info.tipo == TipoJid.difusion,
            )
            if ev.tipo in TIPOS_MODIFICACION and ev.referencia_id:
                plan.modificaciones.append(mp)
                continue
            destino = plan.salientes if ev.de_mi else plan.entrantes
            clave = (ev.agente_id, ev.wa_message_id)
            if clave in destino:
                plan.duplicados += 1
                continue
            destino[clave] = mp
        elif isinstance(ev, EventoEstado):
            recibo = Recibo(
                ev.agente_id, ev.wa_message_id, str(ev.estado), ev.momento, ev.codigo_error, ev.detalle_error
            )
            plan.recibos.append(recibo)
            clave = (ev.agente_id, ev.wa_message_id)
            resumen = plan.resumenes.setdefault(clave, Resumen())
            resumen.agregar(recibo.tipo, recibo.momento, recibo.codigo_error, recibo.detalle_error)
        elif isinstance(ev, EventoPreferencia):
            plan.preferencias.append(ev)
    return plan


def resumir(recibos: list[Recibo]) -> dict[Clave, Resumen]:
    """Receipts merged per message (used for receipts that waited for their message)."""
    resumenes: dict[Clave, Resumen] = {}
    for r in recibos:
        resumenes.setdefault((r.agente_id, r.wa_message_id), Resumen()).agregar(
            r.tipo, r.momento, r.codigo_error, r.detalle_error
        )
    return resumenes
