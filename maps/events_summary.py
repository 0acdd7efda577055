"""The monthly events summary as a printable page and PDF (WeasyPrint, imported lazily)."""

from __future__ import annotations

import html
from typing import Any

import pandas as pd

LABELS = {
    "zh": {"title": "月度事件汇总", "community_code": "社区代码", "community_name": "社区", "received": "受理",
           "closed": "办结", "closed_on_time": "按期办结", "open_at_month_end": "月末未办结",
           "overdue_at_month_end": "月末超期", "mean_hours_to_close": "平均办结时长(小时)"},
    "en": {"title": "Monthly events summary", "community_code": "Code", "community_name": "Community",
           "received": "Received", "closed": "Closed", "closed_on_time": "Closed on time",
           "open_at_month_end": "Open at month end", "overdue_at_month_end": "Overdue at month end",
           "mean_hours_to_close": "Mean hours to close"},
}


def summary_html(header: dict[str, Any], table: pd.DataFrame, *, lang: str = "zh") -> str:
    """A self-contained HTML page; every value is escaped."""
    labels = LABELS.get(lang, LABELS["zh"])
    cats = header["categories"]
    head = "".join(f"<th>{html.escape(str(labels.get(c, cats.get(c, c))))}</th>" for c in table.columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape('' if pd.isna(v) else str(v))}</td>" for v in row) + "</tr>"
        for row in table.itertuples(index=False)
    )
    title = f"{html.escape(str(header['subdistrict_name']))} {labels['title']} {html.escape(header['month'])}"
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title><style>"
            "body{font-family:'Noto Sans CJK SC','WenQuanYi Micro Hei',sans-serif;font-size:10pt}"
            "table{border-collapse:collapse}td,th{border:1px solid #999;padding:2px 4px}"
            f"@page{{size:A4 landscape}}</style></head><body><h1>{title}</h1>"
            f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></body></html>")


def render_summary_pdf(header: dict[str, Any], table: pd.DataFrame, *, lang: str = "zh") -> bytes:
    """The summary as PDF."""
    try:
        from weasyprint import HTML
    except (ImportError, OSError) as exc:  # pragma: no cover - depends on the platform
        raise RuntimeError(f"PDF summaries need WeasyPrint and Pango ({exc}); pip install weasyprint") from exc
    pdf: bytes = HTML(string=summary_html(header, table, lang=lang)).write_pdf()
    return pdf
