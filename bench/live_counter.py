"""Latency of the map's live what-if counter while a planner brushes grids, beside the server's preview.

Opens the planner's map in Debian's headless Chromium (Playwright) on the demo database, zooms to
Nanjiao, chooses Lida as the receiving community and brushes Nanjiao's grids one stroke at a time
(each stroke adds or removes one grid). For every change the page records the time from the input
event to the counter's figures in the page (``gg.whatif.timings``) and to the next painted frame
(``gg.whatif.painted``). The peer, measured in the same run from the same page: the round trip of
``POST /proposals/preview`` (what the counter would cost if every change asked the server; the
stored preview the map used before, ``POST /proposals``, costs more and writes a draft). Target: the
counter under 300 ms per change.

    PYTHONPATH=. python bench/live_counter.py [--strokes 40] [--backend spatialite] [--write-results]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import uvicorn  # noqa: E402
from common import database_url, free_port  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

from api.app import create_app  # noqa: E402
from api.settings import ApiSettings  # noqa: E402

CHROMIUM = os.environ.get("GRIDGOV_CHROMIUM", "/usr/bin/chromium")
NANJIAO, LIDA = "520402006006", "520402006009"
KEY = "bench-planner-key-0123"
RESULTS = ROOT / "bench" / "RESULTS.md"
SECTION = "## Planner map: live what-if counter"


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def serve(url: str) -> tuple[uvicorn.Server, str]:
    app = create_app(ApiSettings(database_url=url, api_keys={KEY: "planner"}))
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    return server, f"http://127.0.0.1:{port}"


def run(base: str, strokes: int, width: int, height: int) -> dict[str, list[float]]:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu"])
        context = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN")
        context.route(lambda u: not u.startswith(base), lambda r: r.abort())
        page = context.new_page()
        page.goto(base + "/map")
        page.wait_for_function("document.body.dataset.ready === '1'")
        centre = page.evaluate("(c) => fetch('/map/search?q=' + c).then((r) => r.json())"
                               ".then((d) => d.results[0].bbox)", NANJIAO)
        page.evaluate("(b) => { gg.map.setView(gg.ll((b[0] + b[2]) / 2, (b[1] + b[3]) / 2), 15); }", centre)
        page.wait_for_timeout(1500)
        page.evaluate("gg.whenIdle()")
        points = page.evaluate("""(community) => { const r = gg.map.getContainer().getBoundingClientRect();
            const g = gg.features.grids; return Object.keys(g).filter((c) => g[c].properties.parent_code === community)
            .sort().map((c) => { const lp = g[c].properties.label_point; const q = gg.map.latLngToContainerPoint(
            gg.ll(lp[0], lp[1])); return [r.left + q.x, r.top + q.y, c]; }); }""", NANJIAO)
        page.click("#gg-tool-brush")
        page.mouse.click(points[0][0], points[0][1])  # the first grid opens the draft form
        page.select_option("#gg-to", LIDA)
        page.evaluate("gg.whatif.timings.length = 0; gg.whatif.painted.length = 0")
        for i in range(strokes):
            x, y, _ = points[1 + i % (len(points) - 1)]
            page.mouse.move(x, y)
            page.mouse.down()
            page.mouse.up()
            page.wait_for_timeout(30)
        page.wait_for_timeout(300)
        timings = page.evaluate("gg.whatif.timings.slice()")
        painted = page.evaluate("gg.whatif.painted.slice()")
        codes = [c for _, _, c in points[:4]]
        preview = page.evaluate("""async ([key, body, n]) => { const out = [];
            for (let i = 0; i < n; i++) { const t = performance.now();
              const r = await fetch('/proposals/preview', { method: 'POST', headers: { 'X-API-Key': key,
                'Content-Type': 'application/json' }, body: JSON.stringify(body) });
              await r.json(); out.push(performance.now() - t); } return out; }""",
                                [KEY, {"from_code": NANJIAO, "to_code": LIDA, "child_codes": codes,
                                       "effective_date": dt.date.today().isoformat(), "author": "bench"}, 5])
        browser.close()
    return {"counter": timings, "painted": painted, "preview": preview}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--strokes", type=int, default=40)
    parser.add_argument("--backend", default="spatialite", choices=["spatialite", "postgis"])
    parser.add_argument("--write-results", action="store_true")
    args = parser.parse_args()
    server, base = serve(database_url(args.backend, 1))
    rows = []
    try:
        for width, height in ((1440, 900), (1024, 768)):
            figures = run(base, args.strokes, width, height)
            for name, label in (("counter", "live counter: input → figures in the page"),
                                ("painted", "live counter: input → next painted frame"),
                                ("preview", "peer: POST /proposals/preview round trip")):
                s = figures[name]
                rows.append(f"| {width}×{height} | {label} | {len(s)} | {statistics.median(s):.1f} | "
                            f"{pct(s, 0.95):.1f} | {max(s):.1f} |")
    finally:
        server.should_exit = True
    head = ["| screen | measurement | n | p50 ms | p95 ms | max ms |", "|---|---|---:|---:|---:|---:|"]
    table = "\n".join([*head, *rows])
    print(table)
    if args.write_results:
        text = RESULTS.read_text(encoding="utf-8")
        section = (f"{SECTION}\n\n`PYTHONPATH=. python bench/live_counter.py --strokes {args.strokes} --backend "
                   f"{args.backend} --write-results` — headless Chromium on the demo ({args.backend}), Nanjiao → Lida, "
                   f"one brush stroke per change; run on {dt.date.today().isoformat()} while other work shared "
                   "the machine. Target: under 300 ms per change.\n\n" + table + "\n")
        if SECTION in text:
            head, _, rest = text.partition(SECTION)
            tail = rest.split("\n## ", 1)
            text = head + section + ("\n## " + tail[1] if len(tail) > 1 else "")
        else:
            text = text.rstrip("\n") + "\n\n" + section
        RESULTS.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
