"""Undo an applied change as a new change: history keeps both, the map returns to before."""

from __future__ import annotations

import datetime as dt
import json

import geopandas as gpd
import pandas as pd
from sqlalchemy import Connection, bindparam, text

from geo.errors import Conflict
from geo.reassign.writer import _check_dates, replace_versions
from geo.store import TABLE_COLUMNS, insert_versions, read_all_versions, read_made_by

TABLES = ("units", "buildings", "stations")


def check_revertible(conn: Connection, change_id: int) -> None:
    """Everything the change wrote must still be the latest version; otherwise say what changed since."""
    for table in TABLES:
        made = read_made_by(conn, table, change_id)
        if made.empty:
            continue
        gone = sorted(set(made.loc[made["valid_to"].notna(), "code"]) - _open_codes(conn, table, list(made["code"])))
        if gone:
            raise Conflict(f"{table} merged away since this proposal was applied: {', '.join(gone[:5])}; "
                           "revert that merge first", field="id")
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
    reopened = _reopen_retired(conn, change_id, revert_change_id, day)
    touched["units"] = sorted(set(touched["units"]) | set(reopened))
    return touched


def _open_codes(conn: Connection, table: str, codes: list[str]) -> set[str]:
    return set(conn.execute(
        text(f"SELECT code FROM {table} WHERE valid_to IS NULL AND code IN :codes").bindparams(
            bindparam("codes", expanding=True)), {"codes": codes or [""]}).scalars())


def retired_by(conn: Connection, change_id: int) -> list[str]:
    """Units a change retired (merged away): recorded in its change-log summary."""
    summary = conn.execute(text("SELECT summary FROM change_log WHERE id = :i"), {"i": change_id}).scalar_one()
    summary = json.loads(summary) if isinstance(summary, str) else (summary or {})
    return list(summary.get("retired", []))


def _reopen_retired(conn: Connection, change_id: int, revert_change_id: int, day: dt.date) -> list[str]:
    """A merged-away unit comes back as a new version of its last one (codes are never reused)."""
    codes = retired_by(conn, change_id)
    if not codes:
        return []
    history = read_all_versions(conn, "units", codes)
    if history["valid_to"].isna().any():
        raise Conflict(f"units {', '.join(sorted(set(history.loc[history['valid_to'].isna(), 'code'])))} "
                       "are current again; this merge cannot be reverted", field="id")
    last = history.sort_values("version").groupby("code").tail(1).copy()
    last["version"] = last["version"].astype(int) + 1
    last["valid_from"], last["valid_to"], last["change_id"] = day, None, revert_change_id
    insert_versions(conn, "units", gpd.GeoDataFrame(last[list(TABLE_COLUMNS["units"]) + ["geometry"]],
                                                    geometry="geometry", crs=4326))
    return sorted(codes)


def previous_parents(conn: Connection, codes: list[str]) -> set[str]:
    """Parent codes of all versions of ``codes`` (the families a revert touches)."""
    frame = pd.DataFrame(conn.execute(
        text("SELECT DISTINCT parent_code FROM units WHERE code IN :codes AND parent_code IS NOT NULL")
        .bindparams(bindparam("codes", expanding=True)), {"codes": codes or [""]}).all(), columns=["p"])
    return set(frame["p"])
