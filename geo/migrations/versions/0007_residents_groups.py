"""Residents' groups (居民小组): a community's buildings in groups, versioned like units, with a leader slot.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "residents_groups",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("code", sa.String(32), nullable=False, index=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("valid_from", sa.Date, nullable=False, index=True),
        sa.Column("valid_to", sa.Date, nullable=True),
        sa.Column("change_id", sa.Integer, sa.ForeignKey("change_log.id"), nullable=True),
        sa.Column("closed_by", sa.Integer, nullable=True, index=True),
        sa.Column("cancelled_by", sa.Integer, nullable=True),
        sa.Column("synthetic", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("community_code", sa.String(32), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("households", sa.Integer, nullable=False),
        sa.Column("residents", sa.Integer, nullable=False),
        sa.Column("building_codes", sa.JSON, nullable=False),
        sa.Column("leader", sa.String(200), nullable=True),
        sa.UniqueConstraint("code", "version", name="uq_residents_groups_code_version"),
    )
    op.create_index("ix_residents_groups_community_current", "residents_groups", ["community_code", "valid_to"])


def downgrade() -> None:
    op.drop_index("ix_residents_groups_community_current", table_name="residents_groups")
    op.drop_table("residents_groups")
