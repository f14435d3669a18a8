"""oficial: wamid de cada envío, líneas oficiales cifradas, calidad/nivel con historial, precios y tarifas MXN.

Revision ID: 0015_oficial
Revises: 0014_alcances_token
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0015_oficial"
down_revision = "0014_alcances_token"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("mensajes_enviados", sa.Column("wamid", sa.String(length=160), nullable=True))
    op.create_index(
        "ix_mensajes_enviados_wamid",
        "mensajes_enviados",
        ["wamid"],
        unique=False,
        postgresql_where=sa.text("wamid IS NOT NULL"),
    )
    op.add_column("campanas", sa.Column("motivo_pausa", sa.Text(), nullable=True))
    op.add_column("plantillas", sa.Column("estado_meta", sa.String(length=30), nullable=True))
    op.add_column("plantillas", sa.Column("motivo_meta", sa.Text(), nullable=True))
    op.add_column("plantillas", sa.Column("estado_meta_at", sa.DateTime(timezone=True), nullable=True))

    op.create_table(
        "lineas_oficiales",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agente_id", sa.Integer(), nullable=False),
        sa.Column("phone_number_id", sa.String(length=40), nullable=False),
        sa.Column("waba_id", sa.String(length=40), nullable=False),
        sa.Column("numero", sa.String(length=20), server_default="", nullable=False),
        sa.Column("proveedor", sa.String(length=12), server_default="meta", nullable=False),
        sa.Column("base_url", sa.String(length=200), nullable=False),
        sa.Column("version", sa.String(length=10), server_default="v21.0", nullable=False),
        sa.Column("verify_token", sa.String(length=100), nullable=False),
        sa.Column("secretos", sa.LargeBinary(), nullable=False),
        sa.Column("clave_id", sa.String(length=40), nullable=False),
        sa.Column("secretos_rotados_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("activa", sa.Boolean(), server_default="true", nullable=False),
        sa.Column("verificada_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("verificacion_error", sa.String(length=500), nullable=True),
        sa.Column("nombre_verificado", sa.String(length=200), nullable=True),
        sa.Column("calidad", sa.String(length=10), server_default="UNKNOWN", nullable=False),
        sa.Column("nivel", sa.String(length=20), server_default="TIER_250", nullable=False),
        sa.Column("marcada", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("estado_cuenta", sa.String(length=60), nullable=True),
        sa.Column("calidad_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("proveedor IN ('meta', '360dialog')", name=op.f("ck_lineas_oficiales_proveedor")),
        sa.CheckConstraint(
            "calidad IN ('GREEN', 'YELLOW', 'RED', 'UNKNOWN')", name=op.f("ck_lineas_oficiales_calidad")
        ),
        sa.ForeignKeyConstraint(
            ["agente_id"], ["agentes.id"], name=op.f("fk_lineas_oficiales_agente_id_agentes"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lineas_oficiales")),
        sa.UniqueConstraint("agente_id", name=op.f("uq_lineas_oficiales_agente_id")),
        sa.UniqueConstraint("phone_number_id", name=op.f("uq_lineas_oficiales_phone_number_id")),
    )
    op.create_index(op.f("ix_lineas_oficiales_waba_id"), "lineas_oficiales", ["waba_id"], unique=False)
    op.create_table(
        "historial_lineas_oficiales",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("linea_id", sa.Integer(), nullable=False),
        sa.Column("momento", sa.DateTime(timezone=True), nullable=False),
        sa.Column("campo", sa.String(length=40), nullable=False),
        sa.Column("evento", sa.String(length=60), nullable=False),
        sa.Column("calidad", sa.String(length=10), nullable=True),
        sa.Column("nivel", sa.String(length=20), nullable=True),
        sa.Column("detalle", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.ForeignKeyConstraint(
            ["linea_id"],
            ["lineas_oficiales.id"],
            name=op.f("fk_historial_lineas_oficiales_linea_id_lineas_oficiales"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_historial_lineas_oficiales")),
    )
    op.create_index(
        "ix_historial_lineas_linea_momento", "historial_lineas_oficiales", ["linea_id", "momento"], unique=False
    )
    op.create_table(
        "precios_mensajes",
        sa.Column("mensaje_id", sa.BigInteger(), nullable=False),
        sa.Column("agente_id", sa.Integer(), nullable=False),
        sa.Column("campana_id", sa.Integer(), nullable=True),
        sa.Column("categoria", sa.String(length=40), nullable=False),
        sa.Column("facturable", sa.Boolean(), nullable=False),
        sa.Column("modelo", sa.String(length=10), nullable=False),
        sa.Column("tipo", sa.String(length=40), nullable=True),
        sa.Column("momento", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["agente_id"], ["agentes.id"], name=op.f("fk_precios_mensajes_agente_id_agentes"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["campana_id"], ["campanas.id"], name=op.f("fk_precios_mensajes_campana_id_campanas"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["mensaje_id"],
            ["mensajes_enviados.id"],
            name=op.f("fk_precios_mensajes_mensaje_id_mensajes_enviados"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("mensaje_id", name=op.f("pk_precios_mensajes")),
    )
    op.create_index("ix_precios_mensajes_agente_momento", "precios_mensajes", ["agente_id", "momento"], unique=False)
    op.create_index(op.f("ix_precios_mensajes_campana_id"), "precios_mensajes", ["campana_id"], unique=False)
    op.create_table(
        "tarifas_oficiales",
        sa.Column("categoria", sa.String(length=40), nullable=False),
        sa.Column("precio_mxn", sa.Numeric(precision=10, scale=4), nullable=False),
        sa.Column("actualizada_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("categoria", name=op.f("pk_tarifas_oficiales")),
    )


def downgrade() -> None:
    op.drop_table("tarifas_oficiales")
    op.drop_index(op.f("ix_precios_mensajes_campana_id"), table_name="precios_mensajes")
    op.drop_index("ix_precios_mensajes_agente_momento", table_name="precios_mensajes")
    op.drop_table("precios_mensajes")
    op.drop_index("ix_historial_lineas_linea_momento", table_name="historial_lineas_oficiales")
    op.drop_table("historial_lineas_oficiales")
    op.drop_index(op.f("ix_lineas_oficiales_waba_id"), table_name="lineas_oficiales")
    op.drop_table("lineas_oficiales")
    op.drop_column("plantillas", "estado_meta_at")
    op.drop_column("plantillas", "motivo_meta")
    op.drop_column("plantillas", "estado_meta")
    op.drop_column("campanas", "motivo_pausa")
    op.drop_index("ix_mensajes_enviados_wamid", table_name="mensajes_enviados")
    op.drop_column("mensajes_enviados", "wamid")
