"""The capture service (InterceptorService): engine events in, one correct row per message out.

Events are queued and written in batches (one transaction per batch, a few multi-row statements).
Everything is idempotent on (agente_id, wa_message_id), so a duplicated, reordered or replayed
stream ends in the same rows. Side effects (realtime events, media downloads) run after commit.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import structlog
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from enlace.captura import repository as repo
from enlace.captura.alcance import Contexto, Decision, decidir
from enlace.captura.estados import Resumen
from enlace.captura.limpieza import limpiar_evento
from enlace.captura.lotes import ConsumidorPorLotes, describir
from enlace.captura.medios import TIPOS_CON_MEDIO, DescargadorMedios, SolicitudMedio, metadatos
from enlace.captura.plan import Clave, MensajePlan, PlanLote, Recibo, planificar
from enlace.comun.telefonos import TipoJid, analizar_jid
from enlace.cumplimiento.bajas import ClaseRespuesta, clasificar
from enlace.cumplimiento.puerta import bloquear_telefonos
from enlace.cumplimiento.service import evaluar_respuesta, suprimir
from enlace.db.sesion import al_confirmar, transaccion
from enlace.mensajes.estados import RANGO
from enlace.motores.base import (
    EventoEstado,
    EventoMapeoIdentificador,
    EventoMensaje,
    EventoPreferencia,
    Motor,
    TipoContenido,
)
from enlace.reloj import Reloj
from enlace.settings import AlcanceCaptura, Settings
from enlace.tiempo_real import emitir, salas_agente

log = structlog.get_logger(__name__)

TIPOS_EVENTO = (EventoMensaje, EventoEstado, EventoMapeoIdentificador, EventoPreferencia)
DIAS_RECIBOS_HUERFANOS = 7
TTL_ALCANCE_S = 10.0  # other nodes see an admin's change of scope within this many seconds
TTL_AGENTES_S = 30.0
# Events waiting for the database (per partition). When the database is away the queue fills up to this and
# then `recibir` waits, holding the engines back (Baileys keeps unacknowledged messages on WhatsApp's side).
MAX_COLA = 20_000


@dataclass(slots=True)
class ResultadoLote:
    """What one batch did (tests and the bench read it)."""

    enviados_nuevos: int = 0
    enviados_confirmados: int = 0
    recibidos_nuevos: int = 0
    recibos_aplicados: int = 0
    recibos_en_espera: int = 0
    fuera_de_alcance: int = 0
    modificaciones: int = 0
    solicitudes_medio: list[SolicitudMedio] = field(default_factory=list)


def _salas(agente: repo.InfoAgente | None, agente_id: int, campana_id: int | None) -> list[str]:
    salas = salas_agente(agente_id, agente.equipo_id if agente else None)
    if campana_id is not None:
        salas.append(f"campana:{campana_id}")
    return salas


def _eco_sin_cambios(fila: repo.FilaEnviada, momento: datetime) -> bool:
    """Mirror of the upsert's WHERE: an echo changes a row only if it moves estado, time or fills a gap."""
    return (
        RANGO[fila.estado] >= RANGO["enviado"]
        and fila.enviado_at is not None
        and fila.enviado_at <= momento
        and fila.completa
    )


async def _info_agentes(
    session: AsyncSession, ids: list[int], cache: dict[int, tuple[float, repo.InfoAgente]] | None
) -> dict[int, repo.InfoAgente]:
    """Agents' number and team; cached briefly (they change only when a phone is linked or a team moves)."""
    if cache is None:
        return await repo.agentes(session, ids)
    ahora = time.monotonic()
    faltan = [i for i in ids if i not in cache or ahora - cache[i][0] > TTL_AGENTES_S]
    if faltan:
        for i, info in (await repo.agentes(session, faltan)).items():
            cache[i] = (ahora, info)
    return {i: cache[i][1] for i in ids if i in cache}


def _preclasificar(mp: MensajePlan) -> tuple[str | None, str | None]:
    """The opt-out classifier is pure: replies it calls `otro` (most) get their decision in the INSERT.

    Only `baja` and `no_interesado` need compliance's `evaluar_respuesta` (suppress, cancel, mark the
    contact), which costs several statements per reply; `otro` has no effect beyond the stored decision.
    """
    if mp.evento.historial or not mp.evento.texto:
        return None, None
    resultado = clasificar(mp.evento.texto)
    if resultado.clase != ClaseRespuesta.otro:
        return None, None
    return resultado.clase.value, resultado.regla[:80]


