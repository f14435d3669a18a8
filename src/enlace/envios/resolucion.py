"""Number resolution before first contact: ask WhatsApp (`onWhatsApp`) where each number is registered.

WhatsApp registers Mexican mobiles as `521`+10 digits and maps `52`→`521` only in the lookup; a send to
any other id is accepted and never delivered. So no campaign row is claimed until its contact has been
looked up within `ttl`: the answer (jid, LID when known, moment) is stored on the contact, sends go to
that jid only, and rows to numbers that are not on WhatsApp end `sin_whatsapp` without being sent.

Lookups are activity WhatsApp watches too: each session looks up in batches, with a pause between
batches and at most `max_hora` numbers per rolling hour (counted in `consultas_numero`, so a restart
does not reset it). Official (Cloud API) campaigns need no lookup: Meta resolves the number itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from enlace.comun.telefonos import digitos_de
from enlace.db.sesion import transaccion
from enlace.motores.base import ErrorMotor, Motor
from enlace.reloj import Reloj

log = structlog.get_logger(__name__)

DETALLE_SIN_WHATSAPP = "El número no tiene WhatsApp: no se envió."

# Campaign rows of the agent that wait for a lookup, earliest due first (the order the dispatcher sends in).
_POR_RESOLVER = """
    SELECT k.id, k.telefono
      FROM mensajes_enviados m
      LEFT JOIN campanas c ON c.id = m.campana_id
      JOIN contactos k ON k.id = m.contacto_id
     WHERE m.agente_id = :agente AND m.estado = 'pendiente'
       AND ((c.estado = 'activa' AND c.canal <> 'oficial')
            OR (m.campana_id IS NULL AND m.origen IN ('respuesta', 'sistema')))
       AND (k.wa_verificado_at IS NULL OR k.wa_verificado_at < :vigente)
     GROUP BY k.id, k.telefono
     ORDER BY bool_and(m.campana_id IS NOT NULL), min(coalesce(m.programado_para, '-infinity'::timestamptz)),
              min(m.id)
     LIMIT :limite
"""
# ^ Inbox replies and confirmations first (someone is waiting for them), then campaign rows in sending order.

# Contacts whose check was invalidated (a send to their jid got no delivery) and have nothing pending.
_POR_REVISAR = """
    SELECT k.id, k.telefono FROM contactos k
     WHERE k.agente_id = :agente AND k.en_whatsapp IS NOT NULL AND k.wa_verificado_at IS NULL
     ORDER BY k.id
     LIMIT :limite
