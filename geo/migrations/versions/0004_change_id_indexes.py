"""Index the change that made each version (reverts and history look versions up by it).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

TABLES = ("units", "buildings", "stations")


def upgrade() -> None:
    for table in TABLES:
        op.create_index(f"ix_{table}_change_id", table, ["change_id"])


def downgrade() -> None:
    for table in TABLES:
        op.drop_index(f"ix_{table}_change_id", table)
