"""captura: mensajes_recibidos, eventos_entrega, recibos_pendientes.

Revision ID: 0005_captura
Revises: 0004_campanas
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0005_captura"
down_revision = "0004_campanas"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "recibos_pendientes",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("agente_id", sa.Integer(), nullable=False),
        sa.Column("wa_message_id", sa.String(length=100), nullable=False),
        sa.Column("tipo", sa.String(length=20), nullable=False),
        sa.Column("timestamp", sa.DateTime(timezone=True), nullable=False),
        sa.Column("codigo_error", sa.Integer(), nullable=True),
        sa.Column("detalle_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["agente_id"], ["agentes.id"], name=op.f("fk_recibos_pendientes_agente_id_agentes"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recibos_pendientes")),
    )
    op.create_index(
        "ix_recibos_pendientes_agente_wa", "recibos_pendientes", ["agente_id", "wa_message_id"], unique=False
    )
    op.create_table(
        "eventos_entrega",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("mensaje_id", sa.BigInteger(), nullable=False),
        sa.Column("tipo", sa.String(length=20), nullable=False),
        sa.Column("timestamp", sa.DateTime(timezone=True), nullable=False),
        sa.Column("codigo_error", sa.Integer(), nullable=True),
        sa.Column("detalle", sa.Text(), nullable=True),
        sa.Column("registrado_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "tipo IN ('enviado', 'entregado', 'leido', 'reproducido', 'fallido')", name=op.f("ck_eventos_entrega_tipo")
        ),
        sa.ForeignKeyConstraint(
            ["mensaje_id"],
            ["mensajes_enviados.id"],
            name=op.f("fk_eventos_entrega_mensaje_id_mensajes_enviados"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_eventos_entrega")),
    )
    op.create_index(op.f("ix_eventos_entrega_mensaje_id"), "eventos_entrega", ["mensaje_id"], unique=False)
    op.create_table(
        "mensajes_recibidos",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("agente_id", sa.Integer(), nullable=False),
        sa.Column("mensaje_origen_id", sa.BigInteger(), nullable=True),
        sa.Column("campana_id", sa.Integer(), nullable=True),
        sa.Column("contacto_id", sa.Integer(), nullable=True),
        sa.Column("numero_origen", sa.String(length=20), nullable=True),
        sa.Column("numero_destino", sa.String(length=20), nullable=True),
        sa.Column("chat_jid", sa.String(length=80), nullable=True),
        sa.Column("mensaje", sa.Text(), nullable=True),
        sa.Column("tipo", sa.String(length=12), server_default="texto", nullable=False),
        sa.Column("medio", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("referencia_id", sa.String(length=100), nullable=True),
        sa.Column("wa_message_id", sa.String(length=100), nullable=False),
        sa.Column("recibido_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("leido_por_agente_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("editado_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("borrado_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("clasificacion", sa.String(length=20), nullable=True),
        sa.Column("regla", sa.String(length=80), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "clasificacion IS NULL OR clasificacion IN ('baja', 'no_interesado', 'otro')",
            name=op.f("ck_mensajes_recibidos_clasificacion"),
        ),
        sa.ForeignKeyConstraint(
            ["agente_id"], ["agentes.id"], name=op.f("fk_mensajes_recibidos_agente_id_agentes"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["campana_id"], ["campanas.id"], name=op.f("fk_mensajes_recibidos_campana_id_campanas"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["contacto_id"],
            ["contactos.id"],
            name=op.f("fk_mensajes_recibidos_contacto_id_contactos"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["mensaje_origen_id"],
            ["mensajes_enviados.id"],
            name=op.f("fk_mensajes_recibidos_mensaje_origen_id_mensajes_enviados"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mensajes_recibidos")),
        sa.UniqueConstraint("agente_id", "wa_message_id", name="uq_mensajes_recibidos_agente_wa_message_id"),
    )
    op.create_index(
        "ix_mensajes_recibidos_agente_recibido", "mensajes_recibidos", ["agente_id", "recibido_at"], unique=False
    )
    op.create_index(op.f("ix_mensajes_recibidos_campana_id"), "mensajes_recibidos", ["campana_id"], unique=False)
    op.create_index(op.f("ix_mensajes_recibidos_contacto_id"), "mensajes_recibidos", ["contacto_id"], unique=False)
    op.create_index(
        op.f("ix_mensajes_recibidos_mensaje_origen_id"), "mensajes_recibidos", ["mensaje_origen_id"], unique=False
    )
    op.create_index(
        "ix_mensajes_recibidos_origen_recibido", "mensajes_recibidos", ["numero_origen", "recibido_at"], unique=False
    )
    op.create_index(
        "ix_mensajes_recibidos_sin_telefono",
        "mensajes_recibidos",
        ["chat_jid"],
        unique=False,
        postgresql_where=sa.text("numero_origen IS NULL"),
    )
    op.create_table(
        "mapeos_identificador",
        sa.Column("valor", sa.String(length=120), nullable=False),
        sa.Column("tipo", sa.String(length=10), nullable=False),
        sa.Column("telefono", sa.String(length=20), nullable=True),
        sa.Column("actualizado_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("tipo IN ('lid', 'bsuid')", name=op.f("ck_mapeos_identificador_tipo")),
        sa.PrimaryKeyConstraint("valor", name=op.f("pk_mapeos_identificador")),
    )
    op.create_index(op.f("ix_mapeos_identificador_telefono"), "mapeos_identificador", ["telefono"], unique=False)
    op.create_table(
        "conteos_fuera_alcance",
        sa.Column("agente_id", sa.Integer(), nullable=False),
        sa.Column("dia", sa.Date(), nullable=False),
        sa.Column("entrantes", sa.Integer(), server_default="0", nullable=False),
        sa.Column("salientes", sa.Integer(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(
            ["agente_id"], ["agentes.id"], name=op.f("fk_conteos_fuera_alcance_agente_id_agentes"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("agente_id", "dia", name=op.f("pk_conteos_fuera_alcance")),
    )
    op.create_table(
        "conversaciones",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("agente_id", sa.Integer(), nullable=False),
        sa.Column("telefono", sa.String(length=20), nullable=False),
        sa.Column("contacto_id", sa.Integer(), nullable=True),
        sa.Column("ultimo_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ultimo_texto", sa.String(length=200), nullable=True),
        sa.Column("ultimo_direccion", sa.String(length=10), nullable=False),
        sa.Column("no_leidos", sa.Integer(), server_default="0", nullable=False),
        sa.CheckConstraint(
            "ultimo_direccion IN ('entrante', 'saliente')", name=op.f("ck_conversaciones_ultimo_direccion")
        ),
        sa.ForeignKeyConstraint(
            ["agente_id"], ["agentes.id"], name=op.f("fk_conversaciones_agente_id_agentes"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["contacto_id"], ["contactos.id"], name=op.f("fk_conversaciones_contacto_id_contactos"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conversaciones")),
        sa.UniqueConstraint("agente_id", "telefono", name="uq_conversaciones_agente_telefono"),
    )
    op.create_index("ix_conversaciones_agente_ultimo", "conversaciones", ["agente_id", "ultimo_at"], unique=False)
    op.create_index(op.f("ix_conversaciones_contacto_id"), "conversaciones", ["contacto_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_conversaciones_contacto_id"), table_name="conversaciones")
    op.drop_index("ix_conversaciones_agente_ultimo", table_name="conversaciones")
    op.drop_table("conversaciones")
    op.drop_table("conteos_fuera_alcance")
    op.drop_index(op.f("ix_mapeos_identificador_telefono"), table_name="mapeos_identificador")
    op.drop_table("mapeos_identificador")
    op.drop_index("ix_mensajes_recibidos_sin_telefono", table_name="mensajes_recibidos")
    op.drop_index("ix_mensajes_recibidos_origen_recibido", table_name="mensajes_recibidos")
    op.drop_index(op.f("ix_mensajes_recibidos_mensaje_origen_id"), table_name="mensajes_recibidos")
    op.drop_index(op.f("ix_mensajes_recibidos_contacto_id"), table_name="mensajes_recibidos")
    op.drop_index(op.f("ix_mensajes_recibidos_campana_id"), table_name="mensajes_recibidos")
    op.drop_index("ix_mensajes_recibidos_agente_recibido", table_name="mensajes_recibidos")
    op.drop_table("mensajes_recibidos")
    op.drop_index(op.f("ix_eventos_entrega_mensaje_id"), table_name="eventos_entrega")
    op.drop_table("eventos_entrega")
    op.drop_index("ix_recibos_pendientes_agente_wa", table_name="recibos_pendientes")
    op.drop_table("recibos_pendientes")
