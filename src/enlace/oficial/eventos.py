"""What Cloud API webhooks mean beyond capture: wamid lookup, pricing, line quality/tier, template review.

Capture stores messages and receipts; this module keeps the official-channel facts around them, in the
webhook's own transaction (Meta retries until it gets 200, so everything here is idempotent).
"""

from __future__ import annotations

import dataclasses
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from enlace.campanas.models import Campana
from enlace.motores.base import Evento, EventoEstado, EventoMensaje
from enlace.motores.cloud_api.config import NumeroOficial
from enlace.motores.cloud_api.webhook import EventoCuenta, Lectura
from enlace.oficial.models import NIVEL_ILIMITADO, NIVELES, HistorialLinea, LineaOficial
from enlace.plantillas.models import Plantilla
from enlace.tiempo_real import emitir, salas_de_agente

log = structlog.get_logger(__name__)

# Template review outcomes that make a template unusable: its campaigns stop with the reason.
ESTADOS_PLANTILLA_DETENIDA = ("REJECTED", "PAUSED", "DISABLED", "PENDING_DELETION", "DELETED", "LIMIT_EXCEEDED")
NOMBRES_ESTADO_PLANTILLA = {
    "REJECTED": "rechazada",
    "PAUSED": "pausada",
    "DISABLED": "deshabilitada",
    "PENDING_DELETION": "en proceso de borrado",
    "DELETED": "borrada",
    "LIMIT_EXCEEDED": "sin cupo",
}
# account_update events that stop every line of the WABA (or the one number they name).
RESTRICCIONES_CUENTA = ("RESTRICTED_BIZ_INITIATED_MESSAGING", "RESTRICTED_CUSTOMER_INITIATED_MESSAGING")


# ---- wamid ⇄ our id ----------------------------------------------------------------------------


async def con_ids_propios(session: AsyncSession, lectura: Lectura) -> list[Evento]:
    """Rows keep our id; statuses, quoted replies and reactions may name only Meta's wamid.

    `biz_opaque_callback_data` gives our id directly; otherwise the wamid stored on the row at send
    time does. What is still unknown passes through unchanged (capture parks receipts until the row
    appears and then matches them by wamid too).
    """
    propio_de = {wamid: propio for propio, wamid in lectura.correlaciones.items()}
    for propio, wamid in lectura.correlaciones.items():
        # The dispatcher stores the wamid right after the send; a crash in between is healed here.
        await session.execute(
            text("UPDATE mensajes_enviados SET wamid = :w WHERE wa_message_id = :p AND wamid IS NULL"),
            {"w": wamid, "p": propio},
        )
    buscados: set[str] = set()
    for evento in lectura.eventos:
        if isinstance(evento, EventoEstado) and evento.wa_message_id not in propio_de:
            buscados.add(evento.wa_message_id)
        elif isinstance(evento, EventoMensaje) and evento.referencia_id and not evento.de_mi:
            buscados.add(evento.referencia_id)
    buscados.update(p.wamid for p in lectura.precios)
    buscados.update(w for _, w, _, _ in lectura.plantillas_detenidas)
    buscados.update(w for _, w, _, _ in lectura.reintentos)
    if buscados:
        filas = await session.execute(
            text("SELECT wamid, wa_message_id FROM mensajes_enviados WHERE wamid = ANY(:w)"),
            {"w": sorted(buscados)},
        )
        for wamid, propio in filas:
            propio_de.setdefault(wamid, propio)
    eventos: list[Evento] = []
    for evento in lectura.eventos:
        if isinstance(evento, EventoEstado) and evento.wa_message_id in propio_de:
            evento = dataclasses.replace(evento, wa_message_id=propio_de[evento.wa_message_id])
        elif isinstance(evento, EventoMensaje) and evento.referencia_id in propio_de:
            evento = dataclasses.replace(evento, referencia_id=propio_de[evento.referencia_id or ""])
        eventos.append(evento)
    lectura.correlaciones.update({propio: wamid for wamid, propio in propio_de.items()})
    return eventos


