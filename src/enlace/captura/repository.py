"""All SQL of capture: multi-row statements (unnest of arrays) so one batch costs a handful of round trips."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from enlace.captura.estados import Resumen
from enlace.captura.plan import Clave, Recibo
from enlace.mensajes.estados import RANGO, SALIDOS, sql_en, sql_rango

# A reply is tied to the last message sent before it; phones and servers disagree by a few seconds.
TOLERANCIA_RELOJ = "interval '60 seconds'"
# An echo proves the message left: rows below this rank become `enviado`.
_RANGO_ENVIADO = RANGO["enviado"]

_RANGO_ACTUAL = sql_rango("m.estado")
_RANGO_NUEVO = sql_rango("v.estado")


@dataclass(slots=True)
class InfoAgente:
    id: int
    numero_wa: str | None
    equipo_id: int | None


@dataclass(slots=True)
class InfoContacto:
    id: int
    telefono: str
    agente_id: int | None
    estado: str
    telefono_wa: str | None = None


@dataclass(slots=True)
class FilaEnviada:
    id: int
    agente_id: int
    wa_message_id: str
    estado: str
    campana_id: int | None
    contacto_id: int | None
    numero_destino: str | None
    origen: str
    insertada: bool = False
    estado_anterior: str | None = None
    # Only filled by `enviados_existentes` (to tell whether an echo would change the row at all).
    enviado_at: datetime | None = None
    completa: bool = False  # numero_origen, numero_destino and destino_jid all set


@dataclass(slots=True)
class FilaRecibida:
    id: int
    agente_id: int
    wa_message_id: str
    contacto_id: int | None
    campana_id: int | None
    mensaje_origen_id: int | None
    numero_origen: str | None
    recibido_at: datetime


async def agentes(session: AsyncSession, ids: Sequence[int]) -> dict[int, InfoAgente]:
    if not ids:
        return {}
    filas = await session.execute(
        text("SELECT id, numero_wa, equipo_id FROM agentes WHERE id = ANY(CAST(:ids AS int[]))"), {"ids": list(ids)}
    )
    return {f.id: InfoAgente(f.id, f.numero_wa, f.equipo_id) for f in filas}


async def contactos_por_telefono(session: AsyncSession, telefonos: Sequence[str]) -> dict[str, InfoContacto]:
    if not telefonos:
        return {}
    filas = await session.execute(
        text(
            "SELECT id, telefono, agente_id, estado, telefono_wa FROM contactos "
            "WHERE telefono = ANY(CAST(:t AS text[]))"
        ),
        {"t": list(telefonos)},
    )
    return {f.telefono: InfoContacto(f.id, f.telefono, f.agente_id, f.estado, f.telefono_wa) for f in filas}


async def telefonos_escritos_por_sistema(session: AsyncSession, telefonos: Sequence[str]) -> set[str]:
    """Phones Enlace itself wrote to (campaign, inbox reply, opt-out notice), any agent."""
    if not telefonos:
        return set()
    filas = await session.execute(
        text(
            "SELECT DISTINCT numero_destino FROM mensajes_enviados "
            "WHERE numero_destino = ANY(CAST(:t AS text[])) AND origen <> 'telefono'"
        ),
        {"t": list(telefonos)},
    )
    return {f[0] for f in filas}


async def enviados_existentes(session: AsyncSession, claves: Sequence[Clave]) -> dict[Clave, FilaEnviada]:
    """Rows already in mensajes_enviados for these (agente_id, wa_message_id) keys (echoes and receipts)."""
    if not claves:
        return {}
    filas = await session.execute(
        text(
            "SELECT m.id, m.agente_id, m.wa_message_id, m.estado, m.campana_id, m.contacto_id, m.numero_destino,"
            " m.origen, false, NULL, m.enviado_at,"
            " (m.numero_origen IS NOT NULL AND m.numero_destino IS NOT NULL AND m.destino_jid IS NOT NULL)"
            " FROM mensajes_enviados m"
            " JOIN unnest(CAST(:a AS int[]), CAST(:w AS text[])) AS v(agente_id, wa)"
            "   ON m.agente_id = v.agente_id AND m.wa_message_id = v.wa"
        ),
        {"a": [c[0] for c in claves], "w": [c[1] for c in claves]},
    )
    return {(f.agente_id, f.wa_message_id): FilaEnviada(*f) for f in filas}


async def existentes_y_contactos(
    session: AsyncSession, claves: Sequence[Clave], telefonos: Sequence[str]
) -> tuple[dict[Clave, FilaEnviada], dict[str, InfoContacto]]:
    """`enviados_existentes` and `contactos_por_telefono` in one round trip (a batch needs both)."""
    if not claves or not telefonos:
        return await enviados_existentes(session, claves), await contactos_por_telefono(session, telefonos)
    filas = await session.execute(
        text(
            "SELECT 'm' AS k, m.id, m.agente_id, m.wa_message_id, m.estado, m.campana_id, m.contacto_id,"
            " m.numero_destino, m.origen, m.enviado_at,"
            " (m.numero_origen IS NOT NULL AND m.numero_destino IS NOT NULL AND m.destino_jid IS NOT NULL) AS completa,"
            " NULL AS telefono_wa"
            " FROM mensajes_enviados m"
            " JOIN unnest(CAST(:a AS int[]), CAST(:w AS text[])) AS v(agente_id, wa)"
            "   ON m.agente_id = v.agente_id AND m.wa_message_id = v.wa"
            " UNION ALL"
            " SELECT 'c', c.id, c.agente_id, NULL, c.estado, NULL, NULL, c.telefono, NULL, NULL, NULL, c.telefono_wa"
            " FROM contactos c WHERE c.telefono = ANY(CAST(:t AS text[]))"
        ),
        {"a": [c[0] for c in claves], "w": [c[1] for c in claves], "t": list(telefonos)},
    )
    existentes: dict[Clave, FilaEnviada] = {}
    contactos: dict[str, InfoContacto] = {}
    for f in filas:
        if f.k == "m":
            existentes[(f.agente_id, f.wa_message_id)] = FilaEnviada(
                f.id,
                f.agente_id,
                f.wa_message_id,
                f.estado,
                f.campana_id,
                f.contacto_id,
                f.numero_destino,
                f.origen,
                False,
                None,
                f.enviado_at,
                bool(f.completa),
            )
        else:
            contactos[f.numero_destino] = InfoContacto(f.id, f.numero_destino, f.agente_id, f.estado, f.telefono_wa)
    return existentes, contactos


# ---- identifier maps --------------------------------------------------------------------------


async def registrar_jids_vistos(session: AsyncSession, vistos: dict[str, tuple[str, datetime]]) -> None:
    """Contacts seen writing from a phone jid: that jid is their registered one (as good as a lookup)."""
    if not vistos:
        return
    telefonos = sorted(vistos)  # stable order: parallel batches never deadlock on these rows
    await session.execute(
        text(
            "UPDATE contactos k SET telefono_wa = v.jid, en_whatsapp = true,"
            " wa_verificado_at = GREATEST(k.wa_verificado_at, v.momento)"
            " FROM unnest(CAST(:t AS text[]), CAST(:j AS text[]), CAST(:m AS timestamptz[])) AS v(tel, jid, momento)"
            " WHERE k.telefono = v.tel AND (k.telefono_wa IS DISTINCT FROM v.jid OR k.en_whatsapp IS NOT TRUE"
            " OR k.wa_verificado_at IS NULL OR k.wa_verificado_at < v.momento)"
        ),
        {
            "t": telefonos,
            "j": [vistos[t][0] for t in telefonos],
            "m": [vistos[t][1] for t in telefonos],
        },
    )


async def guardar_mapeos(session: AsyncSession, mapeos: dict[str, str], ahora: datetime) -> None:
    """LID (or Cloud API user id) -> phone, kept for later messages; contacts also get it as an identifier."""
    if not mapeos:
        return
    lids = sorted(mapeos)  # a stable order: parallel batches never deadlock on these rows
    tels = [mapeos[x] for x in lids]
    await session.execute(
        text(
            "INSERT INTO mapeos_identificador (valor, tipo, telefono, actualizado_at)"
            " SELECT v.valor, CASE WHEN v.valor LIKE '%@lid' THEN 'lid' ELSE 'bsuid' END, v.tel, :ahora"
            " FROM unnest(CAST(:l AS text[]), CAST(:t AS text[])) AS v(valor, tel)"
            " ON CONFLICT (valor) DO UPDATE SET telefono = EXCLUDED.telefono, actualizado_at = EXCLUDED.actualizado_at"
            " WHERE mapeos_identificador.telefono IS DISTINCT FROM EXCLUDED.telefono"
        ),
        {"l": lids, "t": tels, "ahora": ahora},
    )
    await session.execute(
        text(
            "INSERT INTO identificadores_contacto (contacto_id, tipo, valor)"
            " SELECT c.id, CASE WHEN v.valor LIKE '%@lid' THEN 'lid' ELSE 'bsuid' END, v.valor"
            " FROM unnest(CAST(:l AS text[]), CAST(:t AS text[])) AS v(valor, tel)"
            " JOIN contactos c ON c.telefono = v.tel"
            " ON CONFLICT (valor) DO NOTHING"
        ),
        {"l": lids, "t": tels},
    )


async def mapeos_conocidos(session: AsyncSession, valores: Sequence[str]) -> dict[str, str]:
    if not valores:
        return {}
    filas = await session.execute(
        text(
            "SELECT valor, telefono FROM mapeos_identificador WHERE valor = ANY(CAST(:v AS text[]))"
            " AND telefono IS NOT NULL"
        ),
        {"v": list(valores)},
    )
    return {f.valor: f.telefono for f in filas}


async def completar_telefono_por_lid(session: AsyncSession, mapeos: dict[str, str]) -> None:
    """Messages stored before their LID was mapped (scope `todo`) get their phone now."""
    if not mapeos:
        return
    lids = sorted(mapeos)
    await session.execute(
        text(
            "UPDATE mensajes_recibidos r SET numero_origen = v.tel"
            " FROM unnest(CAST(:l AS text[]), CAST(:t AS text[])) AS v(lid, tel)"
            " WHERE r.numero_origen IS NULL AND r.chat_jid = v.lid"
        ),
        {"l": lids, "t": [mapeos[x] for x in lids]},
    )


# ---- sent messages (echoes and phone-typed) ----------------------------------------------------


async def upsert_enviados(session: AsyncSession, filas: list[dict[str, Any]]) -> list[FilaEnviada]:
    """Insert phone-typed messages, or move an existing row (system-sent) to at least `enviado`.

    One statement for the whole batch. The echo is proof the message left the phone, so a row in
    pendiente/enviando/incierto becomes enviado; a row already further on is left alone.
    """
    if not filas:
        return []
    cols = {
        "a": [f["agente_id"] for f in filas],
        "w": [f["wa_message_id"] for f in filas],
        "o": [f["origen"] for f in filas],
        "no": [f["numero_origen"] for f in filas],
        "nd": [f["numero_destino"] for f in filas],
        "dj": [f["destino_jid"] for f in filas],
        "m": [f["mensaje"] for f in filas],
        "ti": [f["tipo"] for f in filas],
        "me": [json.dumps(f["medio"]) if f["medio"] is not None else None for f in filas],
        "c": [f["contacto_id"] for f in filas],
        "e": [f["enviado_at"] for f in filas],
    }
    resultado = await session.execute(
        text(
            f"""
            WITH v AS (
                SELECT * FROM unnest(
                    CAST(:a AS int[]), CAST(:w AS text[]), CAST(:o AS text[]), CAST(:no AS text[]),
                    CAST(:nd AS text[]), CAST(:dj AS text[]), CAST(:m AS text[]), CAST(:ti AS text[]),
                    CAST(:me AS jsonb[]), CAST(:c AS int[]), CAST(:e AS timestamptz[])
                ) AS v(agente_id, wa, origen, numero_origen, numero_destino, destino_jid, mensaje, tipo, medio,
                       contacto_id, enviado_at)
            )
            INSERT INTO mensajes_enviados AS m
                (agente_id, wa_message_id, origen, numero_origen, numero_destino, destino_jid, mensaje, tipo, medio,
                 contacto_id, estado, enviado_at)
            SELECT agente_id, wa, origen, numero_origen, numero_destino, destino_jid, mensaje, tipo, medio,
                   contacto_id, 'enviado', enviado_at FROM v
            ON CONFLICT (agente_id, wa_message_id) DO UPDATE SET
                estado = CASE WHEN {sql_rango("m.estado")} < {_RANGO_ENVIADO} THEN 'enviado' ELSE m.estado END,
                enviado_at = LEAST(m.enviado_at, EXCLUDED.enviado_at),
                numero_destino = COALESCE(m.numero_destino, EXCLUDED.numero_destino),
                destino_jid = COALESCE(m.destino_jid, EXCLUDED.destino_jid),
                numero_origen = COALESCE(m.numero_origen, EXCLUDED.numero_origen)
            -- An echo that changes nothing writes nothing (no dead tuple, no index churn).
            WHERE {sql_rango("m.estado")} < {_RANGO_ENVIADO}
               OR m.enviado_at IS NULL OR m.enviado_at > EXCLUDED.enviado_at
               OR (m.numero_destino IS NULL AND EXCLUDED.numero_destino IS NOT NULL)
               OR (m.destino_jid IS NULL AND EXCLUDED.destino_jid IS NOT NULL)
               OR (m.numero_origen IS NULL AND EXCLUDED.numero_origen IS NOT NULL)
            RETURNING m.id, m.agente_id, m.wa_message_id, m.estado, m.campana_id, m.contacto_id, m.numero_destino,
                      m.origen, (m.xmax = 0) AS insertada
            """
        ),
        cols,
    )
    return [FilaEnviada(*f) for f in resultado]


# ---- receipts ----------------------------------------------------------------------------------


async def aplicar_recibos(
    session: AsyncSession, recibos: list[tuple[int, Recibo]], resumenes: dict[int, Resumen]
) -> list[FilaEnviada]:
    """One statement: append every receipt to eventos_entrega and merge the summaries into their rows.

    estado moves by rank (never backwards), times by LEAST, the first error code is kept. Rows the
    receipts do not change are not rewritten. Returns the rows that changed, as they are now.
    """
    if not recibos:
        return []
    ids = sorted(resumenes)  # stable lock order
    rs = [resumenes[i] for i in ids]
    resultado = await session.execute(
        text(
            f"""
            WITH eventos AS (
                INSERT INTO eventos_entrega (mensaje_id, tipo, timestamp, codigo_error, detalle)
                SELECT * FROM unnest(CAST(:ri AS bigint[]), CAST(:rt AS text[]), CAST(:rm AS timestamptz[]),
                                     CAST(:rc AS int[]), CAST(:rd AS text[]))
            ),
            v AS (
                SELECT * FROM unnest(
                    CAST(:i AS bigint[]), CAST(:e AS text[]), CAST(:ea AS timestamptz[]),
                    CAST(:ga AS timestamptz[]), CAST(:la AS timestamptz[]), CAST(:fa AS timestamptz[]),
                    CAST(:c AS int[]), CAST(:d AS text[])
                ) AS v(id, estado, enviado_at, entregado_at, leido_at, fallido_at, codigo_error, detalle_error)
            )
            UPDATE mensajes_enviados AS m SET
                estado = CASE WHEN {_RANGO_NUEVO} > {_RANGO_ACTUAL} THEN v.estado ELSE m.estado END,
                enviado_at = LEAST(m.enviado_at, v.enviado_at),
                entregado_at = LEAST(m.entregado_at, v.entregado_at),
                leido_at = LEAST(m.leido_at, v.leido_at),
                fallido_at = LEAST(m.fallido_at, v.fallido_at),
                codigo_error = COALESCE(m.codigo_error, v.codigo_error),
                detalle_error = COALESCE(m.detalle_error, v.detalle_error)
            FROM v
            WHERE m.id = v.id AND (
                {_RANGO_NUEVO} > {_RANGO_ACTUAL}
                OR LEAST(m.enviado_at, v.enviado_at) IS DISTINCT FROM m.enviado_at
                OR LEAST(m.entregado_at, v.entregado_at) IS DISTINCT FROM m.entregado_at
                OR LEAST(m.leido_at, v.leido_at) IS DISTINCT FROM m.leido_at
                OR LEAST(m.fallido_at, v.fallido_at) IS DISTINCT FROM m.fallido_at
                OR (m.codigo_error IS NULL AND v.codigo_error IS NOT NULL)
            )
            RETURNING m.id, m.agente_id, m.wa_message_id, m.estado, m.campana_id, m.contacto_id, m.numero_destino,
                      m.origen
            """
        ),
        {
            "ri": [i for i, _ in recibos],
            "rt": [r.tipo for _, r in recibos],
            "rm": [r.momento for _, r in recibos],
            "rc": [r.codigo_error for _, r in recibos],
            "rd": [r.detalle_error for _, r in recibos],
            "i": ids,
            "e": [r.estado for r in rs],
            "ea": [r.enviado_at for r in rs],
            "ga": [r.entregado_at for r in rs],
            "la": [r.leido_at for r in rs],
            "fa": [r.fallido_at for r in rs],
            "c": [r.codigo_error for r in rs],
            "d": [r.detalle_error for r in rs],
        },
    )
    return [FilaEnviada(*f) for f in resultado]


async def guardar_pendientes(session: AsyncSession, recibos: list[Recibo]) -> None:
    if not recibos:
        return
    await session.execute(
        text(
            "INSERT INTO recibos_pendientes (agente_id, wa_message_id, tipo, timestamp, codigo_error, detalle_error)"
            " SELECT * FROM unnest(CAST(:a AS int[]), CAST(:w AS text[]), CAST(:t AS text[]),"
            " CAST(:m AS timestamptz[]), CAST(:c AS int[]), CAST(:d AS text[]))"
        ),
        {
            "a": [r.agente_id for r in recibos],
            "w": [r.wa_message_id for r in recibos],
            "t": [r.tipo for r in recibos],
            "m": [r.momento for r in recibos],
            "c": [r.codigo_error for r in recibos],
            "d": [r.detalle_error for r in recibos],
        },
    )


async def tomar_pendientes(session: AsyncSession, claves: Sequence[Clave] | None) -> list[tuple[int, Recibo]]:
    """Delete and return waiting receipts whose message row now exists (for `claves`, or all when None)."""
    filtro = ""
    params: dict[str, Any] = {}
    if claves is not None:
        if not claves:
            return []
        filtro = " AND (p.agente_id, p.wa_message_id) IN (SELECT * FROM unnest(CAST(:a AS int[]), CAST(:w AS text[])))"
        params = {"a": [c[0] for c in claves], "w": [c[1] for c in claves]}
    filas = await session.execute(
        text(
            "DELETE FROM recibos_pendientes p USING mensajes_enviados m"
            # A Cloud API receipt may name only Meta's wamid (kept on the row once the send returned).
            " WHERE m.agente_id = p.agente_id AND (m.wa_message_id = p.wa_message_id OR m.wamid = p.wa_message_id)"
            + filtro
            + " RETURNING m.id,"
            " p.agente_id, p.wa_message_id, p.tipo, p.timestamp, p.codigo_error, p.detalle_error"
        ),
        params,
    )
    return [(f[0], Recibo(f[1], f[2], f[3], f[4], f[5], f[6])) for f in filas]


async def purgar_pendientes(session: AsyncSession, antes: datetime) -> int:
    """Receipts that never found their message (out-of-scope chats) are dropped after a while.

    By the receipt's own time (engine clock, the same the caller's `antes` comes from), not the row's
    server time: with the accelerated simulator clock the two drift apart.
    """
    resultado = await session.execute(text("DELETE FROM recibos_pendientes WHERE timestamp < :antes"), {"antes": antes})
    return int(resultado.rowcount or 0)  # type: ignore[attr-defined]


# ---- received messages -------------------------------------------------------------------------


async def insertar_recibidos(session: AsyncSession, filas: list[dict[str, Any]]) -> list[FilaRecibida]:
    """Insert replies once (unique per agent + message id), tied to the last message this agent sent there."""
    if not filas:
        return []
    resultado = await session.execute(
        text(
            f"""
            WITH v AS (
                SELECT * FROM unnest(
                    CAST(:a AS int[]), CAST(:w AS text[]), CAST(:no AS text[]), CAST(:nd AS text[]),
                    CAST(:cj AS text[]), CAST(:m AS text[]), CAST(:ti AS text[]), CAST(:me AS jsonb[]),
                    CAST(:rf AS text[]), CAST(:ra AS timestamptz[]), CAST(:c AS int[]), CAST(:cl AS text[]),
                    CAST(:rg AS text[]), CAST(:hi AS boolean[])
                ) AS v(agente_id, wa, numero_origen, numero_destino, chat_jid, mensaje, tipo, medio, referencia_id,
                       recibido_at, contacto_id, clasificacion, regla, historial)
            )
            INSERT INTO mensajes_recibidos AS r
                (agente_id, wa_message_id, numero_origen, numero_destino, chat_jid, mensaje, tipo, medio,
                 referencia_id, recibido_at, contacto_id, mensaje_origen_id, campana_id, clasificacion, regla,
                 historial)
            SELECT v.agente_id, v.wa, v.numero_origen, v.numero_destino, v.chat_jid, v.mensaje, v.tipo, v.medio,
                   v.referencia_id, v.recibido_at, COALESCE(v.contacto_id, o.contacto_id), o.id, o.campana_id,
                   v.clasificacion, v.regla, v.historial
            FROM v
            LEFT JOIN LATERAL (
                SELECT s.id, s.campana_id, s.contacto_id FROM mensajes_enviados s
                WHERE s.agente_id = v.agente_id AND s.numero_destino = v.numero_origen
                  AND {sql_en("s.estado", SALIDOS)}
                  AND (s.enviado_at IS NULL OR s.enviado_at <= v.recibido_at + {TOLERANCIA_RELOJ})
                ORDER BY COALESCE(s.enviado_at, s.intentado_at, s.created_at) DESC, s.id DESC
                LIMIT 1
            ) o ON v.numero_origen IS NOT NULL
            ON CONFLICT (agente_id, wa_message_id) DO NOTHING
            RETURNING r.id, r.agente_id, r.wa_message_id, r.contacto_id, r.campana_id, r.mensaje_origen_id,
                      r.numero_origen, r.recibido_at
            """
        ),
        {
            "a": [f["agente_id"] for f in filas],
            "w": [f["wa_message_id"] for f in filas],
            "no": [f["numero_origen"] for f in filas],
            "nd": [f["numero_destino"] for f in filas],
            "cj": [f["chat_jid"] for f in filas],
            "m": [f["mensaje"] for f in filas],
            "ti": [f["tipo"] for f in filas],
            "me": [json.dumps(f["medio"]) if f["medio"] is not None else None for f in filas],
            "rf": [f["referencia_id"] for f in filas],
            "ra": [f["recibido_at"] for f in filas],
            "c": [f["contacto_id"] for f in filas],
            "cl": [f.get("clasificacion") for f in filas],
            "rg": [f.get("regla") for f in filas],
            "hi": [bool(f.get("historial")) for f in filas],
        },
    )
    return [FilaRecibida(*f) for f in resultado]


_SQL_RESPONDIO = (
    "UPDATE contactos c SET"
    " estado = CASE WHEN c.estado IN ('pendiente', 'contactado') THEN 'respondio' ELSE c.estado END,"
    " ultima_actividad_at = GREATEST(c.ultima_actividad_at, v.momento)"
    " FROM unnest(CAST(:ri AS int[]), CAST(:rm AS timestamptz[])) AS v(id, momento)"
    " WHERE c.id = v.id"
)


def _params_respondio(momentos: dict[int, datetime]) -> dict[str, Any]:
    ids = sorted(momentos)  # stable lock order
    return {"ri": ids, "rm": [momentos[i] for i in ids]}


async def marcar_respondio(session: AsyncSession, momentos: dict[int, datetime]) -> None:
    """Contacts that replied become `respondio` (unless already further: interesado, no_interesado, baja)."""
    if momentos:
        await session.execute(text(_SQL_RESPONDIO), _params_respondio(momentos))


async def aplicar_modificaciones(session: AsyncSession, filas: list[dict[str, Any]]) -> int:
    """Edits and deletes the person made to a message already captured."""
    if not filas:
        return 0
    resultado = await session.execute(
        text(
            "UPDATE mensajes_recibidos r SET"
            " mensaje = CASE WHEN v.borrado THEN r.mensaje ELSE COALESCE(v.texto, r.mensaje) END,"
            " editado_at = CASE WHEN v.borrado THEN r.editado_at ELSE GREATEST(r.editado_at, v.momento) END,"
            " borrado_at = CASE WHEN v.borrado THEN LEAST(r.borrado_at, v.momento) ELSE r.borrado_at END"
            " FROM unnest(CAST(:a AS int[]), CAST(:w AS text[]), CAST(:t AS text[]), CAST(:b AS boolean[]),"
            " CAST(:m AS timestamptz[])) AS v(agente_id, wa, texto, borrado, momento)"
            " WHERE r.agente_id = v.agente_id AND r.wa_message_id = v.wa"
        ),
        {
            "a": [f["agente_id"] for f in filas],
            "w": [f["referencia_id"] for f in filas],
            "t": [f["texto"] for f in filas],
            "b": [f["borrado"] for f in filas],
            "m": [f["momento"] for f in filas],
        },
    )
    return int(resultado.rowcount or 0)  # type: ignore[attr-defined]


async def registrar_ruta_medio(
    session: AsyncSession, tabla: str, agente_id: int, wa_message_id: str, ruta: str
) -> None:
    if tabla not in ("mensajes_recibidos", "mensajes_enviados"):
        raise ValueError(tabla)
    await session.execute(
        text(
            f"UPDATE {tabla} SET medio = COALESCE(medio, '{{}}'::jsonb) || jsonb_build_object('ruta', CAST(:r AS text))"
            " WHERE agente_id = :a AND wa_message_id = :w"
        ),
        {"r": ruta, "a": agente_id, "w": wa_message_id},
    )


# ---- out of scope counters and conversation summaries ------------------------------------------


async def contar_fuera_de_alcance(session: AsyncSession, conteos: dict[tuple[int, date], tuple[int, int]]) -> None:
    if not conteos:
        return
    claves = sorted(conteos)
    await session.execute(
        text(
            "INSERT INTO conteos_fuera_alcance AS c (agente_id, dia, entrantes, salientes)"
            " SELECT * FROM unnest(CAST(:a AS int[]), CAST(:d AS date[]), CAST(:e AS int[]), CAST(:s AS int[]))"
            " ON CONFLICT (agente_id, dia) DO UPDATE SET entrantes = c.entrantes + EXCLUDED.entrantes,"
            " salientes = c.salientes + EXCLUDED.salientes"
        ),
        {
            "a": [k[0] for k in claves],
            "d": [k[1] for k in claves],
            "e": [conteos[k][0] for k in claves],
            "s": [conteos[k][1] for k in claves],
        },
    )


_SQL_CONVERSACIONES = (
    "INSERT INTO conversaciones AS c (agente_id, telefono, contacto_id, ultimo_at, ultimo_texto,"
    " ultimo_direccion, no_leidos)"
    " SELECT * FROM unnest(CAST(:a AS int[]), CAST(:t AS text[]), CAST(:c AS int[]),"
    " CAST(:m AS timestamptz[]), CAST(:x AS text[]), CAST(:d AS text[]), CAST(:n AS int[]))"
    " ON CONFLICT (agente_id, telefono) DO UPDATE SET"
    " contacto_id = COALESCE(EXCLUDED.contacto_id, c.contacto_id),"
    " ultimo_texto = CASE WHEN EXCLUDED.ultimo_at >= c.ultimo_at THEN EXCLUDED.ultimo_texto"
    "   ELSE c.ultimo_texto END,"
    " ultimo_direccion = CASE WHEN EXCLUDED.ultimo_at >= c.ultimo_at THEN EXCLUDED.ultimo_direccion"
    "   ELSE c.ultimo_direccion END,"
    " ultimo_at = GREATEST(c.ultimo_at, EXCLUDED.ultimo_at),"
    " no_leidos = c.no_leidos + EXCLUDED.no_leidos"
)


def _params_conversaciones(filas: list[dict[str, Any]]) -> dict[str, Any]:
    # One row per key (the latest), in a stable order.
    ultimas: dict[tuple[int, str], dict[str, Any]] = {}
    no_leidos: dict[tuple[int, str], int] = {}
    for f in filas:
        k = (f["agente_id"], f["telefono"])
        no_leidos[k] = no_leidos.get(k, 0) + (1 if f["no_leido"] else 0)
        if k not in ultimas or f["momento"] >= ultimas[k]["momento"]:
            ultimas[k] = f
    claves = sorted(ultimas)
    us = [ultimas[k] for k in claves]
    return {
        "a": [k[0] for k in claves],
        "t": [k[1] for k in claves],
        "c": [u["contacto_id"] for u in us],
        "m": [u["momento"] for u in us],
        "x": [(u["texto"] or "")[:200] for u in us],
        "d": [u["direccion"] for u in us],
        "n": [no_leidos[k] for k in claves],
    }


async def actualizar_conversaciones(session: AsyncSession, filas: list[dict[str, Any]]) -> None:
    """One summary row per (agent, phone): last message, preview and unread count, for the inbox list."""
    if filas:
        await session.execute(text(_SQL_CONVERSACIONES), _params_conversaciones(filas))


async def respondio_y_conversaciones(
    session: AsyncSession, momentos: dict[int, datetime], filas: list[dict[str, Any]]
) -> None:
    """Both tail writes of a batch in one round trip when both have rows (a data-modifying CTE)."""
    if not momentos or not filas:
        await marcar_respondio(session, momentos)
        await actualizar_conversaciones(session, filas)
        return
    await session.execute(
        text(f"WITH respondio AS ({_SQL_RESPONDIO}) {_SQL_CONVERSACIONES}"),
        {**_params_respondio(momentos), **_params_conversaciones(filas)},
    )


CLAVE_ALCANCE = "alcance_captura"


async def alcance_guardado(session: AsyncSession) -> str | None:
    """The capture scope an admin set at runtime (`ajustes` table), None when only the environment decides."""
    valor = await session.scalar(text("SELECT valor FROM ajustes WHERE clave = :c"), {"c": CLAVE_ALCANCE})
    return valor if isinstance(valor, str) else None


async def guardar_alcance(session: AsyncSession, valor: str, usuario_id: int | None) -> None:
    await session.execute(
        text(
            "INSERT INTO ajustes (clave, valor, actualizado_por) VALUES (:c, to_jsonb(CAST(:v AS text)), :u)"
            " ON CONFLICT (clave) DO UPDATE SET valor = EXCLUDED.valor, actualizado_por = EXCLUDED.actualizado_por"
        ),
        {"c": CLAVE_ALCANCE, "v": valor, "u": usuario_id or None},
    )


# ---- compliance sweeps ---------------------------------------------------------------------------


async def respuestas_sin_evaluar(session: AsyncSession, gracia_s: float, limite: int) -> list[Any]:
    """Live replies with text that no opt-out decision was stored for (their evaluation failed or never ran)."""
    filas = await session.execute(
        text(
            """SELECT id, agente_id, numero_origen, mensaje, contacto_id FROM mensajes_recibidos
                WHERE clasificacion IS NULL AND mensaje IS NOT NULL AND NOT historial AND borrado_at IS NULL
                  AND created_at < now() - make_interval(secs => :gracia)
                ORDER BY id LIMIT :limite"""
        ),
        {"gracia": gracia_s, "limite": limite},
    )
    return list(filas.all())


async def guardar_baja_de_lid(session: AsyncSession, filas: list[tuple[int, str, str, datetime, int | None]]) -> None:
    """Opt-outs written from a LID whose phone is not known yet: (agente, lid, regla, momento, mensaje id)."""
    if not filas:
        return
    await session.execute(
        text(
            """INSERT INTO bajas_lid_pendientes (agente_id, lid, regla, recibido_at, mensaje_recibido_id)
               SELECT * FROM unnest(CAST(:a AS int[]), CAST(:l AS text[]), CAST(:r AS text[]),
                                    CAST(:m AS timestamptz[]), CAST(:i AS bigint[]))
               ON CONFLICT (agente_id, lid) DO NOTHING"""
        ),
        {
            "a": [f[0] for f in filas],
            "l": [f[1] for f in filas],
            "r": [f[2] for f in filas],
            "m": [f[3] for f in filas],
            "i": [f[4] for f in filas],
        },
    )


async def tomar_bajas_de_lid_mapeadas(session: AsyncSession, limite: int) -> list[Any]:
    """Pending LID opt-outs whose phone is now known (locked and removed; applied in this transaction)."""
    filas = await session.execute(
        text(
            """WITH listas AS (
                   SELECT b.id, m.telefono FROM bajas_lid_pendientes b
                     JOIN mapeos_identificador m ON m.valor = b.lid AND m.telefono IS NOT NULL
                    ORDER BY b.id LIMIT :limite FOR UPDATE OF b SKIP LOCKED)
               DELETE FROM bajas_lid_pendientes b USING listas
                WHERE b.id = listas.id
            RETURNING b.agente_id, listas.telefono, b.regla, b.recibido_at, b.mensaje_recibido_id"""
        ),
        {"limite": limite},
    )
    return list(filas.all())


# ---- batch keys ------------------------------------------------------------------------------------


async def marcar_lote(session: AsyncSession, clave: str) -> bool:
    """Record this batch's key in its own transaction; False when a previous attempt already committed it."""
    return (
        await session.scalar(
            text("INSERT INTO lotes_capturados (clave) VALUES (:c) ON CONFLICT DO NOTHING RETURNING clave"),
            {"c": clave},
        )
    ) is not None


async def purgar_lotes(session: AsyncSession, horas: int = 24) -> None:
    """Keys only matter while their batch may still be retried (seconds to minutes); keep a day."""
    await session.execute(
        text("DELETE FROM lotes_capturados WHERE created_at < now() - make_interval(hours => :h)"), {"h": horas}
    )
