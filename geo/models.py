"""Database schema (SQLAlchemy 2 + GeoAlchemy2), one for SpatiaLite and PostGIS.

Units, buildings and stations are *versioned*: a row is one version, valid on
``valid_from <= day < valid_to`` (``valid_to`` NULL = current). Nothing is updated in place
except closing a version; the change log is append-only (enforced by triggers in the migration).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from geoalchemy2 import Geometry
from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

SRID = 4326


class Base(DeclarativeBase):
    """Declarative base of the gridgov schema."""


class VersionedMixin:
    """Columns shared by every versioned feature table."""

    code: Mapped[str] = mapped_column(String(32), index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    valid_from: Mapped[dt.date] = mapped_column(Date, index=True)
    valid_to: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    # The change that created this version (import, apply or revert).
    change_id: Mapped[int | None] = mapped_column(ForeignKey("change_log.id"), nullable=True)
    # The change that closed this version (set valid_to); undo follows it back.
    closed_by: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    # Set when the change that made this version was cancelled (撤销): its interval is then empty.
    cancelled_by: Mapped[int | None] = mapped_column(Integer, nullable=True)
    synthetic: Mapped[bool] = mapped_column(Boolean, default=False)


class Unit(VersionedMixin, Base):
    """One version of an administrative unit: district, subdistrict, community or grid."""

    __tablename__ = "units"
    __table_args__ = (
        UniqueConstraint("code", "version", name="uq_units_code_version"),
        Index("ix_units_parent_current", "parent_code", "valid_to"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str | None] = mapped_column(String(200), nullable=True)
    level: Mapped[str] = mapped_column(String(16), index=True)
    kind: Mapped[str | None] = mapped_column(String(16), nullable=True)
    parent_code: Mapped[str | None] = mapped_column(String(32), nullable=True)
    workers: Mapped[int | None] = mapped_column(Integer, nullable=True)
    geom: Mapped[Any] = mapped_column(Geometry("MULTIPOLYGON", srid=SRID, spatial_index=True))


class Building(VersionedMixin, Base):
    """One version of a building (楼栋/院落): where residents live, assigned to one grid."""

    __tablename__ = "buildings"
    __table_args__ = (
        UniqueConstraint("code", "version", name="uq_buildings_code_version"),
        Index("ix_buildings_grid_current", "grid_code", "valid_to"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    grid_code: Mapped[str] = mapped_column(String(32))
    address: Mapped[str | None] = mapped_column(String(300), nullable=True)
    households: Mapped[int] = mapped_column(Integer)
    residents: Mapped[int] = mapped_column(Integer)
    elderly: Mapped[int] = mapped_column(Integer, default=0)
    children: Mapped[int] = mapped_column(Integer, default=0)
    special_care: Mapped[int] = mapped_column(Integer, default=0)
    geom: Mapped[Any] = mapped_column(Geometry("POINT", srid=SRID, spatial_index=True))


class Station(VersionedMixin, Base):
    """One version of a service station and the community responsible for it."""

    __tablename__ = "stations"
    __table_args__ = (
        UniqueConstraint("code", "version", name="uq_stations_code_version"),
        Index("ix_stations_community_current", "community_code", "valid_to"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str | None] = mapped_column(String(200), nullable=True)
    kind: Mapped[str] = mapped_column(String(40), index=True)
    capacity: Mapped[int | None] = mapped_column(Integer, nullable=True)
    community_code: Mapped[str] = mapped_column(String(32))
    geom: Mapped[Any] = mapped_column(Geometry("POINT", srid=SRID, spatial_index=True))


class ChangeLog(Base):
    """Append-only record of every import, applied proposal and revert."""

    __tablename__ = "change_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))  # import | apply | revert (a reversal) | cancel
    proposal_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    author: Mapped[str] = mapped_column(String(200))
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    effective_date: Mapped[dt.date] = mapped_column(Date)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    document_ref: Mapped[str | None] = mapped_column(String(200), nullable=True)
    # Codes of the units touched, and figures moved, as JSON for querying by unit.
    units: Mapped[list[str]] = mapped_column(JSON, default=list)
    summary: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    key_name: Mapped[str | None] = mapped_column(String(200), nullable=True)  # the API key behind the change
    key_role: Mapped[str | None] = mapped_column(String(16), nullable=True)
    undoes: Mapped[int | None] = mapped_column(Integer, nullable=True)  # the change a reverse/cancel undoes


class UnitLineage(Base):
    """A unit version's predecessor: what it came from (move, split, merge) or the code it had (recode)."""

    __tablename__ = "unit_lineage"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(32), index=True)
    predecessor: Mapped[str] = mapped_column(String(32), index=True)
    relation: Mapped[str] = mapped_column(String(16))  # move | split | merge | recode
    change_id: Mapped[int] = mapped_column(ForeignKey("change_log.id"), index=True)
    cancelled_by: Mapped[int | None] = mapped_column(Integer, nullable=True)


