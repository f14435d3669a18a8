"""alcances_token: tokens sin alcances pasan a «*» (antes una lista vacía significaba «todo»).

Revision ID: 0014_alcances_token
Revises: 0013_resolucion
"""

from __future__ import annotations

from alembic import op

revision = "0014_alcances_token"
down_revision = "0013_resolucion"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Scopes now deny by default; keep what existing tokens could do by naming it explicitly.
    op.execute("UPDATE tokens_api SET alcances = ARRAY['*']::varchar(40)[] WHERE cardinality(alcances) = 0")


def downgrade() -> None:
    op.execute("UPDATE tokens_api SET alcances = '{}' WHERE alcances = ARRAY['*']::varchar(40)[]")
