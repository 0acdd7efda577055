"""An append-only log of every access to residents' household lists (PIPL): who, with which role, when, what.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "data_access_log",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("key_name", sa.String(200), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("what", sa.String(500), nullable=False),
        sa.Column("proposal_id", sa.Integer, nullable=True),
        sa.Column("rows", sa.Integer, nullable=True),
    )
    op.create_index("ix_data_access_log_at", "data_access_log", ["at"])
    # Append-only in the database itself, not only by the absence of an API to change it.
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE FUNCTION data_access_log_append_only() RETURNS trigger LANGUAGE plpgsql AS "
                   "$$ BEGIN RAISE EXCEPTION 'data_access_log is append-only'; END $$")
        op.execute("CREATE TRIGGER data_access_log_no_change BEFORE UPDATE OR DELETE ON data_access_log "
                   "FOR EACH ROW EXECUTE FUNCTION data_access_log_append_only()")
    else:
        for event in ("UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER data_access_log_no_{event.lower()} BEFORE {event} ON data_access_log "
                       "BEGIN SELECT RAISE(ABORT, 'data_access_log is append-only'); END")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS data_access_log_no_change ON data_access_log")
        op.execute("DROP FUNCTION IF EXISTS data_access_log_append_only()")
    op.drop_table("data_access_log")