class ProposalEvent(Base):
    """Append-only life of a proposal: created, edited, withdrawn, applied, reversed, cancelled, recomputed."""

    __tablename__ = "proposal_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id"), index=True)
    action: Mapped[str] = mapped_column(String(16))
    author: Mapped[str] = mapped_column(String(200))
    key_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    key_role: Mapped[str | None] = mapped_column(String(16), nullable=True)
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    change_id: Mapped[int | None] = mapped_column(Integer, nullable=True)


class Proposal(Base):
    """A boundary change: a move from ``from_code`` to ``to_code``, a split of a grid, or a merge."""

    __tablename__ = "proposals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # draft | applied | reverted (reversed, 恢复) | cancelled (撤销) | withdrawn; applied in the future = "scheduled"
    status: Mapped[str] = mapped_column(String(16), default="draft", index=True)
    level: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(8), default="move", server_default="move")  # move|split|merge
    from_code: Mapped[str] = mapped_column(String(32), index=True)
    to_code: Mapped[str | None] = mapped_column(String(32), index=True, nullable=True)  # None for a split
    child_codes: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    area: Mapped[Any] = mapped_column(
        Geometry("MULTIPOLYGON", srid=SRID, spatial_index=False), nullable=True
    )
    parts: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON, nullable=True)  # a split's parts, GeoJSON
    merge_codes: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)  # units a merge retires
    effective_date: Mapped[dt.date] = mapped_column(Date)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    document_ref: Mapped[str | None] = mapped_column(String(200), nullable=True)
    author: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    # {code: version} of the units the proposal was computed against (stale ones are refused).
    base_versions: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    applied_change_id: Mapped[int | None] = mapped_column(ForeignKey("change_log.id"), nullable=True)
    reverted_change_id: Mapped[int | None] = mapped_column(ForeignKey("change_log.id"), nullable=True)
    cancelled_change_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    workers_moved: Mapped[int | None] = mapped_column(Integer, nullable=True)  # community workers moving A→B
    allow_non_adjacent: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    key_name: Mapped[str | None] = mapped_column(String(200), nullable=True)  # the API key that proposed it
    key_role: Mapped[str | None] = mapped_column(String(16), nullable=True)


class ApiKey(Base):
    """A hashed API key and its role (reader, planner or admin)."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class ResidentsGroup(VersionedMixin, Base):
    """One version of a residents' group (居民小组): a community's buildings, with a leader slot (geo.groups)."""

    __tablename__ = "residents_groups"
    __table_args__ = (
        UniqueConstraint("code", "version", name="uq_residents_groups_code_version"),
        Index("ix_residents_groups_community_current", "community_code", "valid_to"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    community_code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))
    households: Mapped[int] = mapped_column(Integer)
    residents: Mapped[int] = mapped_column(Integer)
    building_codes: Mapped[list[str]] = mapped_column(JSON, default=list)
    leader: Mapped[str | None] = mapped_column(String(200), nullable=True)  # 居民小组长 / 楼栋长, filled by people


class Event(Base):
    """A reported event (事件) with the grid, community and sub-district that held it on its day."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    client_id: Mapped[str | None] = mapped_column(String(100), nullable=True, unique=True)
    category: Mapped[str] = mapped_column(String(40))
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    source: Mapped[str] = mapped_column(String(20))
    reporter_name: Mapped[str | None] = mapped_column(String(200), nullable=True)  # personal information
    reporter_contact: Mapped[str | None] = mapped_column(String(200), nullable=True)  # personal information
    photo_ref: Mapped[str | None] = mapped_column(String(500), nullable=True)
    address: Mapped[str | None] = mapped_column(String(300), nullable=True)
    building_code: Mapped[str | None] = mapped_column(String(32), nullable=True)
    reported_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    reported_day: Mapped[dt.date] = mapped_column(Date, index=True)
    lon: Mapped[float] = mapped_column(Float, index=True)
    lat: Mapped[float] = mapped_column(Float)
    grid_code: Mapped[str] = mapped_column(String(32), index=True)
    community_code: Mapped[str] = mapped_column(String(32), index=True)
    subdistrict_code: Mapped[str] = mapped_column(String(32), index=True)
    assignee_level: Mapped[str] = mapped_column(String(16))
    assignee_code: Mapped[str] = mapped_column(String(32), index=True)
    # The community the assignee works under (a grid can move to another community keeping its code).
    assignee_community: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), index=True)
    status_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    due_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    synthetic: Mapped[bool] = mapped_column(Boolean, default=False)
    geom: Mapped[Any] = mapped_column(Geometry("POINT", srid=SRID, spatial_index=False))  # boxes: lon/lat


class EventTransition(Base):
    """Append-only audit of an event: every status change and reassignment, who and when."""

    __tablename__ = "event_transitions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # status | reassign
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(200))
    from_status: Mapped[str | None] = mapped_column(String(16), nullable=True)
    to_status: Mapped[str] = mapped_column(String(16))
    from_assignee: Mapped[str | None] = mapped_column(String(80), nullable=True)
    to_assignee: Mapped[str | None] = mapped_column(String(80), nullable=True)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
