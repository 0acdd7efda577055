"""A history that holds under any sequence: who closed a version, cancellations, lineage, identities.

- ``closed_by`` on every versioned table: the change that set ``valid_to``. Undo follows it back
  (a reversal copies what the change closed; a cancellation reopens it).
- ``cancelled_by``: a version whose change was cancelled (撤销); its interval is made empty, so no
  as-of read sees it, and the row stays for the audit.
- ``unit_lineage``: every version's predecessors (move, split, merge, recode) and old codes as aliases.
- ``proposal_events``: the append-only life of a proposal (created, edited, withdrawn, applied, …).
- the key's identity (name and role) beside the free-text author on changes and proposals;
  ``undoes`` on a change names the change it reverses or cancels; ``workers_moved`` on a move.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

TABLES = ("units", "buildings", "stations")


def upgrade() -> None:
    for table in TABLES:
        op.add_column(table, sa.Column("closed_by", sa.Integer, nullable=True))
        op.add_column(table, sa.Column("cancelled_by", sa.Integer, nullable=True))
        op.create_index(f"ix_{table}_closed_by", table, ["closed_by"])
        # Changes dated after a given day are looked up on every preview (scheduled changes set aside).
        op.create_index(f"ix_{table}_valid_from", table, ["valid_from"])
        # Best effort for existing history: a closed version was closed by the change that made its successor.
        op.execute(
            f"UPDATE {table} SET closed_by = (SELECT n.change_id FROM {table} n WHERE n.code = {table}.code "
            f"AND n.version = {table}.version + 1) WHERE valid_to IS NOT NULL"
        )
    op.add_column("change_log", sa.Column("key_name", sa.String(200), nullable=True))
    op.add_column("change_log", sa.Column("key_role", sa.String(16), nullable=True))
    op.add_column("change_log", sa.Column("undoes", sa.Integer, nullable=True))
    op.add_column("proposals", sa.Column("workers_moved", sa.Integer, nullable=True))
    op.add_column("proposals", sa.Column("allow_non_adjacent", sa.Boolean, nullable=True))
    op.add_column("proposals", sa.Column("key_name", sa.String(200), nullable=True))
    op.add_column("proposals", sa.Column("key_role", sa.String(16), nullable=True))
    op.add_column("proposals", sa.Column("cancelled_change_id", sa.Integer, nullable=True))
    op.create_table(
        "unit_lineage",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("code", sa.String(32), nullable=False, index=True),
        sa.Column("predecessor", sa.String(32), nullable=False, index=True),
        sa.Column("relation", sa.String(16), nullable=False),
        sa.Column("change_id", sa.Integer, sa.ForeignKey("change_log.id"), nullable=False, index=True),
        sa.Column("cancelled_by", sa.Integer, nullable=True),
    )
    op.create_table(
        "proposal_events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("proposal_id", sa.Integer, sa.ForeignKey("proposals.id"), nullable=False, index=True),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("author", sa.String(200), nullable=False),
        sa.Column("key_name", sa.String(200), nullable=True),
        sa.Column("key_role", sa.String(16), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("note", sa.Text, nullable=True),
        sa.Column("change_id", sa.Integer, nullable=True),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE TRIGGER proposal_events_no_update BEFORE UPDATE OR DELETE ON proposal_events "
            "FOR EACH ROW EXECUTE FUNCTION change_log_append_only()"
        )
    else:
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER proposal_events_no_{action.lower()} BEFORE {action} ON proposal_events "
                "BEGIN SELECT RAISE(ABORT, 'proposal_events is append-only'); END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS proposal_events_no_update ON proposal_events")
    op.drop_table("proposal_events")
    op.drop_table("unit_lineage")
    op.execute("DELETE FROM proposals WHERE status IN ('cancelled', 'withdrawn')")
    for column in ("cancelled_change_id", "key_role", "key_name", "allow_non_adjacent", "workers_moved"):
        op.drop_column("proposals", column)
    for column in ("undoes", "key_role", "key_name"):
        op.drop_column("change_log", column)
    for table in TABLES:
        op.drop_index(f"ix_{table}_valid_from", table)
        op.drop_index(f"ix_{table}_closed_by", table)
        op.drop_column(table, "cancelled_by")
        op.drop_column(table, "closed_by")
