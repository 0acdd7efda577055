"""The Nanjiao -> Lida report on the Xixiu demo (both databases), checked against independent computations.

The proposal (a drawn band of Nanjiao along Lida, about a third of its residents) is reported as a draft,
then applied and reported again from the versioned tables. Every figure is recomputed here from the
layers exported before and after the change (``export_dataset``: the interchange layers), with
geopandas spatial joins and pyproj.Geod only — none of the report's own code.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from conftest import BACKENDS, PLANNER_KEY, _admin_engine, _pg_url, make_client
from pyproj import Geod
from scenarios import nanjiao_third_polygon
from sqlalchemy import text

from geo.db import make_engine
from geo.export import export_dataset
from geo.impact import ImpactReport, compute_impact
from geo.reassign import ProposalRequest, apply_proposal, create_proposal

DAY = dt.date(2025, 3, 1)
GEOD = Geod(ellps="WGS84")


@dataclass
class Scenario:
    backend: str
    url: str
    proposal_id: int
    draft: ImpactReport
    applied: ImpactReport
    before: Any  # the exported layers on the day before the change
    after: Any  # … and on its day
    a: str
    b: str


@pytest.fixture(scope="module", params=BACKENDS)
def nanjiao(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scenario]:
    """A fresh copy of the demo with the Nanjiao -> Lida proposal reported, applied and reported again."""
    admin, name = None, None
    if request.param == "spatialite":
        path = tmp_path_factory.mktemp("impact") / "demo.sqlite"
        shutil.copyfile(request.getfixturevalue("demo_spatialite_template"), path)
        url = f"sqlite:///{path}"
    else:
        template = request.getfixturevalue("demo_postgis_template")
        name, admin = f"gridgov_i_{uuid.uuid4().hex[:12]}", _admin_engine()
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
        url = _pg_url(name)
    engine = make_engine(url)
    polygon, a, b = nanjiao_third_polygon(engine)
    pid = create_proposal(engine, ProposalRequest(
        from_code=a.code, to_code=b.code, area=polygon, effective_date=DAY, author="华西街道",
        reason="缓解南郊社区管理压力", document_ref="西华办〔2025〕7号",
        allow_non_adjacent=True))  # the drawn band cuts a corner off Nanjiao: allowed here, refused by default
    draft = compute_impact(engine, pid)
    before = export_dataset(engine, as_of=DAY - dt.timedelta(days=1))
    apply_proposal(engine, pid, author="华西街道")
    applied = compute_impact(engine, pid)
    after = export_dataset(engine, as_of=DAY)
    yield Scenario(request.param, url, pid, draft, applied, before, after, a.code, b.code)
    engine.dispose()
    if admin is not None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _community_of(layers: Any) -> pd.Series:
    """Each building's community, by a spatial join of the points with the community polygons."""
    communities = layers.units[layers.units["level"] == "community"][["code", "geometry"]]
    joined = gpd.sjoin(layers.buildings[["code", "geometry"]], communities.rename(columns={"code": "community"}),
                       predicate="within")
    return joined.set_index("code")["community"]


def _unit(layers: Any, code: str) -> Any:
    return layers.units[layers.units["code"] == code].iloc[0]


def _moved(s: Scenario) -> pd.DataFrame:
    before, after = _community_of(s.before), _community_of(s.after)
    changed = before.index[before != after.reindex(before.index)]
    out = s.before.buildings.set_index("code").loc[sorted(changed)]
    return out.assign(community_before=before.loc[out.index], community_after=after.loc[out.index])


def _geodesic(geom: Any) -> tuple[float, float]:
    area, perimeter = GEOD.geometry_area_perimeter(geom)
    return abs(area), perimeter


def test_what_moves_matches_the_exported_layers(nanjiao: Scenario) -> None:
    s, report = nanjiao, nanjiao.draft
    moved = _moved(s)
    assert set(moved["community_before"]) == {s.a} and set(moved["community_after"]) == {s.b}
    assert [h.code for h in report.households] == list(moved.index)
    figures = report.summary.moved
    for field in ("households", "residents", "elderly", "children", "special_care"):
        assert getattr(figures, field) == int(moved[field].sum()), field
    assert figures.buildings == len(moved)
    territory = shapely.difference(_unit(s.before, s.a).geometry, _unit(s.after, s.a).geometry)
    assert figures.area_km2 == pytest.approx(_geodesic(territory)[0] / 1e6, rel=1e-5)
    assert 0.25 < figures.residents / _unit(s.before, s.a)["residents"] < 0.42  # about a third of Nanjiao


