"""The report model laid out for the page: table rows with formatted values and flags, in one language."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from geo.impact.model import ImpactReport, Median, UnitFigures, UnitImpact
from maps.report.labels import decimal, integer, name, percent, role, signed, t


@dataclass
class Cell:
    """A formatted value; ``flagged`` when it is outside a norm."""

    text: str
    flagged: bool = False
    css: str = ""


@dataclass
class Row:
    """One indicator across the units of a table."""

    label: str
    norm: str
    cells: list[Cell] = field(default_factory=list)  # per unit: before, after, change
    medians: list[Cell] = field(default_factory=list)


@dataclass
class UnitTable:
    """Before/after of units of one level."""

    units: list[dict[str, str]]
    median_headers: list[str]
    rows: list[Row]
    crossings: list[str]


# (key, label key, decimals, flags that mark this row) — decimals None: integer.
INDICATORS: tuple[tuple[str, str, int | None, tuple[str, ...]], ...] = (
    ("residents", "residents", None, ("empty",)),
    ("households", "households", None, ()),
    ("elderly", "elderly", None, ()),
    ("children", "children", None, ()),
    ("special_care", "special_care", None, ()),
    ("buildings", "buildings", None, ()),
    ("workers", "workers", None, ("no_workers",)),
    ("residents_per_worker", "residents_per_worker", 0, ("understaffed", "no_workers")),
    ("workers_needed", "workers_needed", None, ()),
    ("grids", "grids", None, ()),
    ("households_per_grid", "households_per_grid", 0, ("grids_small", "grids_large")),
    ("grids_outside", "grids_outside", None, ()),
    ("empty_grids", "empty_grids", None, ()),
    ("area_km2", "area_km2", 3, ()),
    ("compactness", "compactness", 3, ()),
    ("contiguous", "contiguous", None, ("not_contiguous",)),
)
KINDS = {"urban", "village", "street", "town", "township"}
MEDIAN_KEYS = {"residents", "households", "workers", "residents_per_worker", "grids", "households_per_grid",
               "area_km2", "compactness"}


def _value(fig: UnitFigures, key: str) -> Any:
    if key == "grids_outside":
        return fig.grids_below_band + fig.grids_above_band
    return getattr(fig, key)


def _fmt(value: Any, places: int | None) -> str:
    if value is None:
        return "–"
    return integer(value) if places is None else decimal(value, places)


def _norm(key: str, report: ImpactReport, lang: str) -> str:
    norms = report.norms
    if key == "residents_per_worker":
        return t(lang, "norm_rpw", v=integer(norms.residents_per_worker))
    if key == "households_per_grid":
        return t(lang, "norm_band", lo=norms.grid_households_min, hi=norms.grid_households_max)
    if key == "contiguous":
        return t(lang, "yes")
    return ""


def _cells(unit: UnitImpact, key: str, places: int | None, flags: tuple[str, ...], lang: str) -> list[Cell]:
    before, after = _value(unit.before, key), _value(unit.after, key)
    out = []
    for fig, value in ((unit.before, before), (unit.after, after)):
        flagged = any(f in fig.flags for f in flags)
        if not fig.exists:  # before a new unit, after a retired one: nothing to show (its change counts from 0)
            out.append(Cell("–", css="absent"))
        elif key == "contiguous":
            out.append(Cell(t(lang, "yes") if value else t(lang, "no", n=fig.parts), flagged))
        else:
            out.append(Cell(_fmt(value, places), flagged))
    if key in ("contiguous", "compactness") and not (unit.before.exists and unit.after.exists):
        out.append(Cell("", css="change"))
    elif key == "contiguous" or before is None or after is None:
        out.append(Cell("", css="change"))
    else:
        delta = after - before
        out.append(Cell(signed(delta, places or 0), css="change up" if delta > 0 else "change down" if delta < 0
                        else "change"))
    return out


def _median_for(medians: list[Median], unit: UnitImpact) -> Median | None:
    return next((m for m in medians if m.level == unit.level and m.kind == unit.kind), None)


def _kind_label(median: Median, lang: str) -> str:
    key = median.kind if median.kind in KINDS else "grid" if median.level == "grid" else "any"
    return t(lang, f"kind_{key}")


def unit_tables(report: ImpactReport, lang: str) -> list[UnitTable]:
    """One table per level: the changed units (A and B, new or retired ones), then the ancestors it crosses."""
    levels = list(dict.fromkeys(u.level for u in report.units))
    tables = []
    for level in levels:
        units = [u for u in report.units if u.level == level]
        medians: list[Median] = []
        for median in (_median_for(report.medians, u) for u in units):
            if median is not None and all(median is not m for m in medians):
                medians.append(median)
        headers = [t(lang, "median_of", n=m.units_counted, kind=_kind_label(m, lang)) for m in medians]
        rows = []
        for key, label, places, flags in INDICATORS:
            if all(_value(u.before, key) is None and _value(u.after, key) is None for u in units):
                continue
            row = Row(label=t(lang, label), norm=_norm(key, report, lang))
            for unit in units:
                row.cells += _cells(unit, key, places, flags, lang)
            for median in medians:
                value = getattr(median, key, None) if key in MEDIAN_KEYS else None
                row.medians.append(Cell(_fmt(value, places if places is not None else 0)))
            rows.append(row)
        crossings = []
        for unit in units:
            new = [t(lang, f"flag_{c.flag}") for c in unit.crossings if c.change == "new"]
            gone = [t(lang, f"flag_{c.flag}") for c in unit.crossings if c.change == "resolved"]
            parts = ([f"{t(lang, 'flag_new')}：{'、'.join(new)}" if lang == "zh" else
                      f"{t(lang, 'flag_new')}: {', '.join(new)}"] if new else []) + \
                    ([f"{t(lang, 'flag_resolved')}：{'、'.join(gone)}" if lang == "zh" else
                      f"{t(lang, 'flag_resolved')}: {', '.join(gone)}"] if gone else [])
            if parts:
                crossings.append(f"{name(unit, lang)} — " + "; ".join(parts))
        tables.append(UnitTable(
            units=[{"name": name(u, lang), "code": u.code, "role": role(lang, u.role, report.proposal.kind),
                    "css": u.role}
                   for u in units],
            median_headers=headers, rows=rows, crossings=crossings))
    return tables


def access_rows(report: ImpactReport, lang: str) -> list[dict[str, str]]:
    """Distance statistics and life-circle shares, before and after."""
    access = report.access
    rows = []
    for key, label in (("mean_m", "mean"), ("median_m", "median_d"), ("p90_m", "p90"), ("max_m", "max")):
        before, after = getattr(access.before, key), getattr(access.after, key)
        rows.append({"label": t(lang, label), "before": f"{integer(before)} {t(lang, 'unit_m')}".strip(),
                     "after": f"{integer(after)} {t(lang, 'unit_m')}".strip(),
                     "change": signed(after - before) if before is not None and after is not None else "–",
                     "better": "" if before is None or after is None else "good" if after < before else
                     "bad" if after > before else ""})
    for circle in access.life_circles:
        label = t(lang, "life_circle", min=circle.minutes, r=circle.radius_m) if circle.minutes else \
            t(lang, "life_circle_r", r=circle.radius_m)
        delta = circle.share_after - circle.share_before
        rows.append({"label": label, "before": f"{percent(circle.share_before)} ({integer(circle.residents_before)})",
                     "after": f"{percent(circle.share_after)} ({integer(circle.residents_after)})",
                     "change": (signed(100 * delta, 1) + (" 个百分点" if lang == "zh" else " pp")),
                     "better": "good" if delta > 0 else "bad" if delta < 0 else ""})
    return rows


def sides_rows(report: ImpactReport, lang: str) -> list[dict[str, Any]]:
    """四至 tables: per changed unit, its neighbours on each side with shared lengths."""
    out = []
    for unit in report.boundary.units:
        out.append({"name": name(unit, lang) if lang == "zh" else next(
            (u.name_en or u.name for u in report.units if u.code == unit.code), unit.name),
            "text": unit.text.get(lang),
            "sides": [{"label": t(lang, f"side_{s.direction}"),
                       "neighbours": ", ".join(f"{name(n, lang)} ({integer(n.length_m)} m)" for n in s.neighbours)
                       if lang == "en" else "、".join(f"{name(n, lang)}（{integer(n.length_m)}米）"
                                                     for n in s.neighbours)}
                      for s in unit.sides]})
    return out


def _short(grid: str, community: str) -> str:
    """A grid's name without its community's name in front (the community has its own column)."""
    return grid[len(community):].strip() or grid if grid.startswith(community) else grid


def household_rows(report: ImpactReport, lang: str, limit: int) -> list[dict[str, str]]:
    """The affected-buildings list as display strings: community · grid (code) before and after."""
    out = []
    dot = " · "
    for h in report.households[:limit]:
        before, after = name(h.community_before, lang), name(h.community_after, lang)
        # Five cells a row: WeasyPrint lays out about a thousand table cells a second.
        out.append({
            "building": f"{h.code}  {h.address or ''}".strip(),
            "people": f"{integer(h.households)} / {integer(h.residents)}",
            "before": f"{before}{dot}{_short(name(h.grid_before, lang), before)} {h.grid_before.code}",
            "after": f"{after}{dot}{_short(name(h.grid_after, lang), before)} {h.grid_after.code}",
            "distance": f"{integer(h.distance_before_m)} → {integer(h.distance_after_m)}",
        })
    return out
