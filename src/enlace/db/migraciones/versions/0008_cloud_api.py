"""cloud_api: motor oficial (Cloud API).

Revision ID: 0008_cloud_api
Revises: 0007_reportes
"""

from __future__ import annotations

revision = "0008_cloud_api"
down_revision = "0007_reportes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