def _baja_de_lid(mp: MensajePlan) -> tuple[int, str, str, datetime] | None:
    """A live opt-out from a LID whose phone nobody knows yet: (agente, lid, regla, momento)."""
    ev = mp.evento
    if mp.telefono or not mp.lid or ev.historial or not ev.texto:
        return None
    resultado = clasificar(ev.texto)
    if resultado.clase != ClaseRespuesta.baja:
        return None
    return ev.agente_id, mp.lid, resultado.regla[:80], ev.momento


async def _bloquear_telefonos_de_bajas(session: AsyncSession, plan: PlanLote) -> None:
    """Take the compliance lock of every phone that is opting out, before this batch locks any other row.

    The opt-out (step 4) needs its phone's lock (`cumplimiento.puerta`); a dispatcher holding that lock
    must never wait for a row this batch already wrote (report counters, conversations), or the two
    would deadlock. Taking the phone locks first keeps one lock order for everyone.
    """
    telefonos = [
        mp.telefono
        for mp in plan.entrantes.values()
        if mp.telefono
        and mp.evento.texto
        and not mp.evento.historial
        and clasificar(mp.evento.texto).clase == ClaseRespuesta.baja
    ]
    # Cloud API marketing opt-outs suppress too (step 6); those with a phone in the jid lock it now.
    from enlace.comun.telefonos import telefono_de_jid

    for p in plan.preferencias:
        telefono = telefono_de_jid(p.telefono_jid) if p.detener_marketing and p.telefono_jid else None
        if telefono:
            telefonos.append(telefono)
    if telefonos:
        await bloquear_telefonos(session, telefonos)


def _vista_previa(mp: MensajePlan) -> str:
    ev = mp.evento
    if ev.texto:
        return ev.texto
    return f"[{ev.tipo}]"


@dataclass(slots=True)
class _Lote:
    """What every step of one batch shares: the plan, the rows and contacts it touches, the counters."""

    plan: PlanLote
    alcance: AlcanceCaptura
    zona: ZoneInfo
    ahora: datetime
    evaluar_respuestas: bool
    agentes: dict[int, repo.InfoAgente]
    conocidos: dict[Clave, repo.FilaEnviada]
    contactos: dict[str, repo.InfoContacto]
    escritos: set[str]
    res: ResultadoLote = field(default_factory=lambda: ResultadoLote())
    conteos: dict[tuple[int, date], list[int]] = field(default_factory=dict)
    conversaciones: list[dict[str, Any]] = field(default_factory=list)
    respondieron: dict[int, datetime] = field(default_factory=dict)  # contact → its latest reply

    def contar(self, mp: MensajePlan, entrante: bool) -> None:
        """An out-of-scope message: only counted per agent and local day."""
        self.res.fuera_de_alcance += 1
        k = (mp.evento.agente_id, mp.evento.momento.astimezone(self.zona).date())
        c = self.conteos.setdefault(k, [0, 0])
        c[0 if entrante else 1] += 1

    def decision(self, mp: MensajePlan, conocido: bool) -> Decision:
        ctx = Contexto(
            telefono=mp.telefono,
            es_grupo=mp.es_grupo,
            es_difusion=mp.es_difusion,
            es_contacto=bool(mp.telefono and mp.telefono in self.contactos),
            sistema_escribio=bool(mp.telefono and mp.telefono in self.escritos),
            mensaje_conocido=conocido,
        )
        return decidir(self.alcance, ctx)


async def aplicar_plan(
    session: AsyncSession,
    plan: PlanLote,
    *,
    alcance: AlcanceCaptura,
    zona: ZoneInfo,
    ahora: datetime,
    evaluar_respuestas: bool = True,
    cache_agentes: dict[int, tuple[float, repo.InfoAgente]] | None = None,
) -> ResultadoLote:
    """Write one planned batch inside the caller's transaction (never commits)."""
    await _resolver_identidades(session, plan, alcance, ahora, evaluar_respuestas)
    lote = await _preparar_lote(session, plan, alcance, zona, ahora, evaluar_respuestas, cache_agentes)
    enviadas = await _aplicar_enviados(session, lote)
    await _aplicar_recibos_del_lote(session, lote, enviadas)
    await _aplicar_recibidos(session, lote)
    await _aplicar_ediciones(session, lote)
    await repo.contar_fuera_de_alcance(session, {k: (v[0], v[1]) for k, v in lote.conteos.items()})
    await repo.respondio_y_conversaciones(session, lote.respondieron, lote.conversaciones)
    if plan.preferencias:
        await _aplicar_preferencias(session, plan.preferencias, ahora)
    return lote.res


