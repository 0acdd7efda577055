"""Events (事件): reports placed on the map and routed to a grid, and their append-only transitions.

An event keeps the grid, community and sub-district that held its point on the day it was reported;
later boundary changes never rewrite them. ``event_transitions`` is the audit of every status change
and reassignment (who, when, from -> to, note) and, like the change log, cannot be updated or deleted.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.create_table(
        "events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("client_id", sa.String(100), nullable=True, unique=True),
        sa.Column("category", sa.String(40), nullable=False),
        sa.Column("description", sa.Text, nullable=True),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("reporter_name", sa.String(200), nullable=True),
        sa.Column("reporter_contact", sa.String(200), nullable=True),
        sa.Column("photo_ref", sa.String(500), nullable=True),
        sa.Column("address", sa.String(300), nullable=True),
        sa.Column("building_code", sa.String(32), nullable=True),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reported_day", sa.Date, nullable=False, index=True),
        sa.Column("lon", sa.Float, nullable=False, index=True),
        sa.Column("lat", sa.Float, nullable=False),
        sa.Column("grid_code", sa.String(32), nullable=False, index=True),
        sa.Column("community_code", sa.String(32), nullable=False, index=True),
        sa.Column("subdistrict_code", sa.String(32), nullable=False, index=True),
        sa.Column("assignee_level", sa.String(16), nullable=False),
        sa.Column("assignee_code", sa.String(32), nullable=False, index=True),
        sa.Column("assignee_community", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False, index=True),
        sa.Column("status_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("synthetic", sa.Boolean, nullable=False, server_default=sa.false()),
        # Boxes are searched on lon/lat (indexed); the geometry is for GIS clients. An R*Tree would
        # cost more than the rest of an insert on SpatiaLite.
        sa.Column("geom", Geometry("POINT", srid=4326, spatial_index=False), nullable=False),
    )
    op.create_table(
        "event_transitions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.Integer, sa.ForeignKey("events.id"), nullable=False, index=True),
        sa.Column("kind", sa.String(16), nullable=False),  # status | reassign
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("from_status", sa.String(16), nullable=True),
        sa.Column("to_status", sa.String(16), nullable=False),
        sa.Column("from_assignee", sa.String(80), nullable=True),
        sa.Column("to_assignee", sa.String(80), nullable=True),
        sa.Column("note", sa.Text, nullable=True),
    )
    if dialect == "postgresql":
        op.execute(
            """
            CREATE FUNCTION event_transitions_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION 'event_transitions is append-only'; END $$;
            """
        )
        op.execute(
            "CREATE TRIGGER event_transitions_no_update BEFORE UPDATE OR DELETE ON event_transitions "
            "FOR EACH ROW EXECUTE FUNCTION event_transitions_append_only()"
        )
    else:
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER event_transitions_no_{action.lower()} BEFORE {action} ON event_transitions "
                "BEGIN SELECT RAISE(ABORT, 'event_transitions is append-only'); END"
            )


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.drop_table("event_transitions")
    if dialect == "sqlite":  # SpatiaLite keeps the column's registration unless told
        op.execute("SELECT DiscardGeometryColumn('events', 'geom')")
    op.drop_table("events")
    if dialect == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS event_transitions_append_only()")
