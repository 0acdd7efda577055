"""Roles and keys: open reads, keyed writes (X-API-Key), 401/403 with clear messages; POST /imports."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from conftest import ADMIN_KEY, PLANNER_KEY, READER_KEY, make_client
from factories import tiny_dataset
from sqlalchemy import text

from geo.access import create_key, revoke_key
from geo.db import make_engine
from geo.io import write_dataset

FORM = {"author": "tester", "valid_from": "2024-01-01"}


def _gpkg(tmp_path: Path) -> bytes:
    path = write_dataset(tiny_dataset(), tmp_path / "tiny.gpkg", fmt="gpkg")
    return Path(path).read_bytes()


def _unit_count(url: str) -> int:
    with make_engine(url).connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM units")).scalar_one())


def test_reads_are_open_by_default(client) -> None:
    assert client.get("/locate", params={"lon": 106.005, "lat": 26.015}).status_code == 200


def test_reads_can_require_a_key(tiny_db_url: str) -> None:
    with make_client(tiny_db_url, read_requires_key=True) as c:
        denied = c.get("/collections/grids/items")
        assert denied.status_code == 401
        assert "X-API-Key" in denied.json()["error"]["message"]
        assert c.get("/collections/grids/items", headers={"X-API-Key": READER_KEY}).status_code == 200


@pytest.mark.parametrize(
    ("key", "status", "words"),
    [(None, 401, "needs an API key"), ("wrong-key-0123456789", 401, "not valid"),
     (READER_KEY, 403, "admin role"), (PLANNER_KEY, 403, "admin role")],
)
def test_import_needs_the_admin_role(db_url: str, tmp_path: Path, key, status: int, words: str) -> None:
    headers = {"X-API-Key": key} if key else {}
    with make_client(db_url) as c:
        response = c.post("/imports", headers=headers, data=FORM,
                          files={"file": ("tiny.gpkg", _gpkg(tmp_path), "application/geopackage+sqlite3")})
    assert response.status_code == status
    assert words in response.json()["error"]["message"]
    assert _unit_count(db_url) == 0


def test_admin_imports_a_geopackage_and_the_map_extent_follows(db_url: str, tmp_path: Path) -> None:
    with make_client(db_url) as c:
        assert c.get("/locate", params={"lon": 106.005, "lat": 26.015}).status_code == 404
        response = c.post("/imports", headers={"X-API-Key": ADMIN_KEY}, data=FORM,
                          files={"file": ("tiny.gpkg", _gpkg(tmp_path), "application/octet-stream")})
        assert response.status_code == 201, response.text
        assert response.json()["buildings"] == 40
        # swapped-coordinate detection needs the new extent
        swapped = c.get("/locate", params={"lon": 26.015, "lat": 106.005})
        assert swapped.status_code == 422 and "swapped" in swapped.json()["error"]["message"]
    assert _unit_count(db_url) == 15


def test_a_zip_of_geojson_layers_imports(db_url: str, tmp_path: Path) -> None:
    folder = write_dataset(tiny_dataset(), tmp_path / "layers", fmt="geojson")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for file in Path(folder).iterdir():
            zf.write(file, f"export/{file.name}")
    with make_client(db_url) as c:
        response = c.post("/imports", headers={"X-API-Key": ADMIN_KEY}, data=FORM,
                          files={"file": ("layers.zip", buffer.getvalue(), "application/zip")})
    assert response.status_code == 201, response.text


def test_a_broken_upload_lists_its_problems_and_writes_nothing(db_url: str, tmp_path: Path) -> None:
    ds = tiny_dataset()
    ds.buildings.loc[0, "residents"] = -3
    ds.units.loc[3, "parent_code"] = "520499999"
    path = write_dataset(ds, tmp_path / "broken.gpkg", fmt="gpkg")
    with make_client(db_url) as c:
        response = c.post("/imports", headers={"X-API-Key": ADMIN_KEY}, data=FORM,
                          files={"file": ("broken.gpkg", Path(path).read_bytes(), "application/octet-stream")})
    assert response.status_code == 422
    problems = response.json()["error"]["problems"]
    assert {p["field"] for p in problems} >= {"residents", "parent_code"}
    assert _unit_count(db_url) == 0


@pytest.mark.parametrize(
    ("filename", "payload", "field"),
    [("notes.txt", b"hello", "file"), ("bad.zip", b"not a zip", "file")],
)
def test_unusable_uploads_are_422(db_url: str, filename: str, payload: bytes, field: str) -> None:
    with make_client(db_url) as c:
        response = c.post("/imports", headers={"X-API-Key": ADMIN_KEY}, data=FORM,
                          files={"file": (filename, payload, "application/octet-stream")})
    assert response.status_code == 422
    assert response.json()["error"]["field"] == field


def test_missing_form_fields_are_named(db_url: str, tmp_path: Path) -> None:
    with make_client(db_url) as c:
        response = c.post("/imports", headers={"X-API-Key": ADMIN_KEY}, data={"author": "x"},
                          files={"file": ("tiny.gpkg", _gpkg(tmp_path), "application/octet-stream")})
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "valid_from"


def test_keys_stored_in_the_table_work_until_revoked(tiny_db_url: str) -> None:
    engine = make_engine(tiny_db_url)
    with engine.begin() as conn:
        key = create_key(conn, name="Li Planner", role="reader")
        key_id = conn.execute(text("SELECT max(id) FROM api_keys")).scalar_one()
        stored = conn.execute(text("SELECT key_hash FROM api_keys")).scalar_one()
    assert key not in stored  # only the hash is stored
    with make_client(tiny_db_url, read_requires_key=True) as c:
        assert c.get("/collections", headers={"X-API-Key": key}).status_code == 200
        with engine.begin() as conn:
            revoke_key(conn, key_id)
        assert c.get("/collections", headers={"X-API-Key": key}).status_code == 401


def test_weak_or_unknown_role_keys_are_refused_in_settings() -> None:
    from pydantic import ValidationError

    from api.settings import ApiSettings

    with pytest.raises(ValidationError, match="role"):
        ApiSettings(api_keys={"long-enough-key-123": "superuser"})
    with pytest.raises(ValidationError, match="12 characters"):
        ApiSettings(api_keys={"short": "admin"})
