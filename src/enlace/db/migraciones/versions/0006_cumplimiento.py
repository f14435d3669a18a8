"""cumplimiento: supresiones.

Revision ID: 0006_cumplimiento
Revises: 0005_captura
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_cumplimiento"
down_revision = "0005_captura"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "supresiones",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("telefono", sa.String(length=20), nullable=False),
        sa.Column("motivo", sa.Text(), nullable=False),
        sa.Column("fuente", sa.String(length=20), nullable=False),
        sa.Column("regla", sa.String(length=80), nullable=True),
        sa.Column("mensaje_recibido_id", sa.BigInteger(), nullable=True),
        sa.Column("creada_por", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["creada_por"], ["usuarios.id"], name=op.f("fk_supresiones_creada_por_usuarios"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["mensaje_recibido_id"],
            ["mensajes_recibidos.id"],
            name=op.f("fk_supresiones_mensaje_recibido_id_mensajes_recibidos"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supresiones")),
        sa.UniqueConstraint("telefono", name=op.f("uq_supresiones_telefono")),
    )


def downgrade() -> None:
    op.drop_table("supresiones")
