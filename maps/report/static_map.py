"""The static before/after map (matplotlib, no tiles, no network): two panels, legend, scale bar, north arrow.

Drawn in the local UTM zone so that the scale bar is true. Uses matplotlib's object API (no
pyplot), so concurrent requests do not share figure state, and names every font explicitly.
"""

from __future__ import annotations

import functools
import io
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from matplotlib import font_manager
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection, PathCollection
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle
from matplotlib.path import Path
from shapely.geometry import shape

from geo.crs import utm_crs_for
from geo.impact.model import ImpactReport
from maps.report.labels import for_kind, name, role, t

FONT_FAMILIES = ("Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Zen Hei", "DejaVu Sans")
FROM_FILL, FROM_EDGE = "#a6c8e8", "#2b5d8a"
TO_FILL, TO_EDGE = "#fbc98e", "#b35806"
NEW_FILL, NEW_EDGE = "#b8e186", "#1b7837"  # a grid a split creates
RETIRED_FILL, RETIRED_EDGE = "#d9d9d9", "#616161"  # a unit a merge retires (drawn hatched, dashed)
# fill, edge and line style of each role in the change
ROLE_STYLES: dict[str, tuple[str, str, Any]] = {
    "from": (FROM_FILL, FROM_EDGE, "-"), "to": (TO_FILL, TO_EDGE, "-"), "new": (NEW_FILL, NEW_EDGE, "-"),
    "retired": (RETIRED_FILL, RETIRED_EDGE, (0, (4, 2))),
}
TERRITORY_EDGE = "#c0392b"
CONTEXT_FILL, CONTEXT_EDGE = "#f1f1f1", "#9a9a9a"
BUILDING = "#222222"
GRID_LINE = "#4d4d4d"
NICE_LENGTHS_M = (50, 100, 200, 250, 500, 1000, 2000, 2500, 5000, 10000, 20000, 50000)


@functools.cache
def _families() -> list[str]:
    """The preferred fonts that are installed (a CJK one first: fonts-noto-cjk on Debian)."""
    installed = {f.name for f in font_manager.fontManager.ttflist}
    return [f for f in FONT_FAMILIES if f in installed] or ["DejaVu Sans"]


def _font(size: float, weight: str = "normal") -> FontProperties:
    return FontProperties(family=_families(), size=size, weight=weight)


def _frame(collection: dict[str, Any], crs: Any) -> gpd.GeoDataFrame:
    features = collection.get("features", [])
    if not features:
        return gpd.GeoDataFrame({"geometry": []}, geometry="geometry", crs=4326).to_crs(crs)
    rows = [{**f["properties"], "geometry": shape(f["geometry"])} for f in features]
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=4326).to_crs(crs)


def _scale_bar(ax: Any, lang: str) -> None:
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    width = x1 - x0
    length = max((n for n in NICE_LENGTHS_M if n <= width / 4), default=NICE_LENGTHS_M[0])
    left, bottom, height = x0 + 0.05 * width, y0 + 0.05 * (y1 - y0), 0.012 * (y1 - y0)
    ax.add_patch(Rectangle((left - 0.03 * width, bottom - 0.025 * (y1 - y0)), length + 0.09 * width,
                           0.11 * (y1 - y0), facecolor="white", edgecolor="none", zorder=19))
    for i in range(2):
        ax.add_patch(Rectangle((left + i * length / 2, bottom), length / 2, height, facecolor="black" if i == 0
                               else "white", edgecolor="black", linewidth=0.6, zorder=20))
    label = f"{length / 1000:g} km" if length >= 1000 else f"{length} m"
    ax.text(left, bottom + 1.8 * height, "0", fontproperties=_font(6.5), ha="center", va="bottom", zorder=20)
    ax.text(left + length, bottom + 1.8 * height, label, fontproperties=_font(6.5), ha="center", va="bottom",
            zorder=20)


def _north_arrow(ax: Any, lang: str) -> None:
    ax.annotate(t(lang, "north"), xy=(0.94, 0.95), xytext=(0.94, 0.84), xycoords="axes fraction",
                ha="center", va="center", fontproperties=_font(8, "bold"),
                arrowprops={"arrowstyle": "-|>", "color": "black", "lw": 1.0}, zorder=20)