async def _fila_por_wamid(session: AsyncSession, agente_id: int, wamid: str, propio: str | None) -> Any:
    return (
        await session.execute(
            text(
                "SELECT id, campana_id, medio FROM mensajes_enviados WHERE agente_id = :a"
                " AND (wamid = :w OR wa_message_id = :p) LIMIT 1"
            ),
            {"a": agente_id, "w": wamid, "p": propio or wamid},
        )
    ).first()


# ---- pricing ------------------------------------------------------------------------------------


async def guardar_precios(session: AsyncSession, lectura: Lectura) -> int:
    """One pricing row per message (the latest status's object wins: Meta repeats it on each status)."""
    propio_de = {w: p for p, w in lectura.correlaciones.items()}
    guardados = 0
    for precio in lectura.precios:
        fila = await _fila_por_wamid(session, precio.agente_id, precio.wamid, propio_de.get(precio.wamid))
        if fila is None:
            continue
        await session.execute(
            text(
                """INSERT INTO precios_mensajes (mensaje_id, agente_id, campana_id, categoria, facturable, modelo, tipo,
                                                 momento)
                   VALUES (:m, :a, :c, :cat, :f, :mod, :t, :mo)
                   ON CONFLICT (mensaje_id) DO UPDATE SET categoria = EXCLUDED.categoria,
                       facturable = EXCLUDED.facturable, modelo = EXCLUDED.modelo, tipo = EXCLUDED.tipo"""
            ),
            {
                "m": fila.id,
                "a": precio.agente_id,
                "c": fila.campana_id,
                "cat": precio.categoria,
                "f": precio.facturable,
                "mod": precio.modelo,
                "t": precio.tipo,
                "mo": precio.momento,
            },
        )
        guardados += 1
    return guardados


# ---- templates ------------------------------------------------------------------------------------


async def _plantillas_con_nombre(session: AsyncSession, nombre: str, idioma: str | None) -> list[Plantilla]:
    filas = (
        await session.scalars(select(Plantilla).where(Plantilla.plantilla_oficial["nombre"].astext == nombre))
    ).all()
    return [p for p in filas if idioma is None or str((p.plantilla_oficial or {}).get("idioma") or "es_MX") == idioma]


async def detener_campanas_de_plantilla(
    session: AsyncSession, plantilla_ids: list[int], motivo: str, ahora: datetime
) -> list[int]:
    """Pause the running campaigns that use these templates, with the reason shown in the panel."""
    if not plantilla_ids:
        return []
    campanas = (
        await session.scalars(
            select(Campana)
            .where(Campana.plantilla_id.in_(plantilla_ids), Campana.estado.in_(("activa", "programada")))
            .with_for_update()
        )
    ).all()
    for campana in campanas:
        campana.estado = "pausada"
        campana.motivo_pausa = motivo
        emitir(
            session,
            "campana.pausada",
            {"campana_id": campana.id, "agente_id": campana.agente_id, "motivo": motivo, "momento": ahora.isoformat()},
            [f"campana:{campana.id}", *await salas_de_agente(session, campana.agente_id)],
        )
        log.warning("campana_pausada_por_plantilla", campana_id=campana.id)
    return [c.id for c in campanas]


async def aplicar_estado_plantilla(
    session: AsyncSession, nombre: str, idioma: str | None, estado: str, motivo: str | None, ahora: datetime
) -> list[int]:
    """Record Meta's review of a template; a rejected/paused/disabled one stops its campaigns."""
    plantillas = await _plantillas_con_nombre(session, nombre, idioma)
    for p in plantillas:
        p.estado_meta = estado
        p.motivo_meta = motivo
        p.estado_meta_at = ahora
    if estado not in ESTADOS_PLANTILLA_DETENIDA:
        return []
    texto = f"Meta marcó la plantilla «{nombre}» como {NOMBRES_ESTADO_PLANTILLA.get(estado, estado)}"
    texto += f" ({motivo})." if motivo and motivo != "NONE" else "."
    return await detener_campanas_de_plantilla(session, [p.id for p in plantillas], texto, ahora)


