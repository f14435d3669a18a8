"""base: usuarios, equipos, agentes, sesiones de navegador, tokens, auditoría, ajustes.

Revision ID: 0001_base
Revises: None
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001_base"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    # procrastinate's job queue tables (background jobs: large imports, exports, CRM webhooks).
    from procrastinate.schema import SchemaManager

    op.execute(SchemaManager.get_schema())
    op.create_table(
        "intentos_login",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("usuario", sa.String(length=80), nullable=False),
        sa.Column("ip", sa.String(length=64), nullable=True),
        sa.Column("momento", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_intentos_login")),
    )
    op.create_index("ix_intentos_login_ip_momento", "intentos_login", ["ip", "momento"], unique=False)
    op.create_index("ix_intentos_login_usuario_momento", "intentos_login", ["usuario", "momento"], unique=False)
    op.create_table(
        "usuarios",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("usuario", sa.String(length=80), nullable=False),
        sa.Column("nombre", sa.String(length=120), nullable=False),
        sa.Column("email", sa.String(length=200), nullable=True),
        sa.Column("rol", sa.String(length=20), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("activo", sa.Boolean(), server_default="true", nullable=False),
        sa.Column("debe_cambiar_password", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("ultimo_acceso_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("rol IN ('admin', 'supervisor', 'agente')", name=op.f("ck_usuarios_rol")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_usuarios")),
        sa.UniqueConstraint("usuario", name=op.f("uq_usuarios_usuario")),
    )
    op.create_table(
        "ajustes",
        sa.Column("clave", sa.String(length=60), nullable=False),
        sa.Column("valor", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("actualizado_por", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["actualizado_por"], ["usuarios.id"], name=op.f("fk_ajustes_actualizado_por_usuarios"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("clave", name=op.f("pk_ajustes")),
    )
    op.create_table(
        "auditoria",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("usuario_id", sa.Integer(), nullable=True),
        sa.Column("accion", sa.String(length=60), nullable=False),
        sa.Column("objeto_tipo", sa.String(length=40), nullable=True),
        sa.Column("objeto_id", sa.String(length=60), nullable=True),
        sa.Column("detalle", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False),
        sa.Column("ip", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["usuario_id"], ["usuarios.id"], name=op.f("fk_auditoria_usuario_id_usuarios"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auditoria")),
    )
    op.create_index("ix_auditoria_accion_creado", "auditoria", ["accion", "created_at"], unique=False)
    op.create_index(op.f("ix_auditoria_usuario_id"), "auditoria", ["usuario_id"], unique=False)
    op.create_table(
        "equipos",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("nombre", sa.String(length=100), nullable=False),
        sa.Column("supervisor_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["supervisor_id"], ["usuarios.id"], name=op.f("fk_equipos_supervisor_id_usuarios"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_equipos")),
        sa.UniqueConstraint("nombre", name=op.f("uq_equipos_nombre")),
    )
    op.create_index(op.f("ix_equipos_supervisor_id"), "equipos", ["supervisor_id"], unique=False)
    op.create_table(
        "sesiones_usuario",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("usuario_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("expira_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revocada_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ip", postgresql.INET(), nullable=True),
        sa.Column("user_agent", sa.String(length=300), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["usuario_id"], ["usuarios.id"], name=op.f("fk_sesiones_usuario_usuario_id_usuarios"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sesiones_usuario")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_sesiones_usuario_token_hash")),
    )
    op.create_index(op.f("ix_sesiones_usuario_usuario_id"), "sesiones_usuario", ["usuario_id"], unique=False)
    op.create_table(
        "tokens_api",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("usuario_id", sa.Integer(), nullable=False),
        sa.Column("nombre", sa.String(length=120), nullable=False),
        sa.Column("prefijo", sa.String(length=12), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("alcances", postgresql.ARRAY(sa.String(length=40)), server_default="{}", nullable=False),
        sa.Column("expira_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revocado_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ultimo_uso_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["usuario_id"], ["usuarios.id"], name=op.f("fk_tokens_api_usuario_id_usuarios"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tokens_api")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_tokens_api_token_hash")),
    )
    op.create_index(op.f("ix_tokens_api_usuario_id"), "tokens_api", ["usuario_id"], unique=False)
    op.create_table(
        "agentes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("nombre", sa.String(length=120), nullable=False),
        sa.Column("usuario_id", sa.Integer(), nullable=True),
        sa.Column("equipo_id", sa.Integer(), nullable=True),
        sa.Column("numero_wa", sa.String(length=20), nullable=True),
        sa.Column("activo", sa.Boolean(), server_default="true", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["equipo_id"], ["equipos.id"], name=op.f("fk_agentes_equipo_id_equipos"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["usuario_id"], ["usuarios.id"], name=op.f("fk_agentes_usuario_id_usuarios"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agentes")),
        sa.UniqueConstraint("usuario_id", name=op.f("uq_agentes_usuario_id")),
    )
    op.create_index(op.f("ix_agentes_equipo_id"), "agentes", ["equipo_id"], unique=False)


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS procrastinate_events, procrastinate_periodic_defers, procrastinate_jobs CASCADE")
    op.drop_index(op.f("ix_agentes_equipo_id"), table_name="agentes")
    op.drop_table("agentes")
    op.drop_index(op.f("ix_tokens_api_usuario_id"), table_name="tokens_api")
    op.drop_table("tokens_api")
    op.drop_index(op.f("ix_sesiones_usuario_usuario_id"), table_name="sesiones_usuario")
    op.drop_table("sesiones_usuario")
    op.drop_index(op.f("ix_equipos_supervisor_id"), table_name="equipos")
    op.drop_table("equipos")
    op.drop_index(op.f("ix_auditoria_usuario_id"), table_name="auditoria")
    op.drop_index("ix_auditoria_accion_creado", table_name="auditoria")
    op.drop_table("auditoria")
    op.drop_table("ajustes")
    op.drop_table("usuarios")
    op.drop_index("ix_intentos_login_usuario_momento", table_name="intentos_login")
    op.drop_index("ix_intentos_login_ip_momento", table_name="intentos_login")
    op.drop_table("intentos_login")
