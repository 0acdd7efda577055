"""The map on either side of a change: versions read from the database, plus the change's own rows.

A :class:`State` is a base (the latest versions, or the versions valid on a day) overlaid with a
*diff*: rows that replace the base row of the same code or add a new code. Both sides of every
proposal are built this way, so the rest of the report does not care where they came from:

- a draft: before = the latest versions; after = the same plus the preview's changes (new unit
  shapes and parents, buildings' new grids, stations' new communities);
- an applied or reverted proposal: after = the versions its change wrote (``change_id``); before =
  the version each of those replaced (``version - 1``); the base is the map on the day before the
  change took effect, so the neighbours are the ones the change was made among.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely
from shapely.geometry import MultiPolygon, shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Connection, bindparam, text

from geo.domain import POPULATION_FIELDS, Level
from geo.store import AS_OF, SRID, TABLE_COLUMNS, read_all_versions, read_filtered, read_made_by

FIGURES = (*POPULATION_FIELDS, "buildings")
GRID = 1e-9  # degrees: the precision grid of reassignment overlays (0.1 mm)


@dataclass
class State:
    """One side of a change: base versions (latest when ``as_of`` is None) overlaid with ``diff``.

    ``gone`` names units that do not exist on this side although the base holds them (the units a
    merge retires, on its after side).
    """

    conn: Connection
    as_of: dt.date | None
    diff: dict[str, gpd.GeoDataFrame] = field(default_factory=dict)
    gone: frozenset[str] = frozenset()
    _cache: dict[tuple[Any, ...], gpd.GeoDataFrame] = field(default_factory=dict, repr=False)

    def _where(self) -> tuple[list[str], dict[str, Any]]:
        if self.as_of is None:
            return ["valid_to IS NULL"], {}
        return [AS_OF], {"as_of": self.as_of}

    def read(self, table: str, *, where_in: dict[str, Sequence[str]] | None = None,
             bbox: tuple[float, float, float, float] | None = None) -> gpd.GeoDataFrame:
        """Rows of ``table`` in this state, filtered by column values and by a lon/lat box (cached)."""
        key = (table, tuple(sorted((c, tuple(sorted(v))) for c, v in (where_in or {}).items())), bbox)
        if key not in self._cache:
            self._cache[key] = self._read(table, where_in=where_in, bbox=bbox)
        return self._cache[key].copy()

    def _read(self, table: str, *, where_in: dict[str, Sequence[str]] | None,
              bbox: tuple[float, float, float, float] | None) -> gpd.GeoDataFrame:
        base = read_filtered(self.conn, table, as_of=self.as_of, where_in=where_in, bbox=bbox)
        if table == "units" and self.gone:
            base = base[~base["code"].isin(self.gone)]
        extra = self.diff.get(table)
        if extra is None or extra.empty:
            return base
        base = base[~base["code"].isin(set(extra["code"]))]
        keep = pd.Series(True, index=extra.index)
        for column, values in (where_in or {}).items():
            keep &= extra[column].isin(set(values))
        if bbox is not None:
            keep &= extra.geometry.intersects(shapely.box(*bbox))
        rows = extra[keep]
        if rows.empty:
            return base
        merged = pd.concat([base, rows], ignore_index=True) if not base.empty else rows
        merged = merged.sort_values("code", kind="stable").reset_index(drop=True)
        return gpd.GeoDataFrame(merged, geometry="geometry", crs=SRID)

    def unit_table(self, prefix: str) -> pd.DataFrame:
        """code, name, name_en, level, kind, parent_code, workers of every unit whose code starts with ``prefix``."""
        where, params = self._where()
        rows = self.conn.execute(
            text("SELECT code, name, name_en, level, kind, parent_code, workers FROM units WHERE "
                 + " AND ".join(f"({w})" for w in where) + " AND code LIKE :prefix"),
            {**params, "prefix": f"{prefix}%"},
        ).all()
        frame = pd.DataFrame([tuple(r) for r in rows],
                             columns=["code", "name", "name_en", "level", "kind", "parent_code", "workers"])
        frame = frame[~frame["code"].isin(self.gone)]
        extra = self.diff.get("units")
        if extra is not None and not extra.empty:
            mine = extra[extra["code"].str.startswith(prefix)]
            frame = frame[~frame["code"].isin(set(mine["code"]))]
            frame = pd.concat([frame, pd.DataFrame(mine[list(frame.columns)])], ignore_index=True)
        return frame

    def grid_sums(self, *, prefix: str | None = None, grids: Sequence[str] | None = None) -> pd.DataFrame:
        """Households, residents, … and building counts per grid code, for grids by prefix or by code."""
        where, params = self._where()
        stmt_where = " AND ".join(f"({w})" for w in where)
        if prefix is not None:
            stmt_where += " AND grid_code LIKE :prefix"
            params["prefix"] = f"{prefix}%"
        if grids is not None:
            stmt_where += " AND grid_code IN :grids"
            params["grids"] = list(grids) or [""]
        sums = ", ".join(f"coalesce(sum({f}), 0)" for f in POPULATION_FIELDS)
        stmt = text(f"SELECT grid_code, {sums}, count(*) FROM buildings WHERE {stmt_where} GROUP BY grid_code")
        if grids is not None:
            stmt = stmt.bindparams(bindparam("grids", expanding=True))
        frame = pd.DataFrame([tuple(r) for r in self.conn.execute(stmt, params)], columns=["grid_code", *FIGURES])
        frame = frame.set_index("grid_code").astype("int64")
        extra = self.diff.get("buildings")
        if extra is None or extra.empty:
            return frame
        # Take out the base versions of the buildings the diff replaces and add the diff's versions.
        replaced = State(self.conn, self.as_of).read("buildings", where_in={"code": list(extra["code"])})
        for rows, sign in ((replaced, -1), (extra, 1)):
            if rows.empty:
                continue
            delta = rows.assign(buildings=1).groupby("grid_code")[list(FIGURES)].sum().astype("int64") * sign
            frame = frame.add(delta, fill_value=0).astype("int64")
        if prefix is not None:
            frame = frame[frame.index.str.startswith(prefix)]
        if grids is not None:
            frame = frame[frame.index.isin(set(grids))]
        return frame

    def descendants(self, codes: Sequence[str], down_to: Level) -> pd.DataFrame:
        """Units at level ``down_to`` below each of ``codes``: columns ``code``, ``ancestor``."""
        units = self.read("units", where_in={"code": list(codes)})
        found = pd.DataFrame({"code": units["code"], "ancestor": units["code"], "level": units["level"]})
        out = [found[found["level"] == down_to.value]]
        frontier = found[found["level"] != down_to.value]
        while not frontier.empty:
            children = self.read("units", where_in={"parent_code": list(frontier["code"])})
            if children.empty:
                break
            link = dict(zip(frontier["code"], frontier["ancestor"], strict=True))
            step = pd.DataFrame({"code": children["code"], "ancestor": children["parent_code"].map(link),
                                 "level": children["level"]})
            out.append(step[step["level"] == down_to.value])
            frontier = step[step["level"] != down_to.value]
        return pd.concat(out, ignore_index=True)[["code", "ancestor"]]


@dataclass
class Sides:
    """Both sides of a change and the territory it moves."""

    before: State
    after: State
    territory: BaseGeometry
    moved: list[dict[str, str]]  # {code, grid_before, grid_after} for every building whose unit changes


def _multi(geom: BaseGeometry) -> MultiPolygon:
    if isinstance(geom, MultiPolygon):
        return geom
    parts = [p for p in shapely.get_parts(geom) if p.geom_type == "Polygon"]
    return MultiPolygon(parts)


def draft_sides(conn: Connection, preview: dict[str, Any]) -> Sides:
    """Before = the latest versions; after = those with the preview's changes.

    A merge's retired units are gone after; the unit that stays takes the retired communities'
    workers; a split's new grids take their kind and English name from the grid they are cut from.
    """
    before = State(conn, None)
    features = preview["after"]["features"]
    codes = [f["properties"]["code"] for f in features]
    sources = {s["new_code"]: s["code"] for s in preview.get("grids_split", [])}
    roles = {u["code"]: u["role"] for u in preview.get("units", [])}
    if preview.get("kind") == "split":
        grid = next(c for c, r in roles.items() if r == "from")
        sources.update({code: grid for code in preview.get("created", [])})
    retired = list(preview.get("retired", []))
    current = before.read("units", where_in={"code": sorted(set(codes) | set(sources.values()) | set(retired))})
    current = current.set_index("code", drop=False)
    rows = []
    for feature in features:
        props = feature["properties"]
        code = props["code"]
        if code in current.index:
            row = current.loc[code].to_dict()
        else:
            row = _new_row(code, current.loc[sources[code]] if sources.get(code) in current.index else None,
                           preview)
            row["workers"] = 0 if props["level"] == Level.community else None
        if roles.get(code) == "to" and props["level"] == Level.community and retired:
            gained = pd.to_numeric(current.loc[current.index.isin(retired), "workers"]).fillna(0).sum()
            row["workers"] = int(row["workers"] or 0) + int(gained)
        row.update(name=props["name"], level=props["level"], parent_code=props["parent_code"],
                   geometry=_multi(shape(feature["geometry"])))
        rows.append(row)
    diff = {"units": _frame(rows, "units")}
    moved = list(preview.get("buildings_moved", []))
    regrid = {m["code"]: m["grid_after"] for m in moved if m["grid_after"] != m["grid_before"]}
    if regrid:
        buildings = before.read("buildings", where_in={"code": sorted(regrid)})
        buildings["grid_code"] = buildings["code"].map(regrid)
        diff["buildings"] = buildings
    restation = {s["code"]: s["to"] for s in preview.get("stations", [])}
    if restation:
        stations = before.read("stations", where_in={"code": sorted(restation)})
        stations["community_code"] = stations["code"].map(restation)
        diff["stations"] = stations
    territory = _multi(shape(preview["territory"]))
    return Sides(before=before, after=State(conn, None, diff, gone=frozenset(retired)), territory=territory,
                 moved=moved)


def _new_row(code: str, source: Any, preview: dict[str, Any]) -> dict[str, Any]:
    """A unit the change creates, as the change will write it (kind and English name from its source)."""
    row = {"code": code, "version": 1, "name_en": None, "kind": None, "synthetic": False,
           "valid_from": None, "valid_to": None, "change_id": None}
    recoded = {r["new_code"]: r for r in preview.get("recoded", [])}
    if code in recoded:  # a unit moved whole under a new code keeps its English name (geo.reassign.plan.recode)
        row["name_en"] = recoded[code].get("name_en")
    if source is None:
        return row
    if code in recoded:
        row.update(kind=source["kind"], synthetic=bool(source["synthetic"]))
        return row
    row.update(kind=source["kind"], synthetic=bool(source["synthetic"]))
    if source["name_en"]:
        created = list(preview.get("created", [])) if preview.get("kind") == "split" else []
        suffix = f"part {created.index(code) + 2}" if code in created else "moved part"
        row["name_en"] = f"{source['name_en']} ({suffix})"
    return row


def _frame(rows: list[dict[str, Any]], table: str) -> gpd.GeoDataFrame:
    frame = pd.DataFrame(rows, columns=[*TABLE_COLUMNS[table], "geometry"])
    return gpd.GeoDataFrame(frame, geometry="geometry", crs=SRID)


def applied_sides(conn: Connection, change_id: int, effective_date: dt.date, from_code: str,
                  preview: dict[str, Any]) -> Sides:
    """Before and after an applied change, from the versions it wrote and the ones they replaced.

    The units a merge retired were closed with no successor: they are gone after, and the merged
    territory is what they covered before.
    """
    after_diff: dict[str, gpd.GeoDataFrame] = {}
    before_diff: dict[str, gpd.GeoDataFrame] = {}
    for table in TABLE_COLUMNS:
        made = read_made_by(conn, table, change_id)
        if made.empty:
            continue
        after_diff[table] = made
        before_diff[table] = _replaced(conn, table, made)
    day = effective_date - dt.timedelta(days=1)
    retired = frozenset(preview.get("retired", []))
    before, after = State(conn, day, before_diff), State(conn, day, after_diff, gone=retired)
    if retired:
        territory = _multi(shapely.union_all(
            list(before.read("units", where_in={"code": sorted(retired)}).geometry), grid_size=GRID))
    else:
        a_before = before.read("units", where_in={"code": [from_code]}).geometry.iloc[0]
        a_after = after.read("units", where_in={"code": [from_code]}).geometry.iloc[0]
        territory = _multi(shapely.difference(a_before, a_after, grid_size=GRID))
    moved = preview.get("buildings_moved")
    if moved is None:  # summaries recorded before the preview listed buildings
        moved = _moved_from_versions(before, after_diff.get("buildings"), preview.get("grids_moved_whole", []))
    return Sides(before=before, after=after, territory=territory, moved=list(moved))


def _replaced(conn: Connection, table: str, made: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The version each made row replaced: the newest earlier version of its code that was not cancelled.

    Version numbers are not consecutive once a change has been cancelled (its versions stay, marked), so
    "version - 1" may be a cancelled one; this also holds after the change itself was cancelled.
    """
    history = read_all_versions(conn, table, list(made["code"]))
    stmt = text(f"SELECT code, version FROM {table} WHERE code IN :codes AND cancelled_by IS NULL").bindparams(
        bindparam("codes", expanding=True))
    live = {(c, int(v)) for c, v in conn.execute(stmt, {"codes": list(made["code"]) or [""]})}
    made_version = dict(zip(made["code"], made["version"].astype(int), strict=True))
    best: dict[str, int] = {}
    for code, version in live:
        if version < made_version.get(code, 0) and version > best.get(code, 0):
            best[code] = version
    keys = list(zip(history["code"], history["version"].astype(int), strict=True))
    return history[[best.get(c) == v for c, v in keys]]


def _moved_from_versions(before: State, regridded: gpd.GeoDataFrame | None,
                         whole_grids: list[str]) -> list[dict[str, str]]:
    out = []
    if whole_grids:
        rows = before.read("buildings", where_in={"grid_code": whole_grids})
        out += [{"code": c, "grid_before": g, "grid_after": g} for c, g in zip(rows["code"], rows["grid_code"],
                                                                               strict=True)]
    if regridded is not None and not regridded.empty:
        old = before.read("buildings", where_in={"code": list(regridded["code"])}).set_index("code")["grid_code"]
        out += [{"code": c, "grid_before": old[c], "grid_after": g}
                for c, g in zip(regridded["code"], regridded["grid_code"], strict=True)]
    return sorted(out, key=lambda r: r["code"])
