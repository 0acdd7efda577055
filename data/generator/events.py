"""A year of synthetic events (事件) for the demo, every one labelled ``synthetic``.

Patterns a grid-management centre would recognise: 环境卫生 reports where many people live close
together (dense urban grids), 民生诉求 where the elderly live, disputes in proportion to households,
a few 信访, and 新就业群体 volunteers (riders, drivers: "随手拍、随时报") reporting around the
new-employment stations, above all the one of 马槽井. Report hours follow the working day; most
events are closed within their due time, some late, the newest still open. Deterministic for a seed.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd
import shapely
from sqlalchemy import Connection

from data.generator.names import MACAOJING_STATION
from geo.events.catalogue import Catalogue
from geo.store import read_buildings, read_stations, read_units

DEFAULT_COUNT = 24_000
DEFAULT_END = dt.date(2025, 12, 31)
CST = dt.timezone(dt.timedelta(hours=8))
# Share of each category's reports that each driver explains (the rest is spread by residents).
TEXTS = {
    "environment": ("垃圾桶满溢", "楼道堆放杂物", "路面污水外溢", "绿化带垃圾"),
    "safety": ("电动车楼道充电", "消防通道被占用", "井盖缺失", "外墙瓷砖松动"),
    "dispute": ("邻里噪音纠纷", "停车位纠纷", "漏水引发纠纷"),
    "livelihood": ("独居老人需要上门服务", "高龄补贴咨询", "助餐点就餐申请", "适老化改造申请"),
    "petition": ("反映拆迁补偿问题", "反映物业服务问题"),
}


def _weights(frame: pd.DataFrame, column: str) -> np.ndarray:
    values = frame[column].to_numpy(dtype=float).clip(min=0) + 1e-9
    shares: np.ndarray = values / values.sum()
    return shares


def generate_events(conn: Connection, *, seed: int = 20250415, count: int = DEFAULT_COUNT,
                    end: dt.date = DEFAULT_END, catalogue: Catalogue | None = None) -> list[dict[str, Any]]:
    """``count`` events over the 365 days ending ``end``, as ingest rows with their lifecycle history."""
    catalogue = catalogue or Catalogue()
    rng = np.random.default_rng(seed)
    start = end - dt.timedelta(days=364)
    buildings = read_buildings(conn, as_of=start)
    grids = read_units(conn, as_of=start, level="grid")
    communities = read_units(conn, as_of=start, level="community")
    stations = read_stations(conn, as_of=start)
    if buildings.empty or grids.empty:
        return []
    # Density of the grid a building stands in (residents per km², metric area at ~26° N).
    area_km2 = pd.Series(shapely.area(grids.geometry.values) * 110.9 * 100.0, index=grids["code"])
    grid_residents = buildings.groupby("grid_code")["residents"].sum()
    density = (grid_residents / area_km2.reindex(grid_residents.index)).fillna(0)
    kind = communities.set_index("code")["kind"]
    b = pd.DataFrame({
        "residents": buildings["residents"].to_numpy(), "households": buildings["households"].to_numpy(),
        "elderly": buildings["elderly"].to_numpy(),
        "urban": [kind.get(g[:12]) != "village" for g in buildings["grid_code"]],
        "density": density.reindex(buildings["grid_code"]).to_numpy(),
    })
    b["environment"] = b["residents"] * np.sqrt(b["density"].clip(lower=1)) * np.where(b["urban"], 1.0, 0.3)
    b["safety"] = b["households"] + 2.0
    b["dispute"] = b["households"] * np.where(b["urban"], 1.2, 0.8)
    b["livelihood"] = b["elderly"] * 3.0 + 0.2 * b["residents"]
    b["petition"] = b["households"]
    shares = {"environment": 0.36, "safety": 0.18, "dispute": 0.14, "livelihood": 0.24, "petition": 0.03}
    volunteer_share = 0.05 if (stations["kind"] == "new_employment_station").any() else 0.0
    xs, ys = buildings.geometry.x.to_numpy(), buildings.geometry.y.to_numpy()
    rows: list[dict[str, Any]] = []
    codes = [c for c in shares if c in catalogue.categories] or list(catalogue.categories)
    n_cat = rng.multinomial(int(count * (1 - volunteer_share)), np.array([shares.get(c, 0.1) for c in codes])
                            / sum(shares.get(c, 0.1) for c in codes))
    for cat, n in zip(codes, n_cat, strict=True):
        picks = rng.choice(len(b), size=n, p=_weights(b, cat) if cat in b else None)
        jitter = rng.normal(0.0, 0.00015, size=(n, 2))
        source = rng.choice(["resident", "grid_worker", "hotline"], size=n, p=[0.45, 0.35, 0.2])
        for i, (k, src) in enumerate(zip(picks, source, strict=True)):
            rows.append({"category": cat, "lon": xs[k] + jitter[i, 0], "lat": ys[k] + jitter[i, 1], "source": str(src)})
    rows += _volunteer_reports(stations, rng, count - len(rows), [c for c in ("environment", "safety")
                                                                   if c in catalogue.categories] or codes)
    return _with_times_and_history(rows, rng, start, end, catalogue, seed)


def _volunteer_reports(stations: pd.DataFrame, rng: np.random.Generator, n: int,
                       cats: list[str]) -> list[dict[str, Any]]:
    """Reports by riders and drivers within about a kilometre of the new-employment stations."""
    ne = stations[stations["kind"] == "new_employment_station"]
    if ne.empty or n <= 0:
        return []
    # 马槽井's 驿站 (the model station) gets 40 % of the reports, the others share the rest.
    home = (ne["name"] == MACAOJING_STATION).to_numpy()
    weight = np.where(home, 0.4 / max(home.sum(), 1), 0.6 / max((~home).sum(), 1)) if home.any() \
        else np.ones(len(ne))
    picks = rng.choice(len(ne), size=n, p=weight / weight.sum())
    pts = shapely.get_coordinates(ne.geometry.values)
    offsets = rng.normal(0.0, 0.004, size=(n, 2))  # ~400 m
    return [{"category": str(rng.choice(cats)), "lon": pts[k, 0] + offsets[i, 0], "lat": pts[k, 1] + offsets[i, 1],
             "source": "volunteer"} for i, k in enumerate(picks)]


def _with_times_and_history(rows: list[dict[str, Any]], rng: np.random.Generator, start: dt.date, end: dt.date,
                            catalogue: Catalogue, seed: int) -> list[dict[str, Any]]:
    days = rng.integers(0, (end - start).days + 1, size=len(rows))
    hours = np.clip(rng.normal(13.0, 3.5, size=len(rows)), 7.0, 22.5)
    speed = rng.lognormal(-0.7, 0.6, size=len(rows))  # fraction of the due time used; >1 is late
    rows.sort(key=lambda r: (r["category"], r["lon"]))  # then shuffle deterministically
    order = rng.permutation(len(rows))
    end_moment = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), CST)
    out = []
    for n, i in enumerate(order):
        row = rows[i]
        day = dt.datetime.combine(start + dt.timedelta(days=int(days[n])), dt.time(), CST)
        at = day + dt.timedelta(hours=float(hours[n]))
        due_h = catalogue.get(row["category"]).due_hours
        total = dt.timedelta(hours=float(due_h * speed[n]))
        steps = [("handling", 0.15), ("feedback", 0.8), ("closed", 1.0)]
        history = [{"status": s, "at": at + total * f, "actor": "网格员 (synthetic)"} for s, f in steps
                   if at + total * f < end_moment]
        text = TEXTS.get(row["category"], ("事件",))
        out.append({**row, "client_id": f"demo-{seed}-{n:06d}", "reported_at": at.isoformat(timespec="seconds"),
                    "description": f"[synthetic 合成数据] {text[n % len(text)]}", "synthetic": True,
                    "history": history})
    return out
