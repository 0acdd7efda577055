"""At most one open (latest) version per code, enforced by the database.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TABLES = ("units", "buildings", "stations")


def upgrade() -> None:
    # Two writers that both close and reopen a unit cannot both commit: the second open version
    # violates this index. It backs the application-level version checks (HTTP 409).
    for table in TABLES:
        op.execute(f"CREATE UNIQUE INDEX uq_{table}_one_open_version ON {table} (code) WHERE valid_to IS NULL")


def downgrade() -> None:
    for table in TABLES:
        op.execute(f"DROP INDEX uq_{table}_one_open_version")
