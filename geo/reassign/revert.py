"""Undo an applied change as a new change: history keeps both, the map returns to before."""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import pandas as pd
from sqlalchemy import Connection, bindparam, text

from geo.errors import Conflict
from geo.reassign.writer import _check_dates, replace_versions
from geo.store import TABLE_COLUMNS, read_all_versions, read_made_by

TABLES = ("units", "buildings", "stations")


def check_revertible(conn: Connection, change_id: int) -> None:
    """Everything the change wrote must still be the latest version; otherwise say what changed since."""
    for table in TABLES:
        made = read_made_by(conn, table, change_id)
        if made.empty:
            continue
        later = conn.execute(
            text(f"SELECT DISTINCT code, change_id FROM {table} WHERE code IN :codes AND valid_to IS NULL "
                 "AND (change_id IS NULL OR change_id <> :c)").bindparams(bindparam("codes", expanding=True)),
            {"codes": list(made["code"]), "c": change_id},
        ).all()
        if later:
            shown = ", ".join(f"{code} (change {cid})" for code, cid in later[:5])
            raise Conflict(f"{table} changed since this proposal was applied: {shown}; revert those changes first",
                           field="id")


def write_revert(conn: Connection, change_id: int, revert_change_id: int, day: dt.date) -> dict[str, list[str]]:
    """Close every version ``change_id`` wrote and reopen the version before it (retire new units)."""
    touched: dict[str, list[str]] = {}
    for table in TABLES:
        made = read_made_by(conn, table, change_id)
        if made.empty:
            touched[table] = []
            continue
        _check_dates(made, day, table[:-1])
        history = read_all_versions(conn, table, list(made["code"]))
        previous = history.merge(made[["code", "version"]].assign(version=made["version"] - 1),
                                 on=["code", "version"])
        restored = previous.copy()
        restored = restored.merge(made[["code", "version"]].rename(columns={"version": "made"}), on="code")
        restored["version"] = restored.pop("made") + 1
        restored["valid_from"], restored["valid_to"], restored["change_id"] = day, None, revert_change_id
        restored = gpd.GeoDataFrame(restored[list(TABLE_COLUMNS[table]) + ["geometry"]], geometry="geometry",
                                    crs=4326)
        retired = sorted(set(made["code"]) - set(previous["code"]))
        if retired:  # units the change created: closed, with no successor
            conn.execute(
                text(f"UPDATE {table} SET valid_to = :d WHERE valid_to IS NULL AND code IN :codes").bindparams(
                    bindparam("codes", expanding=True)), {"d": day, "codes": retired},
            )
        replace_versions(conn, table, restored, list(restored["code"]), day)
        touched[table] = sorted(set(made["code"]))
    return touched


def previous_parents(conn: Connection, codes: list[str]) -> set[str]:
    """Parent codes of all versions of ``codes`` (the families a revert touches)."""
    frame = pd.DataFrame(conn.execute(
        text("SELECT DISTINCT parent_code FROM units WHERE code IN :codes AND parent_code IS NOT NULL")
        .bindparams(bindparam("codes", expanding=True)), {"codes": codes or [""]}).all(), columns=["p"])
    return set(frame["p"])