"""


@dataclass(slots=True)
class ResultadoLote:
    consultados: int = 0
    en_whatsapp: int = 0
    sin_whatsapp: int = 0
    filas_sin_whatsapp: list[tuple[int, int | None]] | None = None  # (mensaje id, campana id)
    siguiente: datetime | None = None  # when this session may look up again (pause or hourly cap)


class Resolutor:
    """Looks up, for one session at a time, the numbers its upcoming campaign rows go to."""

    def __init__(
        self,
        *,
        reloj: Reloj,
        fabrica: async_sessionmaker[AsyncSession],
        motor: Motor,
        ttl_s: float = 30 * 86400,
        lote: int = 50,
        pausa_s: float = 20.0,
        max_hora: int = 300,
    ) -> None:
        self.reloj = reloj
        self.fabrica = fabrica
        self.motor = motor
        self.ttl_s = ttl_s
        self.lote = lote
        self.pausa_s = pausa_s
        self.max_hora = max_hora

    def vigente_desde(self, ahora: datetime) -> datetime:
        """Checks made before this instant are stale."""
        return ahora - timedelta(seconds=self.ttl_s)

    async def cerrar_sin_whatsapp(
        self, s: AsyncSession, agente_id: int, ahora: datetime
    ) -> list[tuple[int, int | None]]:
        """Pending campaign rows to numbers a valid check says are not on WhatsApp: terminal, never sent."""
        filas = await s.execute(
            text(
                """UPDATE mensajes_enviados m SET estado = 'sin_whatsapp', detalle_error = :d
                     FROM contactos k
                    WHERE m.contacto_id = k.id AND m.agente_id = :agente AND m.estado = 'pendiente'
                      AND NOT EXISTS (SELECT 1 FROM campanas c WHERE c.id = m.campana_id AND c.canal = 'oficial')
                      AND k.en_whatsapp IS FALSE AND k.wa_verificado_at >= :vigente
                RETURNING m.id, m.campana_id"""
            ),
            {"agente": agente_id, "vigente": self.vigente_desde(ahora), "d": DETALLE_SIN_WHATSAPP},
        )
        return [(r[0], r[1]) for r in filas]

    async def _cupo(self, s: AsyncSession, agente_id: int, ahora: datetime) -> tuple[int, datetime | None]:
        """How many numbers may be looked up now, and when the next lookup may start if none."""
        hora = ahora - timedelta(hours=1)
        usados, ultimo = (
            await s.execute(
                text(
                    "SELECT coalesce(sum(numeros) FILTER (WHERE momento > :hora), 0), max(momento)"
                    " FROM consultas_numero WHERE agente_id = :agente"
                ),
                {"agente": agente_id, "hora": hora},
            )
        ).one()
        if ultimo is not None and ultimo + timedelta(seconds=self.pausa_s) > ahora:
            return 0, ultimo + timedelta(seconds=self.pausa_s)
        libres = self.max_hora - int(usados)
        if libres > 0:
            return min(libres, self.lote), None
        # Capped: the window frees up as the oldest lookups in it turn an hour old.
        ventana = (
            await s.execute(
                text(
                    "SELECT momento, numeros FROM consultas_numero WHERE agente_id = :agente AND momento > :hora"
                    " ORDER BY momento"
                ),
                {"agente": agente_id, "hora": hora},
            )
        ).all()
        exceso = int(usados) - self.max_hora + 1
        for momento, numeros in ventana:
            exceso -= numeros
            if exceso <= 0:
                return 0, momento + timedelta(hours=1)
        return 0, ahora + timedelta(seconds=self.pausa_s)

    async def resolver_lote(self, agente_id: int) -> ResultadoLote:
        """One paced step for the session: close rows already known not on WhatsApp, then look up a batch."""
        ahora = self.reloj.ahora()
        resultado = ResultadoLote()
        async with transaccion(self.fabrica) as s:
            resultado.filas_sin_whatsapp = await self.cerrar_sin_whatsapp(s, agente_id, ahora)
            limite, siguiente = await self._cupo(s, agente_id, ahora)
            if limite <= 0:
                resultado.siguiente = siguiente
                return resultado
            params = {"agente": agente_id, "vigente": self.vigente_desde(ahora), "limite": limite}
            contactos = list((await s.execute(text(_POR_RESOLVER), params)).all())
            if len(contactos) < limite:
                vistos = {c[0] for c in contactos}
                extra = (await s.execute(text(_POR_REVISAR), {"agente": agente_id, "limite": limite})).all()
                contactos += [c for c in extra if c[0] not in vistos][: limite - len(contactos)]
        if not contactos:
            return resultado
        por_digitos = {digitos_de(telefono): contacto_id for contacto_id, telefono in contactos}
        try:
            respuesta = await self.motor.consultar_numero(agente_id, list(por_digitos))
        except ErrorMotor as exc:
            log.warning("resolucion_fallida", agente_id=agente_id, error=str(exc))
            resultado.siguiente = ahora + timedelta(seconds=self.pausa_s)
            return resultado
        ahora = self.reloj.ahora()
        encontrados = {digitos: jid for digitos, jid in respuesta.items() if jid}
        async with transaccion(self.fabrica) as s:
            await s.execute(
                text(
                    "INSERT INTO consultas_numero (agente_id, momento, numeros, encontrados)"
                    " VALUES (:agente, :momento, :n, :e)"
                ),
                {"agente": agente_id, "momento": ahora, "n": len(por_digitos), "e": len(encontrados)},
            )
            for digitos, contacto_id in por_digitos.items():
                await self._guardar(s, contacto_id, encontrados.get(digitos), ahora)
            resultado.filas_sin_whatsapp += await self.cerrar_sin_whatsapp(s, agente_id, ahora)
        resultado.consultados = len(por_digitos)
        resultado.en_whatsapp = len(encontrados)
        resultado.sin_whatsapp = len(por_digitos) - len(encontrados)
        resultado.siguiente = ahora + timedelta(seconds=self.pausa_s)
        log.info(
            "resolucion_lote",
            agente_id=agente_id,
            consultados=resultado.consultados,
            sin_whatsapp=resultado.sin_whatsapp,
        )
        return resultado

    async def _guardar(self, s: AsyncSession, contacto_id: int, jid: str | None, ahora: datetime) -> None:
        """Store the answer on the contact; the LID comes from what capture already mapped for that phone."""
        await s.execute(
            text(
                """UPDATE contactos k SET en_whatsapp = :en, wa_verificado_at = :ahora,
                          telefono_wa = CASE WHEN :en THEN :jid ELSE k.telefono_wa END,
                          wa_lid = coalesce(
                              (SELECT valor FROM mapeos_identificador
                                WHERE telefono = k.telefono AND tipo = 'lid'
                                ORDER BY actualizado_at DESC LIMIT 1),
                              k.wa_lid)
                    WHERE k.id = :id"""
            ),
            {"en": jid is not None, "jid": jid, "ahora": ahora, "id": contacto_id},
        )
        if jid is not None:
            await s.execute(
                text(
                    "INSERT INTO identificadores_contacto (contacto_id, tipo, valor) VALUES (:c, 'wa_jid', :v)"
                    " ON CONFLICT (valor) DO NOTHING"
                ),
                {"c": contacto_id, "v": jid},
            )
