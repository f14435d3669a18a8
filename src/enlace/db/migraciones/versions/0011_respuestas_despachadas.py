"""respuestas por el despachador (idempotencia, filas directas) y cumplimiento que no calla (barrido, bajas de LID).

Revision ID: 0011_respuestas_despachadas
Revises: 0010_credenciales_wa
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_respuestas_despachadas"
down_revision = "0010_credenciales_wa"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("mensajes_enviados", sa.Column("clave_idempotencia", sa.String(length=100), nullable=True))
    op.create_index(
        "uq_mensajes_enviados_clave_idempotencia",
        "mensajes_enviados",
        ["agente_id", "clave_idempotencia"],
        unique=True,
        postgresql_where=sa.text("clave_idempotencia IS NOT NULL"),
    )
    op.create_index(
        "ix_mensajes_enviados_directos",
        "mensajes_enviados",
        ["agente_id", "programado_para", "id"],
        postgresql_where=sa.text("estado = 'pendiente' AND campana_id IS NULL"),
    )

    op.add_column("mensajes_recibidos", sa.Column("historial", sa.Boolean(), server_default="false", nullable=False))
    # Rows captured before this revision never stored whether they came from history; the ones without a
    # decision are left as they were (marked so the sweep does not evaluate years of synced history).
    op.execute("UPDATE mensajes_recibidos SET historial = true WHERE clasificacion IS NULL")
    op.create_index(
        "ix_mensajes_recibidos_sin_clasificar",
        "mensajes_recibidos",
        ["id"],
        postgresql_where=sa.text("clasificacion IS NULL AND mensaje IS NOT NULL AND NOT historial"),
    )
    op.create_table(
        "bajas_lid_pendientes",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("agente_id", sa.Integer(), nullable=False),
        sa.Column("lid", sa.String(length=120), nullable=False),
        sa.Column("regla", sa.String(length=80), nullable=False),
        sa.Column("recibido_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("mensaje_recibido_id", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["agente_id"], ["agentes.id"], name=op.f("fk_bajas_lid_pendientes_agente_id_agentes"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["mensaje_recibido_id"],
            ["mensajes_recibidos.id"],
            name=op.f("fk_bajas_lid_pendientes_mensaje_recibido_id_mensajes_recibidos"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bajas_lid_pendientes")),
        sa.UniqueConstraint("agente_id", "lid", name="uq_bajas_lid_pendientes_agente_lid"),
    )
    op.create_index(op.f("ix_bajas_lid_pendientes_lid"), "bajas_lid_pendientes", ["lid"])


def downgrade() -> None:
    op.drop_index(op.f("ix_bajas_lid_pendientes_lid"), table_name="bajas_lid_pendientes")
    op.drop_table("bajas_lid_pendientes")
    op.drop_index("ix_mensajes_recibidos_sin_clasificar", table_name="mensajes_recibidos")
    op.drop_column("mensajes_recibidos", "historial")
    op.drop_index("ix_mensajes_enviados_directos", table_name="mensajes_enviados")
    op.drop_index("uq_mensajes_enviados_clave_idempotencia", table_name="mensajes_enviados")
    op.drop_column("mensajes_enviados", "clave_idempotencia")
