"""sesiones: sesiones de WhatsApp (sesiones_wa).

Revision ID: 0002_sesiones
Revises: 0001_base
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_sesiones"
down_revision = "0001_base"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sesiones_wa",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agente_id", sa.Integer(), nullable=False),
        sa.Column("motor", sa.String(length=20), nullable=False),
        sa.Column("estado", sa.String(length=20), server_default="desconectada", nullable=False),
        sa.Column("motivo", sa.Text(), nullable=True),
        sa.Column("numero_wa", sa.String(length=20), nullable=True),
        sa.Column("wa_jid", sa.String(length=80), nullable=True),
        sa.Column("lid", sa.String(length=80), nullable=True),
        sa.Column("nodo_id", sa.String(length=80), nullable=True),
        sa.Column("lease_expira_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("fencing_token", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("credenciales", sa.LargeBinary(), nullable=True),
        sa.Column("clave_id", sa.String(length=40), nullable=True),
        sa.Column("reanudar", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("conectada_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ultima_actividad_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "estado IN ('desconectada', 'esperando_qr', 'conectando', 'conectada', 'reconectando', 'reemplazada', 'sesion_cerrada', 'restringida')",
            name=op.f("ck_sesiones_wa_estado"),
        ),
        sa.ForeignKeyConstraint(
            ["agente_id"], ["agentes.id"], name=op.f("fk_sesiones_wa_agente_id_agentes"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sesiones_wa")),
        sa.UniqueConstraint("agente_id", name=op.f("uq_sesiones_wa_agente_id")),
    )


def downgrade() -> None:
    op.drop_table("sesiones_wa")
