"""lotes_capturados: la clave de cada lote de captura confirmado (reintento tras un commit sin respuesta).

Revision ID: 0012_lotes_capturados
Revises: 0011_respuestas_despachadas
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_lotes_capturados"
down_revision = "0011_respuestas_despachadas"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "lotes_capturados",
        sa.Column("clave", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("clave", name=op.f("pk_lotes_capturados")),
    )


def downgrade() -> None:
    op.drop_table("lotes_capturados")
