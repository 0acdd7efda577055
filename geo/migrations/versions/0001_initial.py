"""Initial schema: versioned units, buildings and stations; proposals; append-only change log.

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

from typing import Any

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

SRID = 4326


def _versioned_columns() -> list[sa.Column[Any]]:
    return [
        sa.Column("code", sa.String(32), nullable=False, index=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("valid_from", sa.Date, nullable=False),
        sa.Column("valid_to", sa.Date, nullable=True),
        sa.Column("change_id", sa.Integer, sa.ForeignKey("change_log.id"), nullable=True),
        sa.Column("synthetic", sa.Boolean, nullable=False, server_default=sa.false()),
    ]


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS postgis")

    op.create_table(
        "change_log",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("proposal_id", sa.Integer, nullable=True, index=True),
        sa.Column("author", sa.String(200), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("effective_date", sa.Date, nullable=False),
        sa.Column("reason", sa.Text, nullable=True),
        sa.Column("document_ref", sa.String(200), nullable=True),
        sa.Column("units", sa.JSON, nullable=False),
        sa.Column("summary", sa.JSON, nullable=False),
    )
    op.create_table(
        "units",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        *_versioned_columns(),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("name_en", sa.String(200), nullable=True),
        sa.Column("level", sa.String(16), nullable=False, index=True),
        sa.Column("kind", sa.String(16), nullable=True),
        sa.Column("parent_code", sa.String(32), nullable=True),
        sa.Column("workers", sa.Integer, nullable=True),
        sa.Column("geom", Geometry("MULTIPOLYGON", srid=SRID, spatial_index=True), nullable=False),
        sa.UniqueConstraint("code", "version", name="uq_units_code_version"),
        sa.CheckConstraint("valid_to IS NULL OR valid_to >= valid_from", name="ck_units_validity"),
        sa.CheckConstraint("workers IS NULL OR workers >= 0", name="ck_units_workers"),
    )
    op.create_index("ix_units_parent_current", "units", ["parent_code", "valid_to"])
    op.create_table(
        "buildings",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        *_versioned_columns(),
        sa.Column("grid_code", sa.String(32), nullable=False),
        sa.Column("address", sa.String(300), nullable=True),
        sa.Column("households", sa.Integer, nullable=False),
        sa.Column("residents", sa.Integer, nullable=False),
        sa.Column("elderly", sa.Integer, nullable=False, server_default="0"),
        sa.Column("children", sa.Integer, nullable=False, server_default="0"),
        sa.Column("special_care", sa.Integer, nullable=False, server_default="0"),
        sa.Column("geom", Geometry("POINT", srid=SRID, spatial_index=True), nullable=False),
        sa.UniqueConstraint("code", "version", name="uq_buildings_code_version"),
        sa.CheckConstraint(
            "households >= 0 AND residents >= 0 AND elderly >= 0 AND children >= 0 AND special_care >= 0",
            name="ck_buildings_population",
        ),
    )
    op.create_index("ix_buildings_grid_current", "buildings", ["grid_code", "valid_to"])
    op.create_table(
        "stations",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        *_versioned_columns(),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("name_en", sa.String(200), nullable=True),
        sa.Column("kind", sa.String(40), nullable=False, index=True),
        sa.Column("capacity", sa.Integer, nullable=True),
        sa.Column("community_code", sa.String(32), nullable=False),
        sa.Column("geom", Geometry("POINT", srid=SRID, spatial_index=True), nullable=False),
        sa.UniqueConstraint("code", "version", name="uq_stations_code_version"),
    )
    op.create_index("ix_stations_community_current", "stations", ["community_code", "valid_to"])
    op.create_table(
        "proposals",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("status", sa.String(16), nullable=False, index=True),
        sa.Column("level", sa.String(16), nullable=False),
        sa.Column("from_code", sa.String(32), nullable=False, index=True),
        sa.Column("to_code", sa.String(32), nullable=False, index=True),
        sa.Column("child_codes", sa.JSON, nullable=True),
        sa.Column("area", Geometry("MULTIPOLYGON", srid=SRID, spatial_index=False), nullable=True),
        sa.Column("effective_date", sa.Date, nullable=False),
        sa.Column("reason", sa.Text, nullable=True),
        sa.Column("document_ref", sa.String(200), nullable=True),
        sa.Column("author", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("base_versions", sa.JSON, nullable=False),
        sa.Column("applied_change_id", sa.Integer, sa.ForeignKey("change_log.id"), nullable=True),
        sa.Column("reverted_change_id", sa.Integer, sa.ForeignKey("change_log.id"), nullable=True),
    )

    # The change log is append-only: history must never be rewritten.
    if dialect == "postgresql":
        op.execute(
            """
            CREATE FUNCTION change_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION 'change_log is append-only'; END $$;
            """
        )
        op.execute(
            "CREATE TRIGGER change_log_no_update BEFORE UPDATE OR DELETE ON change_log "
            "FOR EACH ROW EXECUTE FUNCTION change_log_append_only()"
        )
    else:
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER change_log_no_{action.lower()} BEFORE {action} ON change_log "
                "BEGIN SELECT RAISE(ABORT, 'change_log is append-only'); END"
            )


def downgrade() -> None:
    for table in ("proposals", "stations", "buildings", "units", "change_log"):
        op.drop_table(table)
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS change_log_append_only()")