def test_units_before_and_after_match_the_exported_layers(nanjiao: Scenario) -> None:
    s, report = nanjiao, nanjiao.draft
    norm = report.norms
    for layers, side in ((s.before, "before"), (s.after, "after")):
        community = _community_of(layers)
        buildings = layers.buildings.set_index("code").assign(community=community)
        grids = layers.units[layers.units["level"] == "grid"]
        for code in (s.a, s.b):
            fig = getattr(next(u for u in report.units if u.code == code), side)
            mine = buildings[buildings["community"] == code]
            unit = _unit(layers, code)
            area, perimeter = _geodesic(unit.geometry)
            my_grids = grids[grids["parent_code"] == code]
            assert (fig.residents, fig.households, fig.buildings) == (
                mine["residents"].sum(), mine["households"].sum(), len(mine)), (code, side)
            assert fig.workers == unit["workers"]
            assert fig.residents_per_worker == pytest.approx(fig.residents / unit["workers"], abs=0.06)
            assert fig.grids == len(my_grids)
            assert fig.households_per_grid == pytest.approx(my_grids["households"].sum() / len(my_grids), abs=0.06)
            assert fig.grids_below_band == int((my_grids["households"] < norm.grid_households_min).sum())
            assert fig.empty_grids == int((my_grids["residents"] == 0).sum())
            assert fig.area_km2 == pytest.approx(area / 1e6, abs=1e-6)
            assert fig.compactness == pytest.approx(4 * math.pi * area / perimeter**2, abs=1e-4)
            pieces = [p for p in shapely.get_parts(unit.geometry) if _geodesic(p)[0] >= 1.0]
            assert (fig.parts, fig.contiguous) == (len(pieces), len(pieces) == 1)
            over = fig.residents / unit["workers"] > 10_000 / norm.workers_per_10k
            assert ("understaffed" in fig.flags) == over
    nanjiao_after = next(u for u in report.units if u.code == s.a).after
    assert not nanjiao_after.contiguous and any(w.code == "not_contiguous" for w in report.warnings)


def test_district_medians_match_the_exported_layers(nanjiao: Scenario) -> None:
    s = nanjiao
    urban = s.before.units[(s.before.units["level"] == "community") & (s.before.units["kind"] == "urban")]
    community = _community_of(s.before)
    residents = s.before.buildings.set_index("code")["residents"].groupby(community).sum()
    median = next(m for m in s.draft.medians if m.level == "community")
    assert (median.kind, median.units_counted) == ("urban", len(urban))
    assert median.residents == pytest.approx(residents.reindex(urban["code"], fill_value=0).median())
    areas = [_geodesic(g)[0] / 1e6 for g in urban.geometry]
    assert median.area_km2 == pytest.approx(float(np.median(areas)), abs=1e-4)
    rpw = urban["residents"] / urban["workers"].where(urban["workers"] > 0)
    assert median.residents_per_worker == pytest.approx(float(rpw.dropna().median()), abs=1e-3)


