"""Render an impact report as HTML, PDF, CSV or JSON, in Chinese or English."""

from __future__ import annotations

import base64
import csv
import datetime as dt
import functools
import io
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from geo.cells import safe_row
from geo.impact.model import ImpactReport
from maps.report import labels
from maps.report.labels import LANGS, t

FORMATS = ("html", "pdf", "json", "csv")
MEDIA_TYPES = {"html": "text/html; charset=utf-8", "pdf": "application/pdf", "json": "application/json",
               "csv": "text/csv; charset=utf-8"}
TEMPLATES = Path(__file__).resolve().parent / "templates"
# The page lists at most this many buildings (WeasyPrint lays out ~150 table rows a second); the CSV lists all.
HOUSEHOLD_ROWS = {"html": 2000, "pdf": 300}


@functools.cache
def _environment() -> Environment:
    return Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html", "j2"]),
                       trim_blocks=True, lstrip_blocks=True)


def _title(report: ImpactReport, lang: str) -> str:
    p = report.proposal
    if p.kind == "split":
        return t(lang, "title_split", a=labels.name(p.from_unit, lang))
    b = labels.name(p.to_unit, lang) if p.to_unit is not None else ""
    if p.kind == "merge":
        merged = ("、" if lang == "zh" else ", ").join(labels.name(u, lang) for u in report.summary.retired)
        return t(lang, "title_merge", a=merged or labels.name(p.from_unit, lang), b=b)
    return t(lang, "title", a=labels.name(p.from_unit, lang), b=b)


BEIJING = dt.timezone(dt.timedelta(hours=8), "UTC+8")


def beijing_time(moment: dt.datetime, lang: str) -> str:
    """``moment`` in Beijing time (UTC+8), the time every reader of the report lives in; naive = UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return f"{moment.astimezone(BEIJING):%Y-%m-%d %H:%M}（{t(lang, 'beijing_time')}）" if lang == "zh" else \
        f"{moment.astimezone(BEIJING):%Y-%m-%d %H:%M} {t(lang, 'beijing_time')}"


def _page(report: ImpactReport, lang: str, mode: str) -> str:
    from maps.report.static_map import render_static_map
    from maps.report.view import access_rows, household_rows, sides_rows, unit_tables

    if lang not in LANGS:
        raise ValueError(f"lang must be one of {LANGS}")
    interactive = None
    if mode == "html":
        from maps.report.interactive import render_interactive_map

        interactive = render_interactive_map(report, lang)
    households = household_rows(report, lang, HOUSEHOLD_ROWS[mode])
    from maps.csp import report_policy

    return _environment().get_template("report.html.j2").render(
        report=report, lang=lang, mode=mode, title=_title(report, lang),
        csp=report_policy(interactive) if mode == "html" else None,
        css=(TEMPLATES / "report.css").read_text(encoding="utf-8"),
        generated=beijing_time(report.generated_at, lang),
        t=functools.partial(t, lang), tk=lambda key, **v: labels.for_kind(lang, key, report.proposal.kind, **v),
        nm=lambda ref: labels.name(ref, lang), int=labels.integer, dec=labels.decimal,
        paren=(lambda s: f"（{s}）") if lang == "zh" else (lambda s: f" ({s})"), sep="、" if lang == "zh" else ", ",
        tables=unit_tables(report, lang), access=access_rows(report, lang), sides=sides_rows(report, lang),
        static_map=base64.b64encode(render_static_map(report, lang)).decode(), interactive_map=interactive,
        households=households, cut=len(households) < len(report.households),
    )


def render_html(report: ImpactReport, lang: str = "zh") -> str:
    """One self-contained HTML page (no network needed to open it)."""
    return _page(report, lang, "html")


def render_pdf(report: ImpactReport, lang: str = "zh") -> bytes:
    """The report as an A4 PDF (WeasyPrint)."""
    try:
        from weasyprint import HTML
    except (ImportError, OSError) as exc:  # OSError: Pango missing
        raise RuntimeError(f"PDF reports need WeasyPrint and Pango ({exc}); pip install weasyprint, "
                           "apt-get install libpango-1.0-0 libpangoft2-1.0-0 fonts-noto-cjk") from None
    pdf: bytes = HTML(string=_page(report, lang, "pdf"), base_url=str(TEMPLATES)).write_pdf()
    return pdf


CSV_COLUMNS = ("col_code", "col_address", "col_households", "col_residents", "col_elderly", "col_children",
               "col_special_care", "col_community_before", "col_community_before_code", "col_community_after",
               "col_community_after_code", "col_grid_before", "col_grid_before_code", "col_grid_after",
               "col_grid_after_code", "col_distance_before", "col_distance_after", "col_lon", "col_lat")


def render_csv(report: ImpactReport, lang: str = "zh") -> bytes:
    """The affected-buildings list: UTF-8 with a byte-order mark (so Excel reads the Chinese), CRLF lines."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(safe_row(t(lang, c) for c in CSV_COLUMNS))

    def number(value: float | None) -> str:
        return "" if value is None else f"{value:.0f}"

    for h in report.households:
        writer.writerow(safe_row([
            h.code, h.address or "", h.households, h.residents, h.elderly, h.children, h.special_care,
            labels.name(h.community_before, lang), h.community_before.code, labels.name(h.community_after, lang),
            h.community_after.code, labels.name(h.grid_before, lang), h.grid_before.code,
            labels.name(h.grid_after, lang), h.grid_after.code, number(h.distance_before_m),
            number(h.distance_after_m), f"{h.lon:.7f}", f"{h.lat:.7f}",
        ]))
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def render_json(report: ImpactReport, lang: str = "zh") -> bytes:
    """The model as JSON (both languages; ``lang`` is accepted for symmetry with the other forms)."""
    return report.model_dump_json().encode("utf-8")


def render(report: ImpactReport, fmt: str, lang: str = "zh") -> tuple[bytes, str, str]:
    """(body, media type, file name) of the report in ``fmt``."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {FORMATS}")
    body: Any = {"html": lambda: render_html(report, lang).encode("utf-8"), "pdf": lambda: render_pdf(report, lang),
                 "csv": lambda: render_csv(report, lang), "json": lambda: render_json(report, lang)}[fmt]()
    stem = f"proposal-{report.proposal.id}-households" if fmt == "csv" else f"proposal-{report.proposal.id}-impact"
    return body, MEDIA_TYPES[fmt], f"{stem}-{lang}.{fmt}"