async def plantillas_detenidas_por_envio(session: AsyncSession, lectura: Lectura, ahora: datetime) -> None:
    """A failed status with 132001/132015/132016: the template of that row is unusable."""
    propio_de = {w: p for p, w in lectura.correlaciones.items()}
    for agente_id, wamid, codigo, motivo in lectura.plantillas_detenidas:
        fila = await _fila_por_wamid(session, agente_id, wamid, propio_de.get(wamid))
        oficial = ((fila.medio or {}).get("plantilla") if fila is not None else None) or {}
        if oficial.get("nombre"):
            estado = {132015: "PAUSED", 132016: "DISABLED"}.get(codigo, "REJECTED")
            await aplicar_estado_plantilla(
                session, oficial["nombre"], oficial.get("idioma"), estado, f"código {codigo}: {motivo}", ahora
            )


# ---- line quality, tier and account --------------------------------------------------------------


def _digitos(valor: Any) -> str:
    return "".join(c for c in str(valor or "") if c.isdigit())


async def _lineas_de(session: AsyncSession, waba_id: str, numero: Any) -> list[LineaOficial]:
    filas = (await session.scalars(select(LineaOficial).where(LineaOficial.waba_id == waba_id))).all()
    digitos = _digitos(numero)
    if not digitos:
        return list(filas)
    return [linea for linea in filas if _digitos(linea.numero) and _digitos(linea.numero)[-10:] == digitos[-10:]]


def limite_nivel(nivel: str) -> int | None:
    """Business-initiated conversations allowed per rolling 24 h; None = unlimited."""
    if nivel == NIVEL_ILIMITADO:
        return None
    return NIVELES.get(nivel, NIVELES["TIER_250"])


async def _avisar_linea(session: AsyncSession, linea: LineaOficial, ahora: datetime) -> None:
    emitir(
        session,
        "linea_oficial.calidad",
        {
            "linea_id": linea.id,
            "agente_id": linea.agente_id,
            "calidad": linea.calidad,
            "nivel": linea.nivel,
            "marcada": linea.marcada,
            "estado_cuenta": linea.estado_cuenta,
            "momento": ahora.isoformat(),
        },
        await salas_de_agente(session, linea.agente_id),
    )


async def registrar_calidad(
    session: AsyncSession,
    linea: LineaOficial,
    *,
    campo: str,
    evento: str,
    ahora: datetime,
    calidad: str | None = None,
    nivel: str | None = None,
    marcada: bool | None = None,
    estado_cuenta: str | None = None,
    detalle: dict[str, Any] | None = None,
) -> None:
    """Apply a quality/tier/account change to the line and append it to its history."""
    if calidad and calidad in ("GREEN", "YELLOW", "RED", "UNKNOWN"):
        linea.calidad = calidad
    if nivel:
        linea.nivel = nivel
    if marcada is not None:
        linea.marcada = marcada
    if estado_cuenta is not None:
        linea.estado_cuenta = estado_cuenta
    linea.calidad_at = ahora
    session.add(
        HistorialLinea(
            linea_id=linea.id,
            momento=ahora,
            campo=campo,
            evento=evento,
            calidad=linea.calidad,
            nivel=linea.nivel,
            detalle=detalle,
        )
    )
    await _avisar_linea(session, linea, ahora)