def test_access_figures_match_geodesic_distances(nanjiao: Scenario) -> None:
    s, access = nanjiao, nanjiao.draft.access
    moved = _moved(s)
    weights = moved["residents"].to_numpy()
    distances = {}
    for layers, side, community in ((s.before, "before", s.a), (s.after, "after", s.b)):
        stations = layers.stations
        centre = stations[(stations["kind"] == "party_service_center") & (stations["community_code"] == community)]
        assert len(centre) == 1
        c = centre.geometry.iloc[0]
        _, _, d = GEOD.inv(moved.geometry.x.to_numpy(), moved.geometry.y.to_numpy(), np.full(len(moved), c.x),
                           np.full(len(moved), c.y))
        distances[side] = d
        stats = getattr(access, side)
        repeated = np.repeat(d, weights)
        assert stats.mean_m == pytest.approx(np.average(d, weights=weights), abs=0.06)
        assert stats.median_m == pytest.approx(np.percentile(repeated, 50, method="inverted_cdf"), abs=0.06)
        assert stats.p90_m == pytest.approx(np.percentile(repeated, 90, method="inverted_cdf"), abs=0.06)
        assert stats.max_m == pytest.approx(d[weights > 0].max(), abs=0.06)
        assert stats.residents == weights.sum() and stats.residents_without_centre == 0
    for circle in access.life_circles:
        for side in ("before", "after"):
            within = int(weights[distances[side] <= circle.radius_m].sum())
            assert getattr(circle, f"residents_{side}") == within
            assert getattr(circle, f"share_{side}") == pytest.approx(within / weights.sum(), abs=1e-4)
    by_code = {h.code: h for h in s.draft.households}
    for code, d in zip(moved.index, distances["after"], strict=True):
        assert by_code[code].distance_after_m == pytest.approx(d, abs=0.06)
    # context: the nearest health station of each moved building, by brute force over every station
    health = s.before.stations[s.before.stations["kind"] == "health_station"]
    n, m = len(moved), len(health)
    _, _, matrix = GEOD.inv(np.repeat(moved.geometry.x.to_numpy(), m), np.repeat(moved.geometry.y.to_numpy(), m),
                            np.tile(health.geometry.x.to_numpy(), n), np.tile(health.geometry.y.to_numpy(), n))
    nearest = matrix.reshape(n, m).min(axis=1)
    kind = next(k for k in access.nearest if k.kind == "health_station")
    assert kind.mean_m == pytest.approx(np.average(nearest, weights=weights), abs=0.06)
    assert kind.max_m == pytest.approx(nearest.max(), abs=0.06)


def test_boundary_in_words_names_the_real_neighbours(nanjiao: Scenario) -> None:
    s, boundary = nanjiao, nanjiao.draft.boundary
    communities = s.after.units[s.after.units["level"] == "community"].set_index("code")

    def shared_m(x: Any, y: Any) -> float:
        line = shapely.intersection(x.boundary, y.boundary, grid_size=1e-9)
        return sum(GEOD.geometry_length(p) for p in shapely.get_parts(line) if p.geom_type.endswith("LineString"))

    for unit in boundary.units:
        geom = communities.loc[unit.code].geometry
        touching = {c: shared_m(geom, g) for c, g in communities.geometry.items() if c != unit.code}
        named = {n.code for side in unit.sides for n in side.neighbours if n.code}
        assert named <= {c for c, length in touching.items() if length > 1.0}
        assert {c for c, length in touching.items() if length > 400} <= named  # long shared edges are named
        for code in named:
            assert communities.loc[code, "name"] in unit.text.zh and communities.loc[code, "name_en"] in unit.text.en
    shared = boundary.shared
    before_a, before_b = _unit(s.before, s.a).geometry, _unit(s.before, s.b).geometry
    assert shared.length_before_m == pytest.approx(shared_m(before_a, before_b), abs=0.5)
    assert shared.length_after_m == pytest.approx(shared_m(communities.loc[s.a].geometry,
                                                           communities.loc[s.b].geometry), abs=0.5)
    assert "南郊社区与利达社区之间的界线" in shared.text.zh
    assert f"{shared.length_after_m / 1000:.2f}公里" in shared.text.zh


def test_the_applied_proposal_reports_what_the_draft_did(nanjiao: Scenario) -> None:
    draft, applied = nanjiao.draft.model_dump(mode="json"), nanjiao.applied.model_dump(mode="json")
    assert (applied["basis"], applied["proposal"]["status"]) == ("recorded_change", "applied")
    for key in ("summary", "units", "medians", "access", "households", "boundary", "warnings"):
        assert applied[key] == draft[key], key
    assert applied["map"]["bbox"] == draft["map"]["bbox"]
    assert applied["map"]["after"] == draft["map"]["after"] and applied["map"]["before"] == draft["map"]["before"]


