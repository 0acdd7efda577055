"""The synthetic year of events on the Xixiu demo: deterministic, labelled, with the patterns it promises."""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely

from data.generator.events import generate_events
from data.generator.names import MACAOJING_STATION
from geo.db import make_engine
from geo.store import read_buildings, read_stations, read_units


def test_demo_events_have_the_promised_patterns(demo_db_url: str) -> None:
    engine = make_engine(demo_db_url)
    with engine.connect() as conn:
        rows = generate_events(conn, count=6000)
        assert generate_events(conn, count=6000)[:50] == rows[:50]  # deterministic
        grids = read_units(conn, as_of=None, level="grid")
        communities = read_units(conn, as_of=None, level="community").set_index("code")
        buildings = read_buildings(conn, as_of=None)
        stations = read_stations(conn, as_of=None)
    engine.dispose()
    assert len(rows) == 6000 and all(r["synthetic"] and r["description"].startswith("[synthetic") for r in rows)
    frame = pd.DataFrame(rows)
    tree = shapely.STRtree(grids.geometry.values)
    pi, gi = tree.query(shapely.points(frame["lon"], frame["lat"]), predicate="intersects")
    frame.loc[pi, "grid"] = grids["code"].to_numpy()[gi]
    frame["urban"] = frame["grid"].str[:12].map(communities["kind"]) == "urban"
    share = frame.groupby("urban")["category"].apply(lambda c: (c == "environment").mean())
    assert share[True] > 1.5 * share[False]  # 环境卫生 where people live densely
    # 民生诉求 follow the elderly: per grid, its share correlates with the share of residents over 60
    per_grid = buildings.groupby("grid_code")[["elderly", "residents"]].sum()
    per_grid["elderly_share"] = per_grid["elderly"] / per_grid["residents"].clip(lower=1)
    counts = frame.groupby("grid")["category"].agg(total="size", livelihood=lambda c: (c == "livelihood").sum())
    joined = counts[counts["total"] >= 5].join(per_grid)
    corr = np.corrcoef(joined["livelihood"] / joined["total"], joined["elderly_share"])[0, 1]
    assert corr > 0.2
    # 新就业群体 volunteers report most around the 马槽井 station
    station = stations[stations["name"] == MACAOJING_STATION].geometry.iloc[0]
    volunteers = frame[frame["source"] == "volunteer"]
    near = np.hypot(volunteers["lon"] - station.x, volunteers["lat"] - station.y) < 0.01
    assert near.sum() > 0.2 * len(volunteers) and len(volunteers) > 100
