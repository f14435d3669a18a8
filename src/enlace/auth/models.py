"""Users, browser sessions, API tokens and login attempts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.dialects.postgresql import ARRAY, INET
from sqlalchemy.orm import Mapped, mapped_column

from enlace.db.base import Base, ConCreado, check_en

ROLES = ("admin", "supervisor", "agente")


class Usuario(ConCreado, Base):
    __tablename__ = "usuarios"
    __table_args__ = (CheckConstraint(check_en("rol", ROLES), name="rol"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    usuario: Mapped[str] = mapped_column(String(80), unique=True)
    nombre: Mapped[str] = mapped_column(String(120))
    email: Mapped[str | None] = mapped_column(String(200))
    rol: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str] = mapped_column(Text)
    activo: Mapped[bool] = mapped_column(Boolean, default=True, server_default="true")
    debe_cambiar_password: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    ultimo_acceso_at: Mapped[datetime | None]


class SesionUsuario(ConCreado, Base):
    """A logged-in browser: the cookie carries the token, the row keeps only its hash."""

    __tablename__ = "sesiones_usuario"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    usuario_id: Mapped[int] = mapped_column(ForeignKey("usuarios.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    expira_at: Mapped[datetime]
    revocada_at: Mapped[datetime | None]
    ip: Mapped[str | None] = mapped_column(INET)
    user_agent: Mapped[str | None] = mapped_column(String(300))


class TokenApi(ConCreado, Base):
    """Bearer token for integrations (the company CRM); stored hashed, revocable, scoped."""

    __tablename__ = "tokens_api"

    id: Mapped[int] = mapped_column(primary_key=True)
    usuario_id: Mapped[int] = mapped_column(ForeignKey("usuarios.id", ondelete="CASCADE"), index=True)
    nombre: Mapped[str] = mapped_column(String(120))
    prefijo: Mapped[str] = mapped_column(String(12))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    alcances: Mapped[list[str]] = mapped_column(ARRAY(String(40)), default=list, server_default="{}")
    expira_at: Mapped[datetime | None]
    revocado_at: Mapped[datetime | None]
    ultimo_uso_at: Mapped[datetime | None]


class IntentoLogin(Base):
    """Login attempts, by user name and by address, for throttling.

    A row is written before the password is verified (`pendiente`), so parallel guesses count each
    other; a good login deletes it, a bad one clears `pendiente`. Only confirmed failures count
    against the address as a whole (an office behind one NAT logging in at nine is not an attack).
    """

    __tablename__ = "intentos_login"
    __table_args__ = (
        Index("ix_intentos_login_usuario_momento", "usuario", "momento"),
        Index("ix_intentos_login_ip_momento", "ip", "momento"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    usuario: Mapped[str] = mapped_column(String(80))
    ip: Mapped[str | None] = mapped_column(String(64))
    momento: Mapped[datetime]
    pendiente: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
