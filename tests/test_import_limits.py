"""Import limits (issue #12 item 9 and Low items): zip size and entries, GeoPackage views, no temp paths.

The upload goes through POST /imports on an empty database of each kind; every refusal is a 4xx naming
``file`` or ``path``, never a 500, and nothing is written.
"""

from __future__ import annotations

import io
import sqlite3
import zipfile
from pathlib import Path
from typing import Any

import pytest
from conftest import ADMIN_KEY, make_client
from factories import tiny_dataset

from geo.io import write_dataset

FORM = {"author": "t", "valid_from": "2024-01-01"}
KEY = {"X-API-Key": ADMIN_KEY}


def _zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return buffer.getvalue()


def _post(client: Any, name: str, payload: bytes) -> Any:
    return client.post("/imports", headers=KEY, data=FORM, files={"file": (name, payload)})


def test_zip_limits_and_odd_names(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import api.routes.imports as imports

    monkeypatch.setattr(imports, "MAX_EXPANDED_BYTES", 1_000_000)
    with make_client(db_url) as client:
        bomb = _post(client, "bomb.zip", _zip({"units.geojson": b" " * 5_000_000}))
        assert bomb.status_code == 413 and bomb.json()["error"]["field"] == "file"
        many = _post(client, "many.zip", _zip({f"f{i}.csv": b"x" for i in range(imports.MAX_ZIP_ENTRIES + 1)}))
        assert many.status_code == 422 and many.json()["error"]["field"] == "file"
        for odd in (".", "a/..", "a/."):
            answer = _post(client, "odd.zip", _zip({odd: b"x"}))
            assert answer.status_code == 422, (odd, answer.text)
        assert client.get("/collections/grids/items").json()["numberMatched"] == 0


def test_geopackage_views_are_refused_and_paths_hidden(db_url: str, tmp_path: Path) -> None:
    gpkg = write_dataset(tiny_dataset(), tmp_path / "tiny.gpkg", fmt="gpkg")
    with sqlite3.connect(gpkg) as conn:
        conn.execute("ALTER TABLE units RENAME TO units_data")
        conn.execute("CREATE VIEW units AS WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r "
                     "WHERE n < 10) SELECT u.* FROM units_data u, r WHERE r.n = 1")
    with make_client(db_url) as client:
        view = _post(client, "tiny.gpkg", gpkg.read_bytes())
        assert view.status_code == 422 and "view" in view.json()["error"]["message"]
        broken = _post(client, "broken.gpkg", b"not a geopackage at all")
        assert broken.status_code == 422
        for answer in (view, broken):
            assert "/tmp" not in answer.text and "tmp" not in answer.json()["error"]["message"]
        assert "broken.gpkg" in broken.json()["error"]["message"]
        assert client.get("/collections/grids/items").json()["numberMatched"] == 0