# ---- the rendered forms, on one database (rendering does not depend on it) -------------------------------
CHROMIUM = os.environ.get("GRIDGOV_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]
SHOTS = Path(__file__).resolve().parent.parent / "test-output" / "report"


def _run(*command: str) -> str:
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout


@pytest.mark.parametrize("nanjiao", ["spatialite"], indirect=True)
def test_the_pdf_shows_the_figures_and_the_chinese_text(nanjiao: Scenario, tmp_path: Path) -> None:
    with make_client(nanjiao.url) as client:
        # the household list is residents' data: in the PDF for planners only
        response = client.get(f"/proposals/{nanjiao.proposal_id}/report.pdf", headers={"X-API-Key": PLANNER_KEY})
    assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(response.content)
    SHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(pdf, SHOTS / "nanjiao-lida.pdf")
    report = nanjiao.applied
    words = _run("pdftotext", "-layout", str(pdf), "-")
    moved, lida = report.summary.moved, next(u for u in report.units if u.code == nanjiao.b)
    labels = ("边界调整影响评估报告", "南郊社区", "利达社区", "西华办〔2025〕7号", "调整前后对比", "受影响楼栋名单",
              "党群服务中心", "四至", "东至")
    figures = (f"{moved.residents:,}", f"{moved.households:,}", f"{moved.area_km2:.2f}", f"{lida.after.residents:,}",
               f"{lida.after.residents_per_worker:,.0f}", f"{100 * report.access.life_circles[1].share_after:.1f}%")
    for expected in (*labels, *figures):
        assert expected in words, expected
    assert all(h.code in words for h in report.households)  # the whole list (99 buildings) is in the PDF
    fonts = [line for line in _run("pdffonts", str(pdf)).splitlines() if "CJK" in line]
    assert fonts and all(" yes " in f"{line} " for line in fonts)  # a CJK font, embedded
    pages = int(next(line.split()[-1] for line in _run("pdfinfo", str(pdf)).splitlines() if line.startswith("Pages:")))
    _run("pdftoppm", "-r", "40", "-png", str(pdf), str(tmp_path / "page"))
    images = sorted(tmp_path.glob("page-*.png"))
    assert len(images) == pages >= 4
    from PIL import Image

    inks, map_pixels = [], 0
    for image in images:
        pixels = np.asarray(Image.open(image).convert("RGB"), dtype=int)
        inks.append(float((pixels.sum(axis=2) < 384).mean()))
        map_pixels += int((np.abs(pixels - [166, 200, 232]).sum(axis=2) < 30).sum())  # the "from" fill of the map
    assert min(inks) > 0.001 and max(inks) < 0.5  # text on every page (the last may hold a few lines)
    assert map_pixels > 500  # the static map is drawn


@pytest.mark.parametrize("nanjiao", ["spatialite"], indirect=True)
def test_the_html_report_opens_offline_in_chromium_without_errors(nanjiao: Scenario, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    from maps.report import render_html

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (make test does) or set GRIDGOV_CHROMIUM")
    page_file = tmp_path / "report.html"
    page_file.write_text(render_html(nanjiao.applied, "zh"), encoding="utf-8")
    errors: list[str] = []
    outside: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, timeout=30_000)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))

            def guard(route: Any) -> None:
                if route.request.url.startswith(("file:", "data:", "about:")):
                    route.continue_()
                else:
                    outside.append(route.request.url)
                    route.abort()

            page.route("**/*", guard)
            page.goto(page_file.as_uri(), wait_until="load")
            assert page.evaluate("document.querySelector('figure.static img').naturalWidth") > 1000
            assert "南郊社区" in page.inner_text("h1")
            frame = page.frame_locator("iframe")
            frame.locator(".leaflet-control-layers").wait_for(timeout=15_000)
            control = frame.locator(".leaflet-control-layers").inner_text()
            assert "调整前" in control and "调整后" in control and "调出区域" in control
            shapes = frame.locator("path.leaflet-interactive")
            total = shapes.count()
            assert total > len(nanjiao.applied.households)  # units, grids, territory and every moved building
            frame.locator("label", has_text="迁移楼栋").locator("input").uncheck()
            assert shapes.count() == total - len(nanjiao.applied.households)
            SHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SHOTS / "nanjiao-lida-html.png"), full_page=True)
        finally:
            browser.close()
    assert errors == []
    assert outside == []
