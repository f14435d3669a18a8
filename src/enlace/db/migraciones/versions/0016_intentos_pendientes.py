"""intentos_pendientes: un intento de inicio de sesión se guarda antes de verificarse (pendiente).

Revision ID: 0016_intentos_pendientes
Revises: 0015_oficial
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016_intentos_pendientes"
down_revision = "0015_oficial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("intentos_login", sa.Column("pendiente", sa.Boolean(), server_default="false", nullable=False))


def downgrade() -> None:
    op.drop_column("intentos_login", "pendiente")
