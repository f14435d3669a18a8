"""`sesiones_wa`: one row per agent's WhatsApp session (state, lease, encrypted credentials)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, CheckConstraint, ForeignKey, LargeBinary, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from enlace.db.base import Base, ConCreado, check_en

ESTADOS_SESION = (
    "desconectada",
    "esperando_qr",
    "conectando",
    "conectada",
    "reconectando",
    "reemplazada",
    "sesion_cerrada",
    "restringida",
)


class SesionWA(ConCreado, Base):
    __tablename__ = "sesiones_wa"
    __table_args__ = (CheckConstraint(check_en("estado", ESTADOS_SESION), name="estado"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agente_id: Mapped[int] = mapped_column(ForeignKey("agentes.id", ondelete="CASCADE"), unique=True)
    motor: Mapped[str] = mapped_column(String(20))
    estado: Mapped[str] = mapped_column(String(20), default="desconectada", server_default="desconectada")
    motivo: Mapped[str | None] = mapped_column(Text)
    numero_wa: Mapped[str | None] = mapped_column(String(20))
    wa_jid: Mapped[str | None] = mapped_column(String(80))
    lid: Mapped[str | None] = mapped_column(String(80))
    # Lease: the node holding the session, until when, and a fencing token bumped on every takeover.
    nodo_id: Mapped[str | None] = mapped_column(String(80))
    lease_expira_at: Mapped[datetime | None]
    fencing_token: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    # AES-256-GCM ciphertext of the engine's auth state (nonce || ciphertext+tag) and the key id.
    credenciales: Mapped[bytes | None] = mapped_column(LargeBinary)
    clave_id: Mapped[str | None] = mapped_column(String(40))
    # The session should be running: a node that finds it without a live lease resumes it (crash, restart).
    reanudar: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    conectada_at: Mapped[datetime | None]
    ultima_actividad_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())


class CredencialWA(Base):
    """One piece of an agent's Baileys auth state: the creds (`tipo = 'creds'`) or one signal key.

    One encrypted row per key, so a key change costs one row, not a rewrite of the whole state, and
    Baileys' `keys.set` can wait for exactly its rows to commit.
    """

    __tablename__ = "credenciales_wa"

    agente_id: Mapped[int] = mapped_column(ForeignKey("agentes.id", ondelete="CASCADE"), primary_key=True)
    tipo: Mapped[str] = mapped_column(String(40), primary_key=True)
    ident: Mapped[str] = mapped_column(Text, primary_key=True)
    # nonce(12) || AES-256-GCM(JSON value), associated data = agent, tipo and ident (see cifrado.contexto_clave).
    cifrado: Mapped[bytes] = mapped_column(LargeBinary)
    clave_id: Mapped[str] = mapped_column(String(40))
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())
