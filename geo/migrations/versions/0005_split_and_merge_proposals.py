"""Proposals can split a grid or merge units: a kind, a split's parts, a merge's units; no to_code for a split.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27
"""

import re

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("proposals", sa.Column("kind", sa.String(8), nullable=False, server_default="move"))
    op.add_column("proposals", sa.Column("parts", sa.JSON, nullable=True))
    op.add_column("proposals", sa.Column("merge_codes", sa.JSON, nullable=True))
    _set_to_code_nullable(True)


def downgrade() -> None:
    op.execute("DELETE FROM proposals WHERE kind <> 'move'")
    _set_to_code_nullable(False)
    for column in ("merge_codes", "parts", "kind"):
        op.drop_column("proposals", column)


def _set_to_code_nullable(nullable: bool) -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.alter_column("proposals", "to_code", existing_type=sa.String(32), nullable=nullable)
        return
    # SQLite cannot alter a column. Rebuilding the table would drop SpatiaLite's registration of
    # the area column, so edit the stored CREATE statement instead, as the SQLite manual allows for
    # adding or removing a NOT NULL constraint (https://www.sqlite.org/lang_altertable.html, "making
    # other kinds of table schema changes"): existing rows stay valid either way.
    sql = bind.exec_driver_sql("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'proposals'").scalar_one()
    declared = re.compile(r"to_code VARCHAR\(32\)( NOT NULL)?")
    if not declared.search(sql):
        raise RuntimeError("unexpected schema of proposals.to_code; cannot change its NOT NULL constraint")
    sql = declared.sub("to_code VARCHAR(32)" + ("" if nullable else " NOT NULL"), sql, count=1)
    schema_version = bind.exec_driver_sql("PRAGMA schema_version").scalar_one()
    bind.exec_driver_sql("PRAGMA writable_schema = ON")
    bind.exec_driver_sql("UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = 'proposals'", (sql,))
    bind.exec_driver_sql(f"PRAGMA schema_version = {int(schema_version) + 1}")
    bind.exec_driver_sql("PRAGMA writable_schema = OFF")
