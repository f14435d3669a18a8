"""credenciales_wa: el estado de autenticación de Baileys, una fila cifrada por clave.

Las sesiones guardadas como un solo blob (`sesiones_wa.credenciales`) pasan a filas al tomarlas
(`sesiones.credenciales.cargar`) o con `enlace rotar-clave`, sin volver a vincular: convertirlas
necesita las claves de cifrado, que la migración no tiene.

Revision ID: 0010_credenciales_wa
Revises: 0009_mensajes
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_credenciales_wa"
down_revision = "0009_mensajes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "credenciales_wa",
        sa.Column("agente_id", sa.Integer(), nullable=False),
        sa.Column("tipo", sa.String(length=40), nullable=False),
        sa.Column("ident", sa.Text(), nullable=False),
        sa.Column("cifrado", sa.LargeBinary(), nullable=False),
        sa.Column("clave_id", sa.String(length=40), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["agente_id"], ["agentes.id"], name=op.f("fk_credenciales_wa_agente_id_agentes"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("agente_id", "tipo", "ident", name=op.f("pk_credenciales_wa")),
    )


def downgrade() -> None:
    op.drop_table("credenciales_wa")
