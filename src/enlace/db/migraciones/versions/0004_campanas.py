"""campanas: plantillas, perfiles de envío, campañas, mensajes_enviados, paradas de seguridad.

Revision ID: 0004_campanas
Revises: 0003_carteras
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0004_campanas"
down_revision = "0003_carteras"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "perfiles_envio",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("nombre", sa.String(length=100), nullable=False),
        sa.Column("config", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("por_defecto", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_perfiles_envio")),
        sa.UniqueConstraint("nombre", name=op.f("uq_perfiles_envio_nombre")),
    )
    op.create_table(
        "paradas_seguridad",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agente_id", sa.Integer(), nullable=False),
        sa.Column("motivo", sa.String(length=40), nullable=False),
        sa.Column("detalle", sa.Text(), nullable=True),
        sa.Column("resuelta_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resuelta_por", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["agente_id"], ["agentes.id"], name=op.f("fk_paradas_seguridad_agente_id_agentes"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["resuelta_por"],
            ["usuarios.id"],
            name=op.f("fk_paradas_seguridad_resuelta_por_usuarios"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_paradas_seguridad")),
    )
    op.create_index(
        "ix_paradas_seguridad_activas",
        "paradas_seguridad",
        ["agente_id"],
        unique=False,
        postgresql_where=sa.text("resuelta_at IS NULL"),
    )
    op.create_table(
        "plantillas",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("nombre", sa.String(length=100), nullable=False),
        sa.Column("agente_id", sa.Integer(), nullable=True),
        sa.Column("variantes", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("plantilla_oficial", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("activa", sa.Boolean(), server_default="true", nullable=False),
        sa.Column("creada_por", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["agente_id"], ["agentes.id"], name=op.f("fk_plantillas_agente_id_agentes"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["creada_por"], ["usuarios.id"], name=op.f("fk_plantillas_creada_por_usuarios"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plantillas")),
    )
    op.create_index(op.f("ix_plantillas_agente_id"), "plantillas", ["agente_id"], unique=False)
    op.create_table(
        "campanas",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agente_id", sa.Integer(), nullable=False),
        sa.Column("cartera_id", sa.Integer(), nullable=True),
        sa.Column("nombre", sa.String(length=100), nullable=False),
        sa.Column("plantilla_id", sa.Integer(), nullable=True),
        sa.Column("perfil_id", sa.Integer(), nullable=True),
        sa.Column("canal", sa.String(length=10), server_default="agente", nullable=False),
        sa.Column("numero_oficial", sa.String(length=40), nullable=True),
        sa.Column("estado", sa.String(length=20), server_default="borrador", nullable=False),
        sa.Column("zona_horaria", sa.String(length=40), nullable=False),
        sa.Column("config_delay", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False),
        sa.Column("inicio_programado", sa.DateTime(timezone=True), nullable=True),
        sa.Column("iniciada_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completada_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("total_mensajes", sa.Integer(), server_default="0", nullable=False),
        sa.Column("enviados", sa.Integer(), server_default="0", nullable=False),
        sa.Column("fallidos", sa.Integer(), server_default="0", nullable=False),
        sa.Column("creada_por", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("canal IN ('agente', 'oficial')", name=op.f("ck_campanas_canal")),
        sa.CheckConstraint(
            "estado IN ('borrador', 'programada', 'activa', 'pausada', 'completada', 'cancelada')",
            name=op.f("ck_campanas_estado"),
        ),
        sa.ForeignKeyConstraint(
            ["agente_id"], ["agentes.id"], name=op.f("fk_campanas_agente_id_agentes"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["cartera_id"], ["carteras.id"], name=op.f("fk_campanas_cartera_id_carteras"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["creada_por"], ["usuarios.id"], name=op.f("fk_campanas_creada_por_usuarios"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["perfil_id"], ["perfiles_envio.id"], name=op.f("fk_campanas_perfil_id_perfiles_envio"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["plantilla_id"], ["plantillas.id"], name=op.f("fk_campanas_plantilla_id_plantillas"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campanas")),
    )
    op.create_index(op.f("ix_campanas_agente_id"), "campanas", ["agente_id"], unique=False)
    op.create_index(op.f("ix_campanas_cartera_id"), "campanas", ["cartera_id"], unique=False)
    op.create_table(
        "mensajes_enviados",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("campana_id", sa.Integer(), nullable=True),
        sa.Column("agente_id", sa.Integer(), nullable=False),
        sa.Column("contacto_id", sa.Integer(), nullable=True),
        sa.Column("origen", sa.String(length=12), server_default="campana", nullable=False),
        sa.Column("numero_origen", sa.String(length=20), nullable=True),
        sa.Column("numero_destino", sa.String(length=20), nullable=True),
        sa.Column("destino_jid", sa.String(length=80), nullable=True),
        sa.Column("mensaje", sa.Text(), nullable=True),
        sa.Column("tipo", sa.String(length=12), server_default="texto", nullable=False),
        sa.Column("medio", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("variante", sa.Integer(), nullable=True),
        sa.Column("mensaje_base", sa.Text(), nullable=True),
        sa.Column("wa_message_id", sa.String(length=100), nullable=False),
        sa.Column("estado", sa.String(length=20), server_default="pendiente", nullable=False),
        sa.Column("programado_para", sa.DateTime(timezone=True), nullable=True),
        sa.Column("intentado_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("enviado_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("entregado_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("leido_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("fallido_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("codigo_error", sa.Integer(), nullable=True),
        sa.Column("detalle_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "estado IN ('pendiente', 'enviando', 'enviado', 'entregado', 'leido', 'fallido', 'cancelado', 'suprimido', 'incierto')",
            name=op.f("ck_mensajes_enviados_estado"),
        ),
        sa.CheckConstraint(
            "origen IN ('campana', 'telefono', 'respuesta', 'sistema')", name=op.f("ck_mensajes_enviados_origen")
        ),
        sa.ForeignKeyConstraint(
            ["agente_id"], ["agentes.id"], name=op.f("fk_mensajes_enviados_agente_id_agentes"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["campana_id"], ["campanas.id"], name=op.f("fk_mensajes_enviados_campana_id_campanas"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["contacto_id"],
            ["contactos.id"],
            name=op.f("fk_mensajes_enviados_contacto_id_contactos"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mensajes_enviados")),
        sa.UniqueConstraint("agente_id", "wa_message_id", name="uq_mensajes_enviados_agente_wa_message_id"),
    )
    op.create_index(
        "ix_mensajes_enviados_agente_creado", "mensajes_enviados", ["agente_id", "created_at", "id"], unique=False
    )
    op.create_index("ix_mensajes_enviados_campana_estado", "mensajes_enviados", ["campana_id", "estado"], unique=False)
    op.create_index(op.f("ix_mensajes_enviados_contacto_id"), "mensajes_enviados", ["contacto_id"], unique=False)
    op.create_index(
        "ix_mensajes_enviados_destino_creado", "mensajes_enviados", ["numero_destino", "created_at"], unique=False
    )
    op.create_index(
        "ix_mensajes_enviados_enviando",
        "mensajes_enviados",
        ["agente_id"],
        unique=False,
        postgresql_where=sa.text("estado = 'enviando'"),
    )
    op.create_index("ix_mensajes_enviados_estado_creado", "mensajes_enviados", ["estado", "created_at"], unique=False)
    op.create_index(
        "ix_mensajes_enviados_pendientes",
        "mensajes_enviados",
        ["agente_id", "programado_para", "id"],
        unique=False,
        postgresql_where=sa.text("estado = 'pendiente'"),
    )


def downgrade() -> None:
    op.drop_index(
        "ix_mensajes_enviados_pendientes",
        table_name="mensajes_enviados",
        postgresql_where=sa.text("estado = 'pendiente'"),
    )
    op.drop_index("ix_mensajes_enviados_estado_creado", table_name="mensajes_enviados")
    op.drop_index(
        "ix_mensajes_enviados_enviando", table_name="mensajes_enviados", postgresql_where=sa.text("estado = 'enviando'")
    )
    op.drop_index("ix_mensajes_enviados_destino_creado", table_name="mensajes_enviados")
    op.drop_index(op.f("ix_mensajes_enviados_contacto_id"), table_name="mensajes_enviados")
    op.drop_index("ix_mensajes_enviados_campana_estado", table_name="mensajes_enviados")
    op.drop_index("ix_mensajes_enviados_agente_creado", table_name="mensajes_enviados")
    op.drop_table("mensajes_enviados")
    op.drop_index(op.f("ix_campanas_cartera_id"), table_name="campanas")
    op.drop_index(op.f("ix_campanas_agente_id"), table_name="campanas")
    op.drop_table("campanas")
    op.drop_index(op.f("ix_plantillas_agente_id"), table_name="plantillas")
    op.drop_table("plantillas")
    op.drop_index(
        "ix_paradas_seguridad_activas", table_name="paradas_seguridad", postgresql_where=sa.text("resuelta_at IS NULL")
    )
    op.drop_table("paradas_seguridad")
    op.drop_table("perfiles_envio")
