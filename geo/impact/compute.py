"""Compute the impact report of a proposal once; every form (JSON, HTML, PDF, CSV) renders the result."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd
import shapely
from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Connection, Engine, text

from geo.domain import Level
from geo.errors import Conflict
from geo.impact.access import CENTRE, access_section
from geo.impact.boundary import (
    Place,
    geodesic_length_m,
    neighbours_of,
    outer_place,
    removed_boundary,
    shared_boundary,
    shared_line,
    sides_text,
    unit_sides,
)
from geo.impact.checks import Findings, impact_warnings
from geo.impact.events import events_impact
from geo.impact.figures import district_medians, shape_measures, unit_impacts
from geo.impact.groups import groups_adjustment
from geo.impact.model import (
    AffectedBuilding,
    Boundary,
    ImpactReport,
    Kind,
    MapData,
    MovedFigures,
    Norms,
    ProposalInfo,
    SplitUnit,
    StationMove,
    Summary,
    Text,
    UnitBoundary,
    UnitRef,
)
from geo.impact.state import Sides, State, applied_sides, draft_sides
from geo.nulls import optional_text
from geo.reassign import preview_proposal
from geo.store import as_date


def compute_impact(engine: Engine, proposal_id: int, *, norms: Norms | None = None) -> ImpactReport:
    """The impact of proposal ``proposal_id``: live for a draft, from its change's versions once applied.

    Raises NotFound for an unknown proposal and Conflict for a draft the map has moved away from.
    """
    norms = norms or Norms()
    data = preview_proposal(engine, proposal_id)
    if data["proposal"]["status"] == "withdrawn":
        raise Conflict(f"proposal {proposal_id} was withdrawn; a withdrawn draft has no impact report", field="id")
    if data["preview"] is None:
        raise Conflict(f"proposal {proposal_id} no longer fits the current map: {data.get('refused')}", field="id")
    options = {"isolation_level": "REPEATABLE READ"} if engine.dialect.name == "postgresql" else {}
    with engine.connect().execution_options(**options) as conn, conn.begin():
        record, preview = data["proposal"], data["preview"]
        if record["status"] == "draft":
            sides = draft_sides(conn, preview)
        else:
            day = dt.date.fromisoformat(record["effective_date"])
            sides = applied_sides(conn, int(record["applied_change_id"]), day, record["from_code"], preview)
        return _report(conn, record, preview, list(data["stale"]), sides, norms)


def _ref(row: Any) -> UnitRef:
    return UnitRef(code=str(row["code"]), name=str(row["name"]), name_en=optional_text(row["name_en"]))


def _round_coords(geom: BaseGeometry) -> dict[str, Any]:
    return dict(mapping(shapely.transform(geom, lambda xy: np.round(xy, 6))))


def _moved_frame(sides: Sides) -> pd.DataFrame:
    """One row per moved building: attributes, lon/lat, grid and community before and after."""
    moved = pd.DataFrame(sides.moved, columns=["code", "grid_before", "grid_after"])
    rows = sides.before.read("buildings", where_in={"code": list(moved["code"])})
    frame = moved.merge(pd.DataFrame(rows.drop(columns=["grid_code"])), on="code", how="inner")
    frame["lon"] = [g.x for g in frame["geometry"]]
    frame["lat"] = [g.y for g in frame["geometry"]]
    for side, state in (("before", sides.before), ("after", sides.after)):
        grids = state.read("units", where_in={"code": sorted(set(frame[f"grid_{side}"]))}).set_index("code")
        frame[f"community_{side}"] = frame[f"grid_{side}"].map(grids["parent_code"])
    return frame.sort_values("code").reset_index(drop=True)


def _names(state: State, codes: set[str]) -> dict[str, UnitRef]:
    rows = state.read("units", where_in={"code": sorted(codes)})
    return {str(r["code"]): _ref(r) for _, r in rows.iterrows()}


def _households(frame: pd.DataFrame, sides: Sides, d_before: np.ndarray, d_after: np.ndarray) -> list[AffectedBuilding]:
    before = _names(sides.before, set(frame["grid_before"]) | set(frame["community_before"]))
    after = _names(sides.after, set(frame["grid_after"]) | set(frame["community_after"]))

    def dist(value: float) -> float | None:
        return None if np.isnan(value) else round(float(value), 1)

    return [AffectedBuilding(
        code=r.code, address=optional_text(r.address), households=int(r.households),
        residents=int(r.residents), elderly=int(r.elderly), children=int(r.children),
        special_care=int(r.special_care), lon=round(float(r.lon), 7), lat=round(float(r.lat), 7),
        community_before=before[r.community_before], community_after=after[r.community_after],
        grid_before=before[r.grid_before], grid_after=after[r.grid_after],
        distance_before_m=dist(db), distance_after_m=dist(da),
    ) for r, db, da in zip(frame.itertuples(), d_before, d_after, strict=True)]


def _summary(frame: pd.DataFrame, sides: Sides, preview: dict[str, Any]) -> Summary:
    moved = MovedFigures(area_km2=shape_measures(sides.territory)["area_km2"], buildings=len(frame),
                         **{f: int(frame[f].sum()) for f in ("households", "residents", "elderly", "children",
                                                             "special_care")})
    split = preview.get("grids_split", [])
    names = _names(sides.before, set(preview.get("grids_moved_whole", [])) | {s["code"] for s in split})
    levels = {c: str(lv) for c, lv in zip(*_levels(sides.before, [s["code"] for s in split]), strict=True)}
    stations = []
    if preview.get("stations"):
        rows = sides.before.read("stations", where_in={"code": [s["code"] for s in preview["stations"]]})
        info = rows.set_index("code")
        communities = _names(sides.before, {s["from"] for s in preview["stations"]})
        communities.update(_names(sides.after, {s["to"] for s in preview["stations"]}))
        stations = [StationMove(code=s["code"], name=str(info.loc[s["code"], "name"]),
                                name_en=optional_text(info.loc[s["code"], "name_en"]),
                                kind=str(info.loc[s["code"], "kind"]),
                                community_before=communities[s["from"]], community_after=communities[s["to"]])
                    for s in preview["stations"] if s["code"] in info.index]
    return Summary(
        moved=moved, grids_moved_whole=[names[c] for c in preview.get("grids_moved_whole", []) if c in names],
        grids_split=[SplitUnit(code=s["code"], name=names[s["code"]].name if s["code"] in names else s["code"],
                               level=levels.get(s["code"], Level.grid.value), new_code=s["new_code"],
                               moved_area_m2=float(s["moved_area_m2"]),
                               residents_moved=_residents_from(frame, s["code"]))
                     for s in split],
        stations=stations,
    )


def _residents_from(frame: pd.DataFrame, code: str) -> int:
    """Moved residents that lived in unit ``code`` (a grid or a community) before the change."""
    return int(frame.loc[(frame["grid_before"] == code) | (frame["community_before"] == code), "residents"].sum())


def _levels(state: State, codes: list[str]) -> tuple[list[str], list[str]]:
    rows = state.read("units", where_in={"code": codes})
    return list(rows["code"]), list(rows["level"])


def _place(row: Any) -> Place:
    return Place(str(row["code"]), str(row["name"]), optional_text(row["name_en"]), row.geometry)


def _boundary(sides: Sides, kind: str, main: dict[str, str], before: pd.DataFrame, after: pd.DataFrame,
              district: Any) -> Boundary:
    """四至 of every changed unit that exists after, and the lines between them.

    A move's A/B line, a split's new lines, or the lines a merge removes.
    """
    level = str(before.loc[next(iter(main)), "level"])
    outer = outer_place(str(district["name"]), optional_text(district["name_en"]))
    places = {code: _place(after.loc[code]) for code in main if code in after.index}
    others: dict[str, Place] = {}
    units = []
    for code, unit in places.items():
        assert unit.geom is not None
        near = neighbours_of(sides.after, unit.geom, level, {code})
        others.update({str(p.code): p for p in near if p.code not in places})
        sides_ = unit_sides(unit, near, outer)
        units.append(UnitBoundary(code=code, name=unit.name, sides=sides_, text=sides_text(unit, sides_)))
    if kind == "split":
        around = list(others.values()) + list(places.values())
        codes = list(places)
        lines = [shared_boundary(places[x], places[y], None, None, around, outer)
                 for i, x in enumerate(codes) for y in codes[i + 1:]
                 if geodesic_length_m(shared_line(places[x].geom, places[y].geom)) >= 1.0]
        return Boundary(units=units, shared=None, lines=lines)
    if kind == "merge":
        keep = next(c for c, r in main.items() if r == "to")
        lines = [removed_boundary(_place(before.loc[c]), _place(before.loc[keep]))
                 for c, r in main.items() if r == "retired"]
        return Boundary(units=units, shared=None, lines=lines)
    a, b = list(main)
    shared = shared_boundary(places[a], places[b], before.loc[a].geometry, before.loc[b].geometry,
                             list(others.values()), outer)
    return Boundary(units=units, shared=shared)


def _feature(row: Any, **props: Any) -> dict[str, Any]:
    return {"type": "Feature", "geometry": _round_coords(row.geometry),
            "properties": {"code": row["code"], "name": row["name"], "name_en": optional_text(row["name_en"]),
                           "level": row["level"], **props}}


def _map(sides: Sides, main: dict[str, str], level: str) -> MapData:
    """Geometries for the maps: the changed units (with their grids) on both sides, the territory, the units around.

    Each unit's ``role`` is its role in the change (from, to, new, retired), its grids' ``grid_of_…``.
    """
    codes = list(main)
    collections, shapes = {}, []
    for side, state in (("before", sides.before), ("after", sides.after)):
        units = state.read("units", where_in={"code": codes})
        features = [_feature(r, role=main[r["code"]]) for _, r in units.iterrows()]
        shapes += list(units.geometry)
        grids = state.read("units", where_in={"parent_code": codes})
        features += [_feature(r, role="grid_of_" + main[r["parent_code"]]) for _, r in grids.iterrows()]
        collections[side] = {"type": "FeatureCollection", "features": features}
    centres = sides.before.read("stations", where_in={"community_code": codes, "kind": [CENTRE]})
    minx, miny, maxx, maxy = shapely.total_bounds(shapes)
    pad = 0.6 * max(maxx - minx, maxy - miny)  # generous: the static map widens the box to its aspect
    around = sides.after.read("units", where_in={"level": [level]}, bbox=(minx - pad, miny - pad, maxx + pad,
                                                                          maxy + pad))
    context = [Place(r.code, r.name, r.name_en or None, r.geometry) for r in around.itertuples()
               if r.code not in main]
    return MapData(
        bbox=(float(minx), float(miny), float(maxx), float(maxy)),
        territory=_round_coords(sides.territory),
        before=collections["before"], after=collections["after"],
        context={"type": "FeatureCollection", "features": [
            {"type": "Feature", "geometry": _round_coords(p.geom),
             "properties": {"code": p.code, "name": p.name, "name_en": p.name_en}} for p in context
            if p.geom is not None]},
        centres={"type": "FeatureCollection", "features": [
            {"type": "Feature", "geometry": {"type": "Point", "coordinates": [round(s.geometry.x, 7),
                                                                             round(s.geometry.y, 7)]},
             "properties": {"code": s["code"], "name": s["name"], "name_en": optional_text(s["name_en"]),
                            "community_code": s["community_code"]}} for _, s in centres.iterrows()]},
    )


def _main_units(kind: str, record: dict[str, Any], preview: dict[str, Any]) -> dict[str, str]:
    """The units the change is about, in order, with their roles.

    A and B of a move; a split's grid and its new grids; a merge's retired units and the unit that stays.
    """
    if kind == "split":
        return {record["from_code"]: "from", **dict.fromkeys(preview.get("created", []), "new")}
    if kind == "merge":
        retired = record.get("merge_codes") or preview.get("retired", [])
        return {**dict.fromkeys(retired, "retired"), record["to_code"]: "to"}
    return {record["from_code"]: "from", record["to_code"]: "to"}


def _findings(conn: Connection, record: dict[str, Any], preview: dict[str, Any], sides: Sides,
              main: dict[str, str], before: pd.DataFrame, after: pd.DataFrame, stale: list[str]) -> Findings:
    a = before.loc[record["from_code"]]
    b = before.loc[record["to_code"]] if record.get("to_code") else None
    to = b if b is not None else a
    facts = Findings(from_name=str(a["name"]), from_name_en=a["name_en"] or str(a["name"]), to_name=str(to["name"]),
                     to_name_en=to["name_en"] or str(to["name"]),
                     outside_area_m2=float(preview.get("outside_area_m2", 0)),
                     territory_touches_to=b is None
                     or geodesic_length_m(shared_line(sides.territory, b.geometry)) >= 1.0,
                     stale=stale)
    if str(a["level"]) == Level.community:
        shapes = {code: (after.loc[code].geometry, _ref(before.loc[code] if code in before.index else after.loc[code]))
                  for code in main if code in after.index}
        centres = sides.after.read("stations", where_in={"community_code": list(shapes), "kind": [CENTRE]})
        for _, c in centres.iterrows():
            own, owner = shapes[c["community_code"]]
            where = next((ref for code, (g, ref) in shapes.items() if code != c["community_code"]
                          and g.covers(c.geometry)), None)
            if not own.covers(c.geometry) and where is not None:
                facts.centres_elsewhere.append((
                    (f"{c['name']}（{c['code']}）", f"{c['name_en'] or c['name']} ({c['code']})"),
                    (owner.name, owner.name_en or owner.name), (where.name, where.name_en or where.name)))
        facts.centres_merged = _centres_merged(sides, preview, main, before)
    created = [s for s in preview.get("grids_split", []) if len(s["new_code"]) == 12]
    if created:
        names = _names(sides.after, {s["new_code"] for s in created})
        facts.new_communities = [(c, names[c].name, names[c].name_en or names[c].name) for c in sorted(names)]
    grids_before = sides.before.descendants(list(main), Level.grid)
    grids_after = sides.after.descendants(list(main), Level.grid)
    before_sums = sides.before.grid_sums(grids=list(grids_before["code"]))["residents"]
    after_sums = sides.after.grid_sums(grids=list(grids_after["code"]))["residents"].reindex(grids_after["code"],
                                                                                              fill_value=0)
    existed = set(grids_before["code"])
    emptied = [c for c, r in after_sums.items() if r == 0 and (c not in existed or before_sums.get(c, 0) > 0)]
    if emptied and str(a["level"]) != Level.grid:
        names = _names(sides.after, set(emptied))
        facts.emptied_grids = [(c, names[c].name, names[c].name_en or names[c].name) for c in sorted(emptied)
                               if c in names]
    facts.cancelled = record.get("status") == "cancelled"
    if record.get("reverted_change_id"):
        day = conn.execute(text("SELECT effective_date FROM change_log WHERE id = :i"),
                           {"i": record["reverted_change_id"]}).scalar_one()
        facts.reverted_on = as_date(day).isoformat()  # type: ignore[union-attr]
    return facts


def _centres_merged(sides: Sides, preview: dict[str, Any], main: dict[str, str],
                    before: pd.DataFrame) -> list[tuple[tuple[str, str], tuple[str, str], tuple[str, str]]]:
    """Party service centres that a merge hands from a retired community to the one that stays."""
    moves = {s["code"]: (s["from"], s["to"]) for s in preview.get("stations", []) if main.get(s["from"]) == "retired"}
    if not moves:
        return []
    rows = sides.before.read("stations", where_in={"code": sorted(moves), "kind": [CENTRE]})
    out = []
    for _, c in rows.iterrows():
        old, new = (_ref(before.loc[code]) for code in moves[c["code"]])
        out.append(((f"{c['name']}（{c['code']}）", f"{c['name_en'] or c['name']} ({c['code']})"),
                    (old.name, old.name_en or old.name), (new.name, new.name_en or new.name)))
    return out


def _and(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _headline(info: ProposalInfo, summary: Summary) -> Text:
    a, b, moved, day = info.from_unit, info.to_unit, summary.moved, info.effective_date.isoformat()
    if info.kind == "split":
        new = summary.created
        zh = (f"将{a.name}拆分为{len(new) + 1}个网格：新设{'、'.join(u.name for u in new)}，"
              f"{moved.buildings:,}栋楼、{moved.households:,}户{moved.residents:,}名居民划入新网格，"
              f"其余仍属{a.name}，自{day}起生效。")
        en = (f"Splits {a.name_en or a.name} into {len(new) + 1} grids: the new "
              f"{'grid' if len(new) == 1 else 'grids'} {_and([u.name_en or u.name for u in new])} take "
              f"{moved.buildings:,} buildings, {moved.households:,} households and {moved.residents:,} residents; "
              f"the rest stays with {a.name_en or a.name}, effective {day}.")
        return Text(zh=zh, en=en)
    assert b is not None
    if info.kind == "merge":
        gone = summary.retired
        names_zh, names_en = "、".join(u.name for u in gone), _and([u.name_en or u.name for u in gone])
        zh = (f"将{names_zh}并入{b.name}（约{moved.area_km2:.2f}平方公里、{moved.buildings:,}栋楼、"
              f"{moved.households:,}户{moved.residents:,}名居民），{names_zh}撤销，自{day}起生效。")
        en = (f"Merges {names_en} into {b.name_en or b.name} — about {moved.area_km2:.2f} km², "
              f"{moved.buildings:,} buildings, {moved.households:,} households, {moved.residents:,} residents — "
              f"and retires {'it' if len(gone) == 1 else 'them'}, effective {day}.")
        return Text(zh=zh, en=en)
    zh = (f"将{a.name}约{moved.area_km2:.2f}平方公里、{moved.buildings:,}栋楼、{moved.households:,}户"
          f"{moved.residents:,}名居民划入{b.name}，自{day}起生效。")
    en = (f"Moves about {moved.area_km2:.2f} km² of {a.name_en or a.name} — {moved.buildings:,} buildings, "
          f"{moved.households:,} households, {moved.residents:,} residents — to {b.name_en or b.name}, "
          f"effective {day}.")
    return Text(zh=zh, en=en)


def _report(conn: Connection, record: dict[str, Any], preview: dict[str, Any], stale: list[str], sides: Sides,
            norms: Norms) -> ImpactReport:
    kind: Kind = record.get("kind") or "move"
    a_code, b_code = record["from_code"], record.get("to_code")
    main = _main_units(kind, record, preview)
    before = sides.before.read("units", where_in={"code": list(main)}).set_index("code", drop=False)
    after = sides.after.read("units", where_in={"code": list(main)}).set_index("code", drop=False)
    level = str(before.loc[a_code, "level"])
    district_code = a_code[:6]
    district = sides.before.read("units", where_in={"code": [district_code]}).iloc[0]
    info = ProposalInfo(
        id=int(record["id"]), status=record["status"], kind=kind, level=record["level"],
        from_unit=_ref(before.loc[a_code]), to_unit=_ref(before.loc[b_code]) if b_code else None,
        effective_date=dt.date.fromisoformat(record["effective_date"]),
        reason=record["reason"], document_ref=record["document_ref"], author=record["author"],
        created_at=record["created_at"], applied_change_id=record["applied_change_id"],
        reverted_change_id=record["reverted_change_id"], drawn_area=record.get("area") is not None,
    )
    frame = _moved_frame(sides)
    focus = [{"code": u["code"], "role": u["role"]} for u in preview["units"]]
    units = unit_impacts(sides.before, sides.after, focus, norms)
    medians = district_medians(sides.before, district_code, [(u.level, u.kind) for u in units])
    access, d_before, d_after = access_section(sides.before, sides.after, frame, norms)
    summary = _summary(frame, sides, preview)
    summary.created = [_ref(after.loc[c]) for c, r in main.items() if r == "new" and c in after.index]
    summary.retired = [_ref(before.loc[c]) for c, r in main.items() if r == "retired" and c in before.index]
    boundary = _boundary(sides, kind, main, before, after, district)
    facts = _findings(conn, record, preview, sides, main, before, after, stale)
    return ImpactReport(
        generated_at=dt.datetime.now(dt.UTC).replace(microsecond=0),
        basis="live_preview" if record["status"] == "draft" else "recorded_change",
        database_change=int(conn.execute(text("SELECT coalesce(max(id), 0) FROM change_log")).scalar_one()),
        synthetic_data=bool(before["synthetic"].any() or after["synthetic"].any()), proposal=info, stale=stale,
        norms=norms, headline=_headline(info, summary), summary=summary, units=units, medians=medians,
        access=access, households=_households(frame, sides, d_before, d_after), boundary=boundary,
        warnings=impact_warnings(units, access, facts, norms), preview_warnings=_preview_warnings(preview),
        map=_map(sides, main, level), residents_groups=groups_adjustment(conn, frame),
        events=events_impact(conn, sides.territory, sides.after.read(
            "units", where_in={"level": ["grid"]}, bbox=tuple(shapely.bounds(sides.territory))), info.effective_date),
    )


def _preview_warnings(preview: dict[str, Any]) -> list[Text]:
    """The preview's warnings in both languages (changes recorded before they had a Chinese wording: English)."""
    en = list(preview.get("warnings", []))
    zh = list(preview.get("warnings_zh", en))
    return [Text(zh=z, en=e) for z, e in zip(zh, en, strict=True)]
