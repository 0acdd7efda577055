"""The monthly summary a sub-district's grid-management centre sends upwards (月度事件汇总).

One row per community of the sub-district (by where events lay when reported), plus a total row:
received, closed, closed on time, still open at the end of the month, overdue among those, by
category, and the mean hours from report to 办结.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pandas as pd
from sqlalchemy import Connection, text

from geo.errors import InvalidInput, NotFound
from geo.events import store
from geo.events.catalogue import Catalogue

BASE_COLUMNS = ("community_code", "community_name", "received", "closed", "closed_on_time", "open_at_month_end",
                "overdue_at_month_end", "mean_hours_to_close")


def parse_month(value: str) -> tuple[dt.date, dt.date]:
    """``YYYY-MM`` as (first day, first day of the next month)."""
    if not re.fullmatch(r"\d{4}-\d{2}", value or ""):
        raise InvalidInput(f"month must be YYYY-MM, not {value!r}", field="month")
    year, month = int(value[:4]), int(value[5:])
    if not 1 <= month <= 12:
        raise InvalidInput(f"month must be YYYY-MM, not {value!r}", field="month")
    start = dt.date(year, month, 1)
    end = dt.date(year + (month == 12), month % 12 + 1, 1)
    return start, end


def monthly_summary(conn: Connection, *, subdistrict: str, month: str,
                    catalogue: Catalogue) -> tuple[dict[str, Any], pd.DataFrame]:
    """(header, table) of the month's events in ``subdistrict``."""
    start, end = parse_month(month)
    name = conn.execute(text("SELECT name FROM units WHERE code = :c AND level = 'subdistrict' "
                             "ORDER BY version DESC"), {"c": subdistrict}).scalar()
    if name is None:
        raise NotFound(f"no sub-district {subdistrict!r} / 无此街道", field="subdistrict")
    month_end = dt.datetime.combine(end, dt.time(), dt.UTC)
    rows = store.read_events(conn, store.EventFilter(unit_code=subdistrict, until=end - dt.timedelta(days=1)),
                             columns=("id", "category", "community_code", "reported_day", "reported_at",
                                      "due_at", "closed_at", "status"))
    sql = text("SELECT code, name FROM units WHERE level = 'community' AND parent_code = :s")
    names: dict[str, str] = dict(conn.execute(sql, {"s": subdistrict}).tuples().all())
    cats = list(catalogue.categories)
    table: dict[str, dict[str, Any]] = {}
    hours: dict[str, list[float]] = {}
    for r in rows:
        code = r["community_code"]
        t = table.setdefault(code, {c: 0 for c in BASE_COLUMNS[2:]} | {c: 0 for c in cats})
        closed_at = r["closed_at"]
        received = r["reported_day"] >= start
        if received:
            t["received"] += 1
            if r["category"] in t:
                t[r["category"]] += 1
        if closed_at is not None and start <= closed_at.date() < end:
            t["closed"] += 1
            t["closed_on_time"] += int(closed_at <= r["due_at"])
            hours.setdefault(code, []).append((closed_at - r["reported_at"]).total_seconds() / 3600)
        if closed_at is None or closed_at >= month_end:
            t["open_at_month_end"] += 1
            t["overdue_at_month_end"] += int(r["due_at"] < month_end)
    records = []
    for code in sorted(table):
        t = table[code]
        h = hours.get(code, [])
        t["mean_hours_to_close"] = round(sum(h) / len(h), 1) if h else None
        records.append({"community_code": code, "community_name": names.get(code, ""), **t})
    frame = pd.DataFrame(records, columns=[*BASE_COLUMNS, *cats])
    if len(frame):
        total = {c: frame[c].sum() for c in [*BASE_COLUMNS[2:-1], *cats]}
        all_hours = [x for h in hours.values() for x in h]
        total |= {"community_code": subdistrict, "community_name": f"{name} 合计 / total",
                  "mean_hours_to_close": round(sum(all_hours) / len(all_hours), 1) if all_hours else None}
        frame = pd.concat([frame, pd.DataFrame([total])], ignore_index=True)
    header = {"subdistrict_code": subdistrict, "subdistrict_name": name, "month": month,
              "categories": {c.code: c.name for c in catalogue.categories.values()}}
    return header, frame