async def _resolver_identidades(
    session: AsyncSession, plan: PlanLote, alcance: AlcanceCaptura, ahora: datetime, evaluar_respuestas: bool
) -> None:
    """1. Identifier maps first: later messages in this batch (and LID-only messages) need them."""
    if plan.mapeos:
        await repo.guardar_mapeos(session, plan.mapeos, ahora)
        if alcance == AlcanceCaptura.todo:
            await repo.completar_telefono_por_lid(session, plan.mapeos)
    sin_resolver = plan.lids_sin_resolver()
    if sin_resolver:
        plan.resolver_lids(await repo.mapeos_conocidos(session, sorted(sin_resolver)))
    if evaluar_respuestas:
        await _bloquear_telefonos_de_bajas(session, plan)


async def _preparar_lote(
    session: AsyncSession,
    plan: PlanLote,
    alcance: AlcanceCaptura,
    zona: ZoneInfo,
    ahora: datetime,
    evaluar_respuestas: bool,
    cache_agentes: dict[int, tuple[float, repo.InfoAgente]] | None,
) -> _Lote:
    """The agents, the rows that already exist and the contacts by phone, in as few queries as possible."""
    mensajes = [*plan.salientes.values(), *plan.entrantes.values()]
    agentes_ids = sorted({m.evento.agente_id for m in mensajes} | {r.agente_id for r in plan.recibos})
    agentes = await _info_agentes(session, agentes_ids, cache_agentes)
    # Rows that already exist: echoes of system-sent messages and the targets of receipts, in one query.
    # Contacts by phone come in the same round trip (for echoes of known rows the lookup is unused).
    claves_recibos = {(r.agente_id, r.wa_message_id) for r in plan.recibos}
    telefonos = sorted({m.telefono for m in mensajes if m.telefono})
    conocidos, contactos = await repo.existentes_y_contactos(
        session, sorted(set(plan.salientes) | claves_recibos), telefonos
    )
    # A person who writes proves where they are registered: their phone jid is where replies must go
    # (WhatsApp delivers nothing sent to the other 52/521 form), so the contact keeps it as resolved.
    await repo.registrar_jids_vistos(
        session,
        {
            m.telefono: (m.evento.telefono_jid, m.evento.momento)
            for m in plan.entrantes.values()
            if m.telefono in contactos
            and m.evento.telefono_jid
            and analizar_jid(m.evento.telefono_jid).tipo == TipoJid.telefono
        },
    )
    escritos: set[str] = set()
    if alcance == AlcanceCaptura.negocio:
        escritos = await repo.telefonos_escritos_por_sistema(session, [t for t in telefonos if t not in contactos])
    return _Lote(plan, alcance, zona, ahora, evaluar_respuestas, agentes, conocidos, contactos, escritos)