async def aplicar_cuenta(session: AsyncSession, eventos: list[EventoCuenta], ahora: datetime, parar: Any) -> None:
    """WABA-level webhooks. `parar(session, agente_id, motivo, detalle)` stores a safety stop."""
    for ev in eventos:
        v = ev.valor
        if ev.campo == "message_template_status_update":
            nombre = v.get("message_template_name")
            if nombre:
                await aplicar_estado_plantilla(
                    session,
                    str(nombre),
                    v.get("message_template_language"),
                    str(v.get("event") or "").upper(),
                    v.get("reason"),
                    ahora,
                )
            continue
        lineas = await _lineas_de(session, ev.waba_id, v.get("display_phone_number") or v.get("phone_number"))
        evento = str(v.get("event") or "").upper()
        for linea in lineas:
            if ev.campo == "phone_number_quality_update":
                marcada = {"FLAGGED": True, "UNFLAGGED": False}.get(evento)
                nivel = v.get("current_limit") or v.get("max_daily_conversations_per_business")
                await registrar_calidad(
                    session,
                    linea,
                    campo=ev.campo,
                    evento=evento,
                    ahora=ahora,
                    nivel=str(nivel) if nivel else None,
                    marcada=marcada,
                    detalle=v,
                )
            else:  # account_update
                await registrar_calidad(
                    session, linea, campo=ev.campo, evento=evento, ahora=ahora, estado_cuenta=evento, detalle=v
                )
                motivo = _motivo_cuenta(v, evento)
                if motivo:
                    await parar(session, linea.agente_id, "oficial_cuenta", motivo)


def _motivo_cuenta(v: dict[str, Any], evento: str) -> str | None:
    """Account events that mean «stop sending from this line now», as a Spanish reason (None: keep going)."""
    if evento == "ACCOUNT_RESTRICTION":
        tipos = [str(r.get("restriction_type")) for r in v.get("restriction_info") or []]
        hasta = [r.get("expiration") for r in v.get("restriction_info") or [] if r.get("expiration")]
        cuando = ""
        if hasta:
            cuando = f" hasta {datetime.fromtimestamp(int(max(hasta)), UTC).strftime('%Y-%m-%d %H:%M')} UTC"
        return f"Meta restringió la cuenta ({', '.join(tipos) or 'sin detalle'}){cuando}."
    if evento in ("DISABLED_UPDATE", "ACCOUNT_DELETED", "PARTNER_REMOVED"):
        ban = (v.get("ban_info") or {}).get("waba_ban_state")
        if evento == "DISABLED_UPDATE" and ban == "REINSTATE":
            return None
        return f"Meta deshabilitó la cuenta de WhatsApp Business ({evento}{', ' + ban if ban else ''})."
    if evento == "ACCOUNT_VIOLATION":
        tipo = (v.get("violation_info") or {}).get("violation_type") or "sin detalle"
        return f"Meta registró una infracción de la cuenta ({tipo}); revisa antes de reanudar."
    return None


MAX_REINTENTOS = 3


async def reprogramar_reintentos(session: AsyncSession, lectura: Lectura, ahora: datetime) -> list[int]:
    """A status failed with «retry later» (131049, 130472...): the row keeps its failure (statuses only move
    forward) and a new row for the same person is queued after the table's wait, at most MAX_REINTENTOS
    times per original message. Returns the new rows' ids."""
    propio_de = {w: p for p, w in lectura.correlaciones.items()}
    nuevas: list[int] = []
    for agente_id, wamid, codigo, espera in lectura.reintentos:
        fila = (
            await session.execute(
                text(
                    "SELECT id, medio, origen FROM mensajes_enviados WHERE agente_id = :a"
                    " AND (wamid = :w OR wa_message_id = :p) AND estado = 'fallido' FOR UPDATE"
                ),
                {"a": agente_id, "w": wamid, "p": propio_de.get(wamid, wamid)},
            )
        ).first()
        if fila is None or fila.origen != "campana":
            continue
        medio = dict(fila.medio or {})
        ya = await session.scalar(
            text("SELECT id FROM mensajes_enviados WHERE medio->>'reintento_de' = :i"), {"i": str(fila.id)}
        )
        intentos = int(medio.get("reintentos", 0)) + 1
        if ya is not None or intentos > MAX_REINTENTOS:
            continue
        medio.update({"reintento_de": str(fila.id), "reintentos": intentos})
        nueva = await session.scalar(
            text(
                """INSERT INTO mensajes_enviados (campana_id, agente_id, contacto_id, origen, numero_origen,
                          numero_destino, destino_jid, mensaje, tipo, medio, variante, mensaje_base, wa_message_id,
                          estado, programado_para)
                   SELECT campana_id, agente_id, contacto_id, origen, numero_origen, numero_destino, destino_jid,
                          mensaje, tipo, CAST(:medio AS jsonb), variante, mensaje_base, :nuevo, 'pendiente', :cuando
                     FROM mensajes_enviados WHERE id = :i
                RETURNING id"""
            ),
            {
                "medio": json.dumps(medio),
                "nuevo": "enl." + uuid.uuid4().hex.upper(),
                "cuando": ahora + timedelta(seconds=espera),
                "i": fila.id,
            },
        )
        await session.execute(
            text("UPDATE mensajes_enviados SET detalle_error = coalesce(detalle_error, '') || :d WHERE id = :i"),
            {"d": f" · se reintenta como el mensaje {nueva} en {espera / 3600:g} h (código {codigo})", "i": fila.id},
        )
        # The campaign has work again (it may have finished while this status was on its way).
        await session.execute(
            text(
                "UPDATE campanas SET estado = 'activa', completada_at = NULL WHERE estado = 'completada'"
                " AND id = (SELECT campana_id FROM mensajes_enviados WHERE id = :i)"
            ),
            {"i": fila.id},
        )
        nuevas.append(int(nueva))
    return nuevas


