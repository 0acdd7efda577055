"""Shared fixtures: every database test runs on SpatiaLite and on a real PostGIS.

Each test gets a fresh, migrated database copied from a per-session template (a file copy for
SpatiaLite, ``CREATE DATABASE … TEMPLATE`` for PostGIS), so tests never see each other's writes.
Under pytest-xdist each worker has its own temporary folder and its own uniquely named PostGIS templates;
the demo GeoPackage and its SpatiaLite copy, slow to make and only ever read, are made once per run and
shared by the workers (see :func:`made_once`).
PostGIS that cannot be reached fails the run; set ``GRIDGOV_TEST_BACKENDS=spatialite`` to opt out
explicitly while developing without a server.
"""

from __future__ import annotations

import fcntl
import os
import pickle
import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from geo.db import make_engine, migrate

BACKENDS = [b.strip() for b in os.environ.get("GRIDGOV_TEST_BACKENDS", "spatialite,postgis").split(",")]
POSTGIS_ADMIN_URL = os.environ.get(
    "GRIDGOV_TEST_POSTGIS_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def _admin_engine() -> Engine:
    return create_engine(POSTGIS_ADMIN_URL, isolation_level="AUTOCOMMIT")


def _pg_url(database: str) -> str:
    return make_url(POSTGIS_ADMIN_URL).set(database=database).render_as_string(hide_password=False)


def made_once(
    tmp_path_factory: pytest.TempPathFactory, name: str, make: Callable[[Path], object]
) -> tuple[Path, object]:
    """``make(path)`` run once per test run, its file and result shared by every xdist worker.

    Without xdist this is the session's own temporary folder. With it, the folder all workers' folders
    share, a lock so that one worker makes the file while the others wait, and the result pickled beside it.
    """
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent / "shared"
        root.mkdir(exist_ok=True)
    path, result_file = root / name, root / f"{name}.result"
    with open(root / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not result_file.exists():
            result = make(path)
            result_file.write_bytes(pickle.dumps(result))
        return path, pickle.loads(result_file.read_bytes())


@pytest.fixture(scope="session")
def spatialite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("spatialite") / "template.sqlite"
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    with engine.connect() as conn:  # fold the WAL into the file so a plain copy is complete
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def postgis_template() -> Iterator[str]:
    name = f"gridgov_tpl_{uuid.uuid4().hex[:10]}"
    admin = _admin_engine()
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # noqa: BLE001 - any failure to reach PostGIS must stop the run
        pytest.fail(f"PostGIS is required for the tests but {POSTGIS_ADMIN_URL} is unreachable: {exc}")
    engine = make_engine(_pg_url(name))
    migrate(engine)
    engine.dispose()
    yield name
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def copied_database_url(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path, *, spatialite: str, postgis: str
) -> Iterator[str]:
    """A copy of a template database (fixture names per backend); dropped when the test ends."""
    if backend == "spatialite":
        path = tmp_path / "gridgov.sqlite"
        shutil.copyfile(request.getfixturevalue(spatialite), path)
        yield f"sqlite:///{path}"
        return
    template_name: str = request.getfixturevalue(postgis)
    name = f"gridgov_t_{uuid.uuid4().hex[:12]}"
    admin = _admin_engine()
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template_name}"'))
    try:
        yield _pg_url(name)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """URL of a fresh, migrated database, once per backend."""
    yield from fresh_database_url(request.param, request, tmp_path)


def fresh_database_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A new migrated, empty database of ``backend``; dropped when the test ends."""
    yield from copied_database_url(backend, request, tmp_path, spatialite="spatialite_template",
                                   postgis="postgis_template")


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


TINY_VALID_FROM = "2024-01-01"
PLANNER_KEY = "planner-key-0123456789"
ADMIN_KEY = "admin-key-0123456789"
READER_KEY = "reader-key-0123456789"


@pytest.fixture
def tiny_db_url(db_url: str) -> str:
    """A fresh database holding the tiny dataset of tests/factories.py, valid from 2024-01-01."""
    import datetime as dt

    from factories import tiny_dataset

    from geo.importer import import_dataset

    engine = make_engine(db_url)
    import_dataset(engine, tiny_dataset(), author="test", valid_from=dt.date.fromisoformat(TINY_VALID_FROM))
    engine.dispose()
    return db_url


def make_client(database_url: str, **settings: object):  # noqa: ANN201 - a TestClient context manager
    """A TestClient (use it in ``with``) for an app on ``database_url`` with the test keys."""
    from fastapi.testclient import TestClient

    from api.app import create_app
    from api.settings import ApiSettings

    keys = {PLANNER_KEY: "planner", ADMIN_KEY: "admin", READER_KEY: "reader"}
    config = ApiSettings(database_url=database_url, api_keys=keys, **settings)  # type: ignore[arg-type]
    return TestClient(create_app(config))


@pytest.fixture
def client(tiny_db_url: str) -> Iterator[object]:
    with make_client(tiny_db_url) as test_client:
        yield test_client


DEMO_SEED = 20250415
DEMO_VALID_FROM = "2024-01-01"


@pytest.fixture(scope="session")
def demo_build(tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201 - (Path, DatasetSummary)
    """The Xixiu demo GeoPackage, built once per run."""
    from data.generate import build_dataset

    return made_once(tmp_path_factory, "xixiu.gpkg", lambda path: build_dataset(path, seed=DEMO_SEED))


def _load_demo(url: str, gpkg: Path) -> None:
    import datetime as dt

    from geo.importer import import_dataset
    from geo.io import read_dataset

    engine = make_engine(url)
    import_dataset(engine, read_dataset(gpkg), author="demo", valid_from=dt.date.fromisoformat(DEMO_VALID_FROM),
                   document_ref="synthetic demo")
    engine.dispose()


@pytest.fixture(scope="session")
def demo_spatialite_template(
    demo_build: tuple[Path, object], spatialite_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    def make(path: Path) -> None:
        shutil.copyfile(spatialite_template, path)
        _load_demo(f"sqlite:///{path}", demo_build[0])
        engine = make_engine(f"sqlite:///{path}")
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        engine.dispose()

    return made_once(tmp_path_factory, "demo.sqlite", make)[0]


@pytest.fixture(scope="session")
def demo_postgis_template(demo_build: tuple[Path, object], postgis_template: str) -> Iterator[str]:
    name = f"gridgov_demo_{uuid.uuid4().hex[:10]}"
    admin = _admin_engine()
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{postgis_template}"'))
    _load_demo(_pg_url(name), demo_build[0])
    yield name
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=BACKENDS)
def demo_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh copy of a database holding the Xixiu demo, once per backend."""
    yield from copied_database_url(request.param, request, tmp_path, spatialite="demo_spatialite_template",
                                   postgis="demo_postgis_template")


def _load_tiny(url: str) -> None:
    import datetime as dt

    from factories import tiny_dataset

    from geo.importer import import_dataset

    engine = make_engine(url)
    import_dataset(engine, tiny_dataset(), author="test", valid_from=dt.date.fromisoformat(TINY_VALID_FROM))
    engine.dispose()


@pytest.fixture(scope="session")
def tiny_spatialite_template(spatialite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("tiny-spatialite") / "tiny.sqlite"
    shutil.copyfile(spatialite_template, path)
    _load_tiny(f"sqlite:///{path}")
    engine = make_engine(f"sqlite:///{path}")
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def tiny_postgis_template(postgis_template: str) -> Iterator[str]:
    name = f"gridgov_tiny_{uuid.uuid4().hex[:10]}"
    admin = _admin_engine()
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{postgis_template}"'))
    _load_tiny(_pg_url(name))
    yield name
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def tiny_copy(backend: str, template: str | Path, directory: Path) -> tuple[str, object]:
    """A new database copied from a tiny template (many per test, e.g. one per Hypothesis example).

    Returns its URL and a function that drops it.
    """
    if backend == "spatialite":
        path = directory / f"tiny-{uuid.uuid4().hex[:10]}.sqlite"
        shutil.copyfile(template, path)
        return f"sqlite:///{path}", lambda: path.unlink(missing_ok=True)
    name = f"gridgov_t_{uuid.uuid4().hex[:12]}"
    admin = _admin_engine()
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return _pg_url(name), drop


def wait_js(page: object, expression: str, *, timeout_ms: float = 30_000, interval_ms: float = 100) -> None:
    """Wait until a JavaScript expression is true in ``page`` (a Playwright page).

    Playwright's ``wait_for_function`` compiles its predicate inside the page, which the map's and the
    reports' Content-Security-Policy (no ``unsafe-eval``) rightly forbids; ``evaluate`` goes through
    the DevTools protocol, so the tests see the page under the policy it really has.
    """
    import time

    deadline = time.monotonic() + timeout_ms / 1000
    while not page.evaluate(f"() => Boolean({expression})"):  # type: ignore[attr-defined]
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_ms:.0f} ms waiting for: {expression}")
        page.wait_for_timeout(interval_ms)  # type: ignore[attr-defined]