async def _aplicar_enviados(session: AsyncSession, lote: _Lote) -> list[repo.FilaEnviada]:
    """2. Sent messages: the echo of a system-sent row (proof it left) or a message typed on the phone."""
    filas_enviadas: list[dict[str, Any]] = []
    planes_enviados: dict[Clave, MensajePlan] = {}
    for clave, mp in lote.plan.salientes.items():
        d = lote.decision(mp, clave in lote.conocidos)
        if d == Decision.contar:
            lote.contar(mp, entrante=False)
        if d != Decision.guardar:
            continue
        ev = mp.evento
        contacto = lote.contactos.get(mp.telefono) if mp.telefono else None
        conocido = lote.conocidos.get(clave)
        if conocido is not None and _eco_sin_cambios(conocido, ev.momento):
            continue  # the usual echo of a row the dispatcher already marked: no statement at all
        agente = lote.agentes.get(ev.agente_id)
        filas_enviadas.append(
            {
                "agente_id": ev.agente_id,
                "wa_message_id": ev.wa_message_id,
                "origen": "telefono",
                "numero_origen": agente.numero_wa if agente else None,
                "numero_destino": mp.telefono,
                "destino_jid": ev.telefono_jid or ev.chat_jid,
                "mensaje": ev.texto,
                "tipo": str(ev.tipo),
                "medio": metadatos(ev.medio, ev.tipo),
                "contacto_id": contacto.id if contacto else (conocido.contacto_id if conocido else None),
                "enviado_at": ev.momento,
            }
        )
        planes_enviados[clave] = mp
    enviadas = await repo.upsert_enviados(session, filas_enviadas)
    for fila in enviadas:
        clave = (fila.agente_id, fila.wa_message_id)
        mp = planes_enviados[clave]
        previa = lote.conocidos.get(clave)
        fila.estado_anterior = previa.estado if previa else None
        agente = lote.agentes.get(fila.agente_id)
        salas = _salas(agente, fila.agente_id, fila.campana_id)
        if fila.insertada:
            lote.res.enviados_nuevos += 1
            if not mp.evento.historial:
                emitir(session, "mensaje.enviado", _datos_enviado(fila, mp), salas)
            if fila.numero_destino:
                lote.conversaciones.append(
                    _conversacion(fila.agente_id, fila.numero_destino, fila.contacto_id, mp, "saliente", False)
                )
            if mp.evento.medio is not None and mp.evento.tipo in TIPOS_CON_MEDIO:
                lote.res.solicitudes_medio.append(
                    SolicitudMedio(
                        "mensajes_enviados", fila.agente_id, fila.wa_message_id, mp.evento.momento, mp.evento.medio
                    )
                )
        else:
            lote.res.enviados_confirmados += 1
            if fila.estado != fila.estado_anterior and not mp.evento.historial:
                emitir(session, "mensaje.estado", _datos_estado(fila), salas)

    return enviadas


async def _aplicar_recibos_del_lote(session: AsyncSession, lote: _Lote, enviadas: list[repo.FilaEnviada]) -> None:
    """3. Receipts: every one appended, each row merged once; unknown ids wait for their message."""
    ids = {c: f.id for c, f in lote.conocidos.items()}
    previos = {f.id: f.estado for f in lote.conocidos.values()}
    for fila in enviadas:
        ids[(fila.agente_id, fila.wa_message_id)] = fila.id
        previos[fila.id] = fila.estado
    encontrados: list[tuple[int, Recibo]] = []
    en_espera: list[Recibo] = []
    for r in lote.plan.recibos:
        mensaje_id = ids.get((r.agente_id, r.wa_message_id))
        if mensaje_id is None:
            en_espera.append(r)
        else:
            encontrados.append((mensaje_id, r))
    nuevas = [(f.agente_id, f.wa_message_id) for f in enviadas if f.insertada]
    if nuevas:
        encontrados.extend(await repo.tomar_pendientes(session, nuevas))
    lote.res.recibos_aplicados = len(encontrados)
    lote.res.recibos_en_espera = len(en_espera)
    await repo.guardar_pendientes(session, en_espera)
    await _aplicar_recibos(session, encontrados, lote.agentes, previos)


