"""Pre-aggregated counters (daily rollup per agent and campaign) kept current by database triggers."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, Index, Integer
from sqlalchemy.orm import Mapped, mapped_column

from enlace.db.base import Base
from enlace.mensajes.models import MensajeEnviado


class ResumenDiario(Base):
    """Counters per agent, local day and campaign (0 = no campaign), maintained by triggers.

    The triggers on `mensajes_enviados` and `mensajes_recibidos` (migration 0007) add the difference
    between the old and new state of every changed row, statement by statement, so dashboards read a
    few hundred rows instead of scanning millions, whichever domain wrote the change.
    """

    __tablename__ = "resumen_diario"
    __table_args__ = (Index("ix_resumen_diario_dia", "dia"), Index("ix_resumen_diario_campana", "campana_id"))

    agente_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dia: Mapped[date] = mapped_column(Date, primary_key=True)
    campana_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    enviados: Mapped[int] = mapped_column(Integer, server_default="0")
    entregados: Mapped[int] = mapped_column(Integer, server_default="0")
    leidos: Mapped[int] = mapped_column(Integer, server_default="0")
    fallidos: Mapped[int] = mapped_column(Integer, server_default="0")
    respondidos: Mapped[int] = mapped_column(Integer, server_default="0")
    bajas: Mapped[int] = mapped_column(Integer, server_default="0")


class RespuestaContada(Base):
    """The first reply to a sent message (counted once) and how long it took: medians come from here."""

    __tablename__ = "respuestas_contadas"
    # `segundos` in the index: the medians of a team's month are read by an index-only scan.
    __table_args__ = (Index("ix_respuestas_contadas_agente_dia", "agente_id", "dia", "segundos"),)

    mensaje_enviado_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    agente_id: Mapped[int] = mapped_column(Integer)
    dia: Mapped[date] = mapped_column(Date)
    campana_id: Mapped[int] = mapped_column(Integer)
    segundos: Mapped[int | None] = mapped_column(Integer)
    respondido_at: Mapped[datetime]


class BajaContada(Base):
    """An inbound message classified as an opt-out, counted once for the agent's day."""

    __tablename__ = "bajas_contadas"

    mensaje_recibido_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    agente_id: Mapped[int] = mapped_column(Integer)
    dia: Mapped[date] = mapped_column(Date)
    campana_id: Mapped[int] = mapped_column(Integer)


# Keyset pages over the whole history (admins) and per campaign: newest first, id breaks ties.
Index("ix_mensajes_enviados_creado_id", MensajeEnviado.created_at, MensajeEnviado.id)
Index("ix_mensajes_enviados_campana_creado", MensajeEnviado.campana_id, MensajeEnviado.created_at, MensajeEnviado.id)