def _path(geom: Any) -> Path:
    """A (multi)polygon as one compound path (holes included)."""
    rings = []
    for polygon in shapely.get_parts(geom):
        for ring in (polygon.exterior, *polygon.interiors):
            xy = np.asarray(ring.coords)
            codes = np.full(len(xy), Path.LINETO, dtype=np.uint8)
            codes[0], codes[-1] = Path.MOVETO, Path.CLOSEPOLY
            rings.append(Path(xy, codes))
    return Path.make_compound_path(*rings) if rings else Path(np.zeros((0, 2)))


def _fill(ax: Any, geoms: Any, **style: Any) -> None:
    if len(geoms):
        ax.add_collection(PathCollection([_path(g) for g in geoms], **style))


def _outline(ax: Any, geoms: Any, **style: Any) -> None:
    lines = [np.asarray(line.coords) for g in geoms for line in shapely.get_parts(shapely.boundary(g))
             for line in shapely.get_parts(line)]
    if lines:
        ax.add_collection(LineCollection(lines, **style))


def _panel(ax: Any, report: ImpactReport, side: str, crs: Any, lang: str, extent: tuple[float, ...]) -> None:
    data = report.map
    context = _frame(data.context, crs)
    units = _frame(getattr(data, side), crs)
    territory = gpd.GeoSeries([shape(data.territory)], crs=4326).to_crs(crs)
    minx, miny, maxx, maxy = extent
    ax.set_xlim(minx, maxx)
    ax.set_ylim(miny, maxy)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    _fill(ax, context.geometry, facecolor=CONTEXT_FILL, edgecolor=CONTEXT_EDGE, linewidth=0.5, zorder=1)
    roles = units["role"] if not units.empty else gpd.pd.Series([], dtype=str)
    main = units[roles.isin(list(ROLE_STYLES))]
    grids = units[roles.str.startswith("grid_of_")]
    for role_key, (fill, _, _) in ROLE_STYLES.items():
        mine = main[main["role"] == role_key].geometry
        retired = role_key == "retired"
        _fill(ax, mine, facecolor=fill, edgecolor=ROLE_STYLES["retired"][1] if retired else "none",
              hatch="xx" if retired else None, linewidth=0.0, zorder=2)
    _outline(ax, grids.geometry, color=GRID_LINE, linewidth=0.5, linestyle=(0, (3, 2)), zorder=3)
    for role_key, (_, edge, dash) in ROLE_STYLES.items():
        _outline(ax, main[main["role"] == role_key].geometry, color=edge, linewidth=1.4, linestyle=dash, zorder=4)
    _fill(ax, territory, facecolor="none", edgecolor=TERRITORY_EDGE, hatch="////", linewidth=0.0, zorder=5)
    _outline(ax, territory, color=TERRITORY_EDGE, linewidth=1.0, linestyle="--", zorder=5)
    points = gpd.GeoSeries(gpd.points_from_xy([h.lon for h in report.households], [h.lat for h in report.households]),
                           crs=4326).to_crs(crs)
    if len(points):
        residents = np.array([h.residents for h in report.households], dtype=float)
        ax.scatter(points.x, points.y, s=2 + np.minimum(residents, 200) / 12, color=BUILDING, linewidths=0,
                   alpha=0.75, zorder=6)
    centres = _frame(data.centres, crs)
    if not centres.empty:
        ax.scatter(centres.geometry.x, centres.geometry.y, marker="*", s=90, color="#ffd400", edgecolors="black",
                   linewidths=0.7, zorder=10)
    for _, row in context.iterrows():
        p = row.geometry.representative_point()
        if minx < p.x < maxx and miny < p.y < maxy:
            ax.text(p.x, p.y, name(row, lang), fontproperties=_font(6), color="#666666", ha="center", va="center",
                    zorder=7, clip_on=True)
    for _, row in main.iterrows():
        p = row.geometry.representative_point()
        ax.text(p.x, p.y, name(row, lang), fontproperties=_font(8.5, "bold"), color=ROLE_STYLES[row["role"]][1],
                ha="center", va="center", zorder=9,
                bbox={"boxstyle": "round,pad=0.2", "facecolor": "white", "edgecolor": "none", "alpha": 0.75})
    ax.set_title(t(lang, "map_before" if side == "before" else "map_after"), fontproperties=_font(10, "bold"))
    _scale_bar(ax, lang)
    _north_arrow(ax, lang)