async def aplicar_lectura(session: AsyncSession, lectura: Lectura, ahora: datetime, parar: Any) -> None:
    """Everything a webhook carried beyond messages and receipts (after capture, same request)."""
    await reprogramar_reintentos(session, lectura, ahora)
    await guardar_precios(session, lectura)
    await plantillas_detenidas_por_envio(session, lectura, ahora)
    await aplicar_cuenta(session, lectura.cuenta, ahora, parar)


# ---- the dispatcher's gate for official lines ---------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class BloqueoLinea:
    codigo: str  # limite_nivel | linea_pausada
    mensaje: str
    reintentar_en: datetime | None


async def revisar_linea(
    session: AsyncSession, *, agente_id: int, telefono: str, tipo: str, medio: dict[str, Any] | None, ahora: datetime
) -> BloqueoLinea | None:
    """Business-initiated (template) sends on an official line: tier per rolling 24 h, marketing pause."""
    if tipo != "plantilla":
        return None
    linea = await session.scalar(select(LineaOficial).where(LineaOficial.agente_id == agente_id))
    if linea is None:
        return None
    categoria = str(((medio or {}).get("plantilla") or {}).get("categoria") or "MARKETING").upper()
    if categoria == "MARKETING" and (linea.calidad == "RED" or linea.marcada):
        causa = "calidad ROJA" if linea.calidad == "RED" else "el número fue marcado (FLAGGED) por Meta"
        return BloqueoLinea(
            "linea_pausada",
            f"Marketing en pausa en esta línea oficial: {causa}. Se reintenta cada hora.",
            ahora + timedelta(hours=1),
        )
    limite = limite_nivel(linea.nivel)
    if limite is None:
        return None
    desde = ahora - timedelta(hours=24)
    filas = (
        await session.execute(
            text(
                """SELECT numero_destino, max(coalesce(intentado_at, enviado_at)) AS ultimo
                     FROM mensajes_enviados
                    WHERE agente_id = :a AND tipo = 'plantilla'
                      AND estado IN ('enviando', 'enviado', 'entregado', 'leido', 'incierto')
                      AND coalesce(intentado_at, enviado_at) >= :d
                 GROUP BY numero_destino"""
            ),
            {"a": agente_id, "d": desde},
        )
    ).all()
    personas = {f.numero_destino: f.ultimo for f in filas}
    if telefono in personas or len(personas) < limite:
        return None
    libre = sorted(personas.values())[len(personas) - limite] + timedelta(hours=24)
    return BloqueoLinea(
        "limite_nivel",
        f"La línea alcanzó su límite de {limite} conversaciones iniciadas por la empresa en 24 h ({linea.nivel}).",
        max(libre, ahora + timedelta(seconds=1)),
    )


def numeros_por_phone_id(numeros: list[NumeroOficial]) -> dict[str, NumeroOficial]:
    return {n.phone_number_id: n for n in numeros}
