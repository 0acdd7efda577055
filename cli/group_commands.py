"""``gridgov groups``: residents' groups (居民小组) of a community — list, re-propose and store, export."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Annotated, Any

import typer

from cli.common import DatabaseOption, DateOption, as_date, reports_errors, settings_for
from geo.db import make_engine
from geo.groups import GroupBand
from geo.vocabulary import GROUP_MAX_HOUSEHOLDS, GROUP_MIN_HOUSEHOLDS

groups_app = typer.Typer(help="Residents' groups (居民小组) and their leader slots.", no_args_is_help=True)

MinOption = Annotated[int, typer.Option(help="Fewest households of a group.")]
MaxOption = Annotated[int, typer.Option(help="Most households of a group.")]


def _band(min_households: int, max_households: int) -> GroupBand:
    from geo.groups import GroupBand

    return GroupBand(min_households, max_households)


def _print(result: dict[str, Any], as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(result, ensure_ascii=False, indent=2, default=str))
        return
    state = "stored" if result["stored"] else "proposed (not stored)"
    typer.echo(f"{result['community_name']} ({result['community_code']}) as of {result['as_of']}: {result['count']} "
               f"group(s), {state}; {result['within_band']} within {result['band']['min_households']}–"
               f"{result['band']['max_households']} households, {result['contiguous']} contiguous; kept "
               f"{result['kept']}, new {result['new']}, retired {len(result['retired'])}")
    for g in result["groups"]:
        typer.echo(f"  {g['code']} {g['name']}: {g['households']} households, {g['residents']} residents, "
                   f"{g['buildings']} buildings, leader {g['leader'] or '(vacant)'}")


@groups_app.command("list")
@reports_errors
def list_groups(community: str, database: DatabaseOption = None, as_of: DateOption = None,
                min_households: MinOption = GROUP_MIN_HOUSEHOLDS, max_households: MaxOption = GROUP_MAX_HOUSEHOLDS,
                as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """A community's groups as of a date (a proposal when none are stored)."""
    from geo.groups import read_groups

    engine = make_engine(settings_for(database).database_url)
    with engine.connect() as conn:
        result = read_groups(conn, community, as_of=as_date(as_of), band=_band(min_households, max_households))
    _print(result.as_dict(), as_json)


@groups_app.command("propose")
@reports_errors
def propose(community: list[str], database: DatabaseOption = None,
            effective_date: Annotated[dt.datetime | None, typer.Option(formats=["%Y-%m-%d"])] = None,
            min_households: MinOption = GROUP_MIN_HOUSEHOLDS, max_households: MaxOption = GROUP_MAX_HOUSEHOLDS,
            store: Annotated[bool, typer.Option(help="Store the grouping (versioned).")] = False,
            as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Re-propose the groups of communities, keeping every group still whole and within the band."""
    from geo.groups import propose_groups, store_groups

    engine = make_engine(settings_for(database).database_url)
    day = effective_date.date() if effective_date else dt.date.today()
    band = _band(min_households, max_households)
    for code in community:
        if store:
            result = store_groups(engine, code, effective_date=day, band=band)
        else:
            with engine.connect() as conn:
                result = propose_groups(conn, code, as_of=day, band=band)
        _print(result.as_dict(), as_json)


@groups_app.command("export")
@reports_errors
def export(path: Path, database: DatabaseOption = None, as_of: DateOption = None) -> None:
    """Every stored group valid on a date, as CSV (building codes joined by ';')."""
    from geo.groups import export_groups

    engine = make_engine(settings_for(database).database_url)
    with engine.connect() as conn:
        frame = export_groups(conn, as_of=as_date(as_of))
    frame.to_csv(path, index=False)
    typer.echo(f"{len(frame)} group(s) written to {path}")