def _legend(fig: Figure, report: ImpactReport, lang: str) -> None:
    kind = report.proposal.kind
    roles = dict.fromkeys(f["properties"]["role"] for side in (report.map.before, report.map.after)
                          for f in side["features"] if f["properties"]["role"] in ROLE_STYLES)
    handles: list[Any] = []
    for role_key in ROLE_STYLES:
        if role_key not in roles:
            continue
        units = [f["properties"] for side in (report.map.before, report.map.after) for f in side["features"]
                 if f["properties"]["role"] == role_key]
        names = list(dict.fromkeys(name(u, lang) for u in units))
        shown = ("、" if lang == "zh" else ", ").join(names[:3]) + ("…" if len(names) > 3 else "")
        words = role(lang, role_key, kind)
        label = f"{shown}（{words}）" if lang == "zh" else f"{shown} ({words})"
        fill, edge, dash = ROLE_STYLES[role_key]
        handles.append(Patch(facecolor=fill, edgecolor=edge, linestyle=dash, hatch="xx" if role_key == "retired"
                             else None, label=label))
    handles += [
        Patch(facecolor="none", edgecolor=TERRITORY_EDGE, hatch="////", linestyle="--",
              label=for_kind(lang, "map_territory", kind)),
        Patch(facecolor=CONTEXT_FILL, edgecolor=CONTEXT_EDGE, label=t(lang, "map_context")),
        Line2D([], [], color=GRID_LINE, linewidth=0.8, linestyle=(0, (3, 2)), label=t(lang, "map_grids")),
        Line2D([], [], color=BUILDING, marker="o", linestyle="none", markersize=3, label=t(lang, "map_buildings")),
        Line2D([], [], color="#ffd400", marker="*", markeredgecolor="black", linestyle="none", markersize=9,
               label=t(lang, "map_centres")),
    ]
    fig.legend(handles=handles, loc="lower center", ncol=4, prop=_font(7.5), frameon=False,
               bbox_to_anchor=(0.5, 0.0), handlelength=1.8, columnspacing=1.4)


def render_static_map(report: ImpactReport, lang: str, *, dpi: int = 200) -> bytes:
    """The before/after map as PNG bytes."""
    minx, miny, maxx, maxy = report.map.bbox
    crs = utm_crs_for((minx + maxx) / 2, (miny + maxy) / 2)
    box = gpd.GeoSeries.from_xy([minx, maxx], [miny, maxy], crs=4326).to_crs(crs)
    x0, x1 = float(box.x.min()), float(box.x.max())
    y0, y1 = float(box.y.min()), float(box.y.max())
    pad = 0.08 * max(x1 - x0, y1 - y0)
    x0, x1, y0, y1 = x0 - pad, x1 + pad, y0 - pad, y1 + pad
    # Each panel keeps the data's aspect ratio; the figure is sized to two panels plus the legend.
    ratio = (y1 - y0) / (x1 - x0)
    panel_w = 3.45
    height = panel_w * ratio + 0.85
    fig = Figure(figsize=(2 * panel_w + 0.2, height), dpi=dpi)
    FigureCanvasAgg(fig)
    bottom, top = 0.5 / height, 1 - 0.32 / height
    axes = [fig.add_axes((0.01 + i * 0.5, bottom, 0.48, top - bottom)) for i in range(2)]
    for ax, side in zip(axes, ("before", "after"), strict=True):
        _panel(ax, report, side, crs, lang, (x0, y0, x1, y1))
    _legend(fig, report, lang)
    out = io.BytesIO()
    fig.savefig(out, format="png", dpi=dpi, facecolor="white")
    return out.getvalue()