async def _aplicar_recibidos(session: AsyncSession, lote: _Lote) -> None:
    """4. Received messages (replies), tied to the last message this agent sent to that number."""
    filas_recibidas: list[dict[str, Any]] = []
    planes_recibidos: dict[Clave, MensajePlan] = {}
    preclasificados: set[Clave] = set()
    bajas_lid: dict[Clave, tuple[int, str, str, datetime]] = {}
    for clave, mp in lote.plan.entrantes.items():
        d = lote.decision(mp, False)
        if d == Decision.contar:
            lote.contar(mp, entrante=True)
        baja_lid = _baja_de_lid(mp) if lote.evaluar_respuestas and d != Decision.ignorar else None
        if baja_lid is not None:
            bajas_lid[clave] = baja_lid
        if d != Decision.guardar:
            continue
        ev = mp.evento
        contacto = lote.contactos.get(mp.telefono) if mp.telefono else None
        agente = lote.agentes.get(ev.agente_id)
        clase, regla = _preclasificar(mp) if lote.evaluar_respuestas else (None, None)
        filas_recibidas.append(
            {
                "agente_id": ev.agente_id,
                "wa_message_id": ev.wa_message_id,
                "numero_origen": mp.telefono,
                "numero_destino": agente.numero_wa if agente else None,
                "chat_jid": mp.lid or ev.chat_jid,
                "mensaje": ev.texto,
                "tipo": str(ev.tipo),
                "medio": metadatos(ev.medio, ev.tipo),
                "referencia_id": ev.referencia_id,
                "recibido_at": ev.momento,
                "contacto_id": contacto.id if contacto else None,
                "clasificacion": clase,
                "regla": regla,
                "historial": ev.historial,
            }
        )
        planes_recibidos[clave] = mp
        if clase is not None:
            preclasificados.add(clave)
    recibidas = await repo.insertar_recibidos(session, filas_recibidas)
    lote.res.recibidos_nuevos = len(recibidas)
    if bajas_lid:
        # Kept (LID and rule only, no text) until the LID's phone is known; the sweep applies them then.
        guardadas = {(f.agente_id, f.wa_message_id): f.id for f in recibidas}
        await repo.guardar_baja_de_lid(session, [(*b, guardadas.get(c)) for c, b in bajas_lid.items()])
    respondieron: dict[int, datetime] = {}
    por_evaluar: list[tuple[repo.FilaRecibida, MensajePlan]] = []
    for recibida in recibidas:
        mp = planes_recibidos[(recibida.agente_id, recibida.wa_message_id)]
        vivo = not mp.evento.historial
        if recibida.contacto_id is not None and vivo:
            previo = respondieron.get(recibida.contacto_id)
            respondieron[recibida.contacto_id] = max(previo, recibida.recibido_at) if previo else recibida.recibido_at
        if vivo and mp.evento.texto and (recibida.agente_id, recibida.wa_message_id) not in preclasificados:
            por_evaluar.append((recibida, mp))
        if vivo:
            emitir(
                session,
                "mensaje.recibido",
                _datos_recibido(recibida, mp),
                _salas(lote.agentes.get(recibida.agente_id), recibida.agente_id, recibida.campana_id),
            )
        if recibida.numero_origen:
            lote.conversaciones.append(
                _conversacion(recibida.agente_id, recibida.numero_origen, recibida.contacto_id, mp, "entrante", vivo)
            )
        if mp.evento.medio is not None and mp.evento.tipo in TIPOS_CON_MEDIO:
            lote.res.solicitudes_medio.append(
                SolicitudMedio(
                    "mensajes_recibidos", recibida.agente_id, recibida.wa_message_id, mp.evento.momento, mp.evento.medio
                )
            )
    if lote.evaluar_respuestas and por_evaluar:
        await _evaluar_respuestas(session, por_evaluar, lote.ahora)

    lote.respondieron = respondieron


async def _aplicar_ediciones(session: AsyncSession, lote: _Lote) -> None:
    """5. Edits and deletes of captured replies."""
    mods = [
        {
            "agente_id": mp.evento.agente_id,
            "referencia_id": mp.evento.referencia_id,
            "texto": mp.evento.texto,
            "borrado": mp.evento.tipo == TipoContenido.borrado,
            "momento": mp.evento.momento,
        }
        for mp in lote.plan.modificaciones
        if not mp.evento.de_mi
    ]
    lote.res.modificaciones = await repo.aplicar_modificaciones(session, mods)


async def _aplicar_recibos(
    session: AsyncSession,
    encontrados: list[tuple[int, Recibo]],
    agentes: dict[int, repo.InfoAgente],
    previos: dict[int, str] | None = None,
) -> None:
    if not encontrados:
        return
    resumenes: dict[int, Resumen] = {}
    for mensaje_id, r in encontrados:
        resumenes.setdefault(mensaje_id, Resumen()).agregar(r.tipo, r.momento, r.codigo_error, r.detalle_error)
    for fila in await repo.aplicar_recibos(session, encontrados, resumenes):
        fila.estado_anterior = (previos or {}).get(fila.id)
        if fila.estado == fila.estado_anterior:
            continue
        emitir(
            session,
            "mensaje.estado",
            _datos_estado(fila),
            _salas(agentes.get(fila.agente_id), fila.agente_id, fila.campana_id),
        )


async def _evaluar_respuestas(
    session: AsyncSession, por_evaluar: list[tuple[repo.FilaRecibida, MensajePlan]], ahora: datetime
) -> None:
    """Opt-out detection for each new reply, each in a savepoint: a failure there never loses the reply."""
    for fila, mp in por_evaluar:
        try:
            async with session.begin_nested():
                await evaluar_respuesta(
                    session,
                    mensaje_recibido_id=fila.id,
                    telefono=fila.numero_origen,
                    texto=mp.evento.texto,
                    contacto_id=fila.contacto_id,
                    agente_id=fila.agente_id,
                    ahora=ahora,
                )
        except Exception as exc:
            # Left unclassified: the compliance sweep evaluates it again (`reevaluar_cumplimiento`).
            log.error("evaluar_respuesta_fallo", mensaje_recibido_id=fila.id, error=describir(exc))


