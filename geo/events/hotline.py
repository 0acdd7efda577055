"""Hotline (12345 热线) records from CSV or GeoJSON, and the report of the rows that were not imported.

Hotline systems export with Chinese headers and in GBK as often as UTF-8; both are read. GeoJSON
features give their point as the place; CSV rows give lon/lat columns or an address.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from typing import Any

from geo.errors import InvalidInput
from geo.events.ingest import IngestResult

ALIASES: dict[str, str] = {
    "工单号": "client_id", "编号": "client_id", "id": "client_id",
    "类别": "category", "事件类别": "category", "分类": "category",
    "内容": "description", "描述": "description", "诉求内容": "description",
    "来电人": "reporter_name", "姓名": "reporter_name", "联系电话": "reporter_contact", "电话": "reporter_contact",
    "地址": "address", "事发地址": "address", "时间": "reported_at", "来电时间": "reported_at",
    "上报时间": "reported_at", "经度": "lon", "纬度": "lat", "longitude": "lon", "latitude": "lat", "照片": "photo_ref",
}
FIELDS = ("client_id", "category", "description", "source", "reporter_name", "reporter_contact", "photo_ref",
          "address", "lon", "lat", "reported_at")


def _canonical(name: str) -> str:
    key = name.strip().lstrip("\ufeff")
    return ALIASES.get(key, ALIASES.get(key.lower(), key.lower()))


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise InvalidInput("the file is neither UTF-8 nor GBK text", field="file")


def read_hotline_file(data: bytes, filename: str) -> list[dict[str, Any]]:
    """Rows of a hotline file (``.csv`` or ``.geojson``/``.json``) with canonical column names."""
    if not data.strip():
        raise InvalidInput("the file is empty", field="file")
    text = _decode(data)
    if filename.lower().endswith((".geojson", ".json")):
        return _geojson_rows(text)
    if "\x00" in text:
        raise InvalidInput("the file contains NUL characters: not a CSV text file", field="file")
    try:
        reader = csv.DictReader(io.StringIO(text))
        if not reader.fieldnames:
            raise InvalidInput("the CSV has no header row", field="file")
        names = {f: _canonical(f) for f in reader.fieldnames}
        if "category" not in names.values():
            raise InvalidInput("the CSV needs a category (类别) column", field="category")
        rows = []
        for raw in reader:
            rows.append({names[k]: (v if v != "" else None) for k, v in raw.items()
                         if k is not None and names[k] in FIELDS and not isinstance(v, list)})
    except csv.Error as exc:
        raise InvalidInput(f"the CSV cannot be read: {exc}", field="file") from exc
    return rows


def _geojson_rows(text: str) -> list[dict[str, Any]]:
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"the file is not valid JSON: {exc}", field="file") from exc
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection":
        raise InvalidInput("a GeoJSON FeatureCollection is expected", field="file")
    rows = []
    for feature in doc.get("features") or []:
        props = feature.get("properties") or {} if isinstance(feature, dict) else {}
        row = {_canonical(k): v for k, v in props.items() if _canonical(k) in FIELDS}
        geom = feature.get("geometry") if isinstance(feature, dict) else None
        if isinstance(geom, dict) and geom.get("type") == "Point" and len(geom.get("coordinates") or []) >= 2:
            row["lon"], row["lat"] = geom["coordinates"][:2]
        rows.append(row)
    return rows


def unmatched_csv(rows: Sequence[dict[str, Any]], result: IngestResult) -> str:
    """The rows that were not imported: row number (1 = first data row), why, which field, the row.

    The reporter's name and contact stay out: the report is an export.
    """
    shown = [f for f in FIELDS if f not in ("reporter_name", "reporter_contact")]
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["row", "reason", "field", *shown])
    for outcome in result.outcomes:
        if outcome.status == "unmatched":
            row = rows[outcome.index]
            writer.writerow([outcome.index + 1, outcome.reason, outcome.field, *(row.get(f, "") for f in shown)])
    return "\ufeff" + buf.getvalue()
