"""Engines for the two supported databases and the schema migrations.

SpatiaLite (a file, the embedded default) and PostGIS (production) share one schema and one
Alembic history. Dialect differences stay in this module and in :mod:`geo.sql`.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import cast

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from geo.errors import DatabaseUnavailable

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def _sqlite_module() -> ModuleType:
    """A sqlite3 DB-API module that can load extensions (the stdlib one often cannot)."""
    if hasattr(sqlite3.Connection, "enable_load_extension"):
        return sqlite3
    try:
        import pysqlite3.dbapi2 as pysqlite3
    except ImportError as exc:  # pragma: no cover - depends on the platform
        raise DatabaseUnavailable(
            "this Python's sqlite3 cannot load SpatiaLite; install 'pysqlite3-binary'"
        ) from exc
    return cast(ModuleType, pysqlite3)


def normalize_url(url: str) -> str:
    """Accept plain ``postgresql://`` URLs and use the psycopg 3 driver for them."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def is_sqlite(engine: Engine) -> bool:
    """True for SpatiaLite, False for PostGIS."""
    return engine.dialect.name == "sqlite"


def make_engine(url: str, *, autocommit: bool = False) -> Engine:
    """Create an engine for a SpatiaLite file or a PostGIS database URL.

    ``autocommit`` makes a pool for single-statement reads: no BEGIN/ROLLBACK round trips, and no
    isolation-level switch on every checkout (which an ``execution_options`` view would cost).
    """
    options = {"isolation_level": "AUTOCOMMIT"} if autocommit else {}
    url = normalize_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        _load_bundled_proj_first()
        os.environ.setdefault("SPATIALITE_LIBRARY_PATH", "mod_spatialite")
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        # Only the WGS84 family of SRIDs, in one transaction: 10x faster than loading all of EPSG.
        parsed = parsed.update_query_dict(
            {
                "geoalchemy2_connect_sqlite_init_mode": "WGS84",
                "geoalchemy2_connect_sqlite_transaction": "true",
            }
            | dict(parsed.query)
        )
        engine = create_engine(
            parsed,
            module=_sqlite_module(),
            plugins=["geoalchemy2"],
            connect_args={"timeout": 30, "check_same_thread": False},
            **options,
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        if not autocommit:
            event.listen(engine, "connect", _sqlite_explicit_transactions)
            event.listen(engine, "begin", _sqlite_begin)
        return engine
    if parsed.get_backend_name() == "postgresql":
        # No pre-ping: it costs a round trip on every checkout. A connection that died is
        # invalidated on its first error (a 503) and recycled connections age out.
        return create_engine(url, plugins=["geoalchemy2"], pool_recycle=1800, **options)
    raise DatabaseUnavailable(
        f"unsupported database URL {parsed.render_as_string()!r}: use sqlite:///FILE or postgresql://…",
        field="database_url",
    )


def _load_bundled_proj_first() -> None:
    """Load pyproj's and GDAL's own PROJ libraries before SpatiaLite's.

    SQLite opens extensions with RTLD_GLOBAL, so mod_spatialite puts the system libproj's C++
    symbols in the global scope. A PROJ bundled in a wheel that loads afterwards binds to them,
    and both copies then free the same static objects at exit (a double free, exit code 134).
    Loaded first, the bundled copies keep their own symbols.
    """
    import pyogrio  # noqa: F401
    import pyproj  # noqa: F401


def _sqlite_pragmas(dbapi_conn: object, _record: object) -> None:
    cur = dbapi_conn.cursor()  # type: ignore[attr-defined]
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def _sqlite_explicit_transactions(dbapi_conn: object, _record: object) -> None:
    # The sqlite3 module's own transaction handling begins late and breaks SAVEPOINTs; SQLAlchemy
    # emits BEGIN itself instead (see _sqlite_begin).
    dbapi_conn.isolation_level = None  # type: ignore[attr-defined]


def _sqlite_begin(conn: Connection) -> None:
    """BEGIN, or BEGIN IMMEDIATE for a write transaction (:func:`write_transaction`).

    A deferred transaction that reads before it writes cannot wait for the write lock (SQLite answers
    "database is locked" at once to avoid a deadlock); taking the lock at BEGIN lets the busy timeout
    queue concurrent writers instead.
    """
    immediate = conn.get_execution_options().get("sqlite_immediate", False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """A transaction that will write: committed at the end, rolled back on error.

    On SpatiaLite it takes the database's write lock when it begins, so concurrent writers queue
    (busy timeout) instead of failing; on PostGIS it is a plain transaction (writers lock rows).
    """
    with engine.connect() as conn:
        conn.execution_options(sqlite_immediate=True)
        with conn.begin():
            yield conn


def _alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["engine"] = engine
    return cfg


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest migration (creating the spatial extension on PostGIS)."""
    try:
        command.upgrade(_alembic_config(engine), "head")
    except OperationalError as exc:
        raise DatabaseUnavailable(f"cannot reach the database: {exc.orig}") from exc


def schema_problem(engine: Engine) -> str | None:
    """Why the database cannot be served as it is (no schema, or an older one), or None when it can."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    url = engine.url.render_as_string(hide_password=True)
    try:
        if not inspect(engine).has_table("units"):
            return f"{url} has no gridgov schema: run 'gridgov db init' and import data"
        with engine.connect() as conn:
            revision = MigrationContext.configure(conn).get_current_revision()
    except OperationalError as exc:
        raise DatabaseUnavailable(f"cannot reach the database: {exc.orig}") from exc
    head = ScriptDirectory.from_config(_alembic_config(engine)).get_current_head()
    if revision != head:
        return f"{url} has schema revision {revision}, this gridgov needs {head}: run 'gridgov db init' to upgrade"
    return None