async def _aplicar_preferencias(session: AsyncSession, preferencias: list[EventoPreferencia], ahora: datetime) -> None:
    """Cloud API `user_preferences`: stopping marketing is an opt-out, handled by compliance."""
    from enlace.comun.telefonos import telefono_de_jid

    detener = [p for p in preferencias if p.detener_marketing]
    if not detener:
        return
    por_bsuid = await repo.mapeos_conocidos(session, [p.bsuid for p in detener if p.bsuid])
    for p in detener:
        telefono = telefono_de_jid(p.telefono_jid) or (por_bsuid.get(p.bsuid) if p.bsuid else None)
        if not telefono:
            log.warning("preferencia_sin_telefono", agente_id=p.agente_id)
            continue
        try:
            async with session.begin_nested():
                await suprimir(
                    session,
                    telefono=telefono,
                    motivo="Dejó de aceptar mensajes de marketing (Cloud API)",
                    fuente="marketing",
                    actor=None,
                    ahora=p.momento,
                )
        except Exception:
            log.exception("suprimir_por_preferencia_fallo", agente_id=p.agente_id)


def _conversacion(
    agente_id: int, telefono: str, contacto_id: int | None, mp: MensajePlan, direccion: str, no_leido: bool
) -> dict[str, Any]:
    return {
        "agente_id": agente_id,
        "telefono": telefono,
        "contacto_id": contacto_id,
        "momento": mp.evento.momento,
        "texto": _vista_previa(mp),
        "direccion": direccion,
        "no_leido": no_leido,
    }


def _datos_enviado(fila: repo.FilaEnviada, mp: MensajePlan) -> dict[str, Any]:
    return {
        "id": fila.id,
        "agente_id": fila.agente_id,
        "wa_message_id": fila.wa_message_id,
        "origen": fila.origen,
        "estado": fila.estado,
        "contacto_id": fila.contacto_id,
        "campana_id": fila.campana_id,
        "numero_destino": fila.numero_destino,
        "tipo": str(mp.evento.tipo),
        "momento": mp.evento.momento.isoformat(),
    }


def _datos_estado(fila: repo.FilaEnviada) -> dict[str, Any]:
    return {
        "id": fila.id,
        "agente_id": fila.agente_id,
        "wa_message_id": fila.wa_message_id,
        "estado": fila.estado,
        "estado_anterior": fila.estado_anterior,
        "campana_id": fila.campana_id,
        "contacto_id": fila.contacto_id,
    }


def _datos_recibido(fila: repo.FilaRecibida, mp: MensajePlan) -> dict[str, Any]:
    return {
        "id": fila.id,
        "agente_id": fila.agente_id,
        "wa_message_id": fila.wa_message_id,
        "contacto_id": fila.contacto_id,
        "campana_id": fila.campana_id,
        "mensaje_origen_id": fila.mensaje_origen_id,
        "numero_origen": fila.numero_origen,
        "tipo": str(mp.evento.tipo),
        "texto": mp.evento.texto,
        "momento": fila.recibido_at.isoformat(),
    }


class Captura:
    """The running capture component: subscribe it to the core, it queues, batches and writes."""

    def __init__(
        self,
        fabrica: async_sessionmaker[AsyncSession],
        reloj: Reloj,
        settings: Settings,
        *,
        motor: Callable[[], Motor] | None = None,
        max_lote: int = 500,
        ventana_s: float = 0.005,
        particiones: int = 1,
        max_cola: int = MAX_COLA,
        evaluar_respuestas: bool = True,
        al_procesar: Callable[[list[float]], None] | None = None,
    ) -> None:
        self._fabrica = fabrica
        self._reloj = reloj
        self._settings = settings
        self._motor = motor
        self._evaluar = evaluar_respuestas
        self._zona = ZoneInfo(settings.zona_horaria)
        self.consumidor: ConsumidorPorLotes[object] = ConsumidorPorLotes(
            self.procesar,
            max_lote=max_lote,
            ventana_s=ventana_s,
            max_cola=max_cola,
            nombre="captura",
            con_clave=True,
            al_procesar=al_procesar,
            # Per agent: one agent's events stay in order; different agents' batches may commit in parallel.
            particiones=particiones,
            clave=lambda ev: getattr(ev, "agente_id", 0),
        )
        self.descargador: DescargadorMedios | None = None
        if settings.directorio_medios is not None:
            self.descargador = DescargadorMedios(
                Path(settings.directorio_medios), self._obtener_medio, self._registrar_medio
            )
        self._hay_pendientes = True  # unknown at start: sweep once
        self._cache_agentes: dict[int, tuple[float, repo.InfoAgente]] = {}
        self._aviso_sin_descarga = False
        self._alcance: tuple[float, AlcanceCaptura] | None = None
        self._barrido: asyncio.Task[None] | None = None

    @property
    def alcance(self) -> AlcanceCaptura:
        """The scope in force: the admin's runtime setting when there is one, else the environment's."""
        return self._alcance[1] if self._alcance else self._settings.alcance_captura

    def fijar_alcance(self, alcance: AlcanceCaptura | str) -> None:
        """Apply an admin's change on this node at once (other nodes pick it up within TTL_ALCANCE_S)."""
        self._alcance = (time.monotonic(), AlcanceCaptura(alcance))

    async def _refrescar_alcance(self, session: AsyncSession) -> AlcanceCaptura:
        if self._alcance is None or time.monotonic() - self._alcance[0] > TTL_ALCANCE_S:
            guardado = await repo.alcance_guardado(session)
            valor = AlcanceCaptura(guardado) if guardado in ("negocio", "todo") else self._settings.alcance_captura
            self._alcance = (time.monotonic(), valor)
        return self._alcance[1]

    def suscribir_en(self, nucleo: Any) -> None:
        for tipo in TIPOS_EVENTO:
            nucleo.suscribir(tipo, self.recibir)

    async def iniciar(self) -> None:
        self.consumidor.iniciar()
        if self.descargador is not None:
            self.descargador.iniciar()
        if self._barrido is None:
            self._barrido = asyncio.create_task(self._barrer_periodicamente(), name="captura-barrido")

    async def detener(self) -> None:
        await self.consumidor.detener()
        if self._barrido is not None:
            self._barrido.cancel()
            await asyncio.gather(self._barrido, return_exceptions=True)
            self._barrido = None
        if self.descargador is not None:
            await self.descargador.detener()

    async def recibir(self, evento: object) -> None:
        """The core's handler: queue and return (the engine is never held up by the database)."""
        if not self.consumidor.en_marcha:
            self.consumidor.iniciar()
        await self.consumidor.poner(evento)

    async def vaciar(self) -> None:
        """Wait until every event received so far is committed (tests, graceful shutdown)."""
        await self.consumidor.vaciar()

    async def procesar(self, eventos: list[object], clave_lote: str | None = None) -> None:
        """One batch, one transaction.

        `clave_lote` (the consumer's, the same on every retry of one batch) is recorded in the batch's own
        transaction: when a commit reached the database but its answer was lost with the connection, the
        retry finds the key and writes nothing twice (not even a receipt in `eventos_entrega`).
        """
        plan = planificar([limpiar_evento(e) for e in eventos])
        async with transaccion(self._fabrica) as session:
            if clave_lote is not None and not await repo.marcar_lote(session, clave_lote):
                log.warning("lote_ya_confirmado", clave=clave_lote, eventos=len(eventos))
                return
            res = await aplicar_plan(
                session,
                plan,
                alcance=await self._refrescar_alcance(session),
                zona=self._zona,
                ahora=self._reloj.ahora(),
                evaluar_respuestas=self._evaluar,
                cache_agentes=self._cache_agentes,
            )
            if self.descargador is not None and res.solicitudes_medio and self._motor_descarga():
                descargador = self.descargador
                solicitudes = list(res.solicitudes_medio)

                async def pedir() -> None:
                    for s in solicitudes:
                        descargador.solicitar(s)

                al_confirmar(session, pedir)
        if res.recibos_en_espera:
            self._hay_pendientes = True

    async def aplicar_recibos_pendientes(self) -> int:
        """Apply waiting receipts whose message row appeared by other means (e.g. written by the dispatcher)."""
        async with transaccion(self._fabrica) as session:
            encontrados = await repo.tomar_pendientes(session, None)
            agentes = await repo.agentes(session, sorted({r.agente_id for _, r in encontrados}))
            await _aplicar_recibos(session, encontrados, agentes)
            await repo.purgar_pendientes(session, self._reloj.ahora() - timedelta(days=DIAS_RECIBOS_HUERFANOS))
            quedan = await session.scalar(_HAY_PENDIENTES)
        self._hay_pendientes = bool(quedan)
        return len(encontrados)

    async def reevaluar_cumplimiento(self, *, gracia_s: float = 60.0, limite: int = 100) -> int:
        """Compliance is never skipped silently: re-run what a failure or a missing phone left undone.

        - replies with text and no stored decision (their `evaluar_respuesta` failed and its savepoint
          rolled back, or the process died first) are evaluated again, each in its own transaction;
        - opt-outs seen on a LID whose phone is now known (`mapeos_identificador`) are applied.
        `gracia_s` leaves rows of batches still in flight alone. Returns how many were handled.
        """
        async with transaccion(self._fabrica) as session:
            await repo.purgar_lotes(session)
        if not self._evaluar:
            return 0
        hechos = 0
        async with self._fabrica() as session:
            pendientes = await repo.respuestas_sin_evaluar(session, gracia_s, limite)
        for r in pendientes:
            try:
                async with transaccion(self._fabrica) as session:
                    if r.numero_origen:
                        await bloquear_telefonos(session, [r.numero_origen])
                    await evaluar_respuesta(
                        session,
                        mensaje_recibido_id=r.id,
                        telefono=r.numero_origen,
                        texto=r.mensaje,
                        contacto_id=r.contacto_id,
                        agente_id=r.agente_id,
                        ahora=self._reloj.ahora(),
                    )
                hechos += 1
                log.warning("respuesta_reevaluada", mensaje_recibido_id=r.id)
            except Exception as exc:
                # No traceback: the statement's parameters would put the reply's text in the log.
                log.error("reevaluar_respuesta_fallo", mensaje_recibido_id=r.id, error=describir(exc))
        async with transaccion(self._fabrica) as session:
            for agente_id, telefono, regla, momento, mensaje_id in await repo.tomar_bajas_de_lid_mapeadas(
                session, limite
            ):
                await bloquear_telefonos(session, [telefono])
                await suprimir(
                    session,
                    telefono=telefono,
                    motivo=f"El contacto pidió la baja por WhatsApp desde un identificador LID (regla {regla}).",
                    fuente="baja",
                    actor=None,
                    ahora=momento,
                    regla=regla,
                    mensaje_recibido_id=mensaje_id,
                )
                hechos += 1
                log.warning("baja_de_lid_aplicada", agente_id=agente_id)
        return hechos

    async def _barrer_periodicamente(self) -> None:
        # Technical polling intervals (event-loop time), not domain delays.
        vueltas = 0
        while True:
            await asyncio.sleep(2.0)
            vueltas += 1
            if vueltas % 15 == 0:
                try:
                    await self.reevaluar_cumplimiento()
                except Exception as exc:
                    log.error("barrido_cumplimiento_fallo", error=describir(exc))
            if not self._hay_pendientes:
                continue
            try:
                await self.aplicar_recibos_pendientes()
            except Exception:
                log.exception("barrido_recibos_fallo")

    def _motor_descarga(self) -> bool:
        """Whether the engine can fetch media bytes (`descargar_medio`); said once in the log when not."""
        motor = self._motor() if self._motor else None
        if getattr(motor, "descargar_medio", None) is not None:
            return True
        if not self._aviso_sin_descarga:
            self._aviso_sin_descarga = True
            log.warning("motor_sin_descarga_de_medios", efecto="se guardan solo los metadatos de los medios")
        return False

    async def _obtener_medio(self, agente_id: int, referencia: str) -> bytes:
        motor = self._motor() if self._motor else None
        descargar = getattr(motor, "descargar_medio", None)
        if descargar is None:
            raise RuntimeError("el motor no descarga medios")
        return await descargar(agente_id, referencia)  # type: ignore[no-any-return]

    async def _registrar_medio(self, solicitud: SolicitudMedio, ruta: str) -> None:
        async with transaccion(self._fabrica) as session:
            await repo.registrar_ruta_medio(
                session, solicitud.tabla, solicitud.agente_id, solicitud.wa_message_id, ruta
            )


_HAY_PENDIENTES = text("SELECT EXISTS (SELECT 1 FROM recibos_pendientes)")
