"""``gridgov propose|preview|edit|withdraw|apply|rebase|reverse|cancel|history|lineage|changes``: boundary changes.

The command line works on the database directly, as its administrator: it may act on any proposal, and a
proposal it makes belongs to no API key (any planner may carry it on over HTTP).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Annotated, Any

import typer

from cli.common import DatabaseOption, reports_errors, settings_for
from geo.db import make_engine
from geo.errors import InvalidInput

app = typer.Typer()

DayOption = Annotated[dt.datetime, typer.Option(formats=["%Y-%m-%d"], help="Effective date (YYYY-MM-DD).")]


def _echo(data: Any) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def _geometries(path: Path, field: str) -> list[Any]:
    """The geometries of a GeoJSON file (a FeatureCollection's, in order; a Feature's; or the file's own)."""
    from shapely.geometry import shape

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InvalidInput(f"cannot read {path} as GeoJSON: {exc}", field=field) from None
    if data.get("type") == "FeatureCollection":
        found = [f.get("geometry") or {} for f in data.get("features", [])]
    else:
        found = [data.get("geometry") or {}] if data.get("type") == "Feature" else [data]
    try:
        return [shape(g) for g in found]
    except Exception as exc:  # noqa: BLE001 - malformed GeoJSON is the user's to fix
        raise InvalidInput(f"{path} holds no GeoJSON geometry: {exc}", field=field) from None


def _area(path: Path | None) -> Any:
    """A move's drawn polygon: the file's (first) geometry."""
    if path is None:
        return None
    found = _geometries(path, "area")
    if not found:
        raise InvalidInput(f"{path} holds no GeoJSON geometry", field="area")
    return found[0]


def _parts(path: Path | None) -> tuple[Any, ...] | None:
    """A split's parts: every geometry of the file, in order."""
    return tuple(_geometries(path, "parts")) if path is not None else None


def _codes(value: str | None) -> tuple[str, ...] | None:
    return tuple(c.strip() for c in value.split(",") if c.strip()) if value is not None else None


@app.command()
@reports_errors
def propose(
    effective_date: DayOption,
    author: Annotated[str, typer.Option(help="Who proposes.")],
    from_code: Annotated[str | None, typer.Option("--from", help="move: unit that gives territory; split: the grid.")
                         ] = None,
    to_code: Annotated[str | None, typer.Option("--to", help="move: unit that receives it; merge: unit that stays.")
                       ] = None,
    kind: Annotated[str, typer.Option(help="move, split or merge.")] = "move",
    grids: Annotated[str | None, typer.Option(help="move: comma-separated child codes to move whole.")] = None,
    area: Annotated[Path | None, typer.Option(help="move: GeoJSON file with the drawn polygon (EPSG:4326).")] = None,
    parts: Annotated[Path | None, typer.Option(help="split: GeoJSON file, one feature per new grid.")] = None,
    merge: Annotated[str | None, typer.Option(help="merge: comma-separated codes to merge into --to.")] = None,
    reason: Annotated[str | None, typer.Option()] = None,
    document_ref: Annotated[str | None, typer.Option(help="文件号 of the decision.")] = None,
    allow_non_adjacent: Annotated[bool, typer.Option()] = False,
    database: DatabaseOption = None,
) -> None:
    """Store a draft boundary change (a move, a split of a grid, or a merge) and print its preview."""
    from geo.reassign import ProposalRequest, create_proposal, preview_proposal

    merge_codes = _codes(merge)
    from_code = from_code or (merge_codes[0] if kind == "merge" and merge_codes else None)
    if not from_code:
        raise InvalidInput(f"a {kind} needs --from" + (" or --merge" if kind == "merge" else ""), field="from_code")
    engine = make_engine(settings_for(database).database_url)
    request = ProposalRequest(
        kind=kind, from_code=from_code, to_code=to_code, effective_date=effective_date.date(), author=author,
        child_codes=_codes(grids), area=_area(area), parts=_parts(parts), merge_codes=merge_codes,
        reason=reason, document_ref=document_ref, allow_non_adjacent=allow_non_adjacent,
    )

    pid = create_proposal(engine, request)  # made at the console, it belongs to no key: any planner may carry it on
    _echo(_without_geometry(preview_proposal(engine, pid)))


def _without_geometry(body: dict[str, Any]) -> dict[str, Any]:
    preview = body.get("preview") or {}
    return {**body, "preview": {k: v for k, v in preview.items() if k not in ("before", "after", "territory")}}


@app.command()
@reports_errors
def preview(proposal_id: int, database: DatabaseOption = None) -> None:
    """What a proposal does (for a draft: now, against the current map)."""
    from geo.reassign import preview_proposal

    _echo(_without_geometry(preview_proposal(make_engine(settings_for(database).database_url), proposal_id)))


@app.command("apply")
@reports_errors
def apply_(proposal_id: int, author: Annotated[str, typer.Option()], database: DatabaseOption = None) -> None:
    """Apply a draft in one transaction (refused if its units changed since it was made)."""
    from geo.access import CLI_ACTOR
    from geo.reassign import apply_proposal

    result = apply_proposal(make_engine(settings_for(database).database_url), proposal_id, author=author,
                            actor=CLI_ACTOR)
    _echo({"proposal": result["proposal"]["id"], "status": result["proposal"]["status"],
           "change_id": result["change_id"], "written": result["written"]})


@app.command()
@reports_errors
def rebase(proposal_id: int, database: DatabaseOption = None) -> None:
    """Recompute a draft whose units changed since it was made, against the current map."""
    from geo.reassign import rebase_proposal

    _echo(_without_geometry(rebase_proposal(make_engine(settings_for(database).database_url), proposal_id)))


CascadeOption = Annotated[bool, typer.Option(help="Also undo the later changes to the same units, newest first.")]
ReasonOption = Annotated[str | None, typer.Option(help="Why (kept in the change log).")]


@reports_errors
def reverse(
    proposal_id: int,
    author: Annotated[str, typer.Option()],
    effective_date: Annotated[dt.datetime | None, typer.Option(formats=["%Y-%m-%d"], help="Default: today.")] = None,
    reason: ReasonOption = None,
    cascade: CascadeOption = False,
    database: DatabaseOption = None,
) -> None:
    """Reverse (恢复) an applied change as a new decision on a date; history keeps both."""
    from geo.access import CLI_ACTOR
    from geo.reassign import revert_proposal

    result = revert_proposal(make_engine(settings_for(database).database_url), proposal_id, author=author,
                             effective_date=effective_date.date() if effective_date else None, reason=reason,
                             actor=CLI_ACTOR, cascade=cascade)
    _echo({"proposal": proposal_id, "status": result["proposal"]["status"], "change_id": result["change_id"],
           "also_reversed": result["also_reversed"]})


app.command("reverse")(reverse)
app.command("revert", help="Same as gridgov reverse (its old name).")(reverse)


@app.command()
@reports_errors
def cancel(
    proposal_id: int,
    author: Annotated[str, typer.Option()],
    reason: Annotated[str, typer.Option(help="Why the change is erased from the history (required).")],
    cascade: CascadeOption = False,
    database: DatabaseOption = None,
) -> None:
    """Cancel (撤销) a change entered by mistake or not yet in effect: as if it never happened, on every date."""
    from geo.access import CLI_ACTOR
    from geo.reassign import cancel_proposal

    result = cancel_proposal(make_engine(settings_for(database).database_url), proposal_id, author=author,
                             reason=reason, actor=CLI_ACTOR, cascade=cascade)
    _echo({"proposal": proposal_id, "status": result["proposal"]["status"], "change_id": result["change_id"],
           "also_cancelled": result["also_cancelled"]})


@app.command()
@reports_errors
def withdraw(proposal_id: int, author: Annotated[str, typer.Option()], reason: ReasonOption = None,
             database: DatabaseOption = None) -> None:
    """Withdraw a draft (kept in the list and the log as withdrawn)."""
    from geo.access import CLI_ACTOR
    from geo.reassign import withdraw_proposal

    result = withdraw_proposal(make_engine(settings_for(database).database_url), proposal_id, author=author,
                               reason=reason, actor=CLI_ACTOR)
    _echo({"proposal": proposal_id, "status": result["proposal"]["status"]})


@app.command()
@reports_errors
def edit(
    proposal_id: int,
    author: Annotated[str, typer.Option()],
    effective_date: Annotated[dt.datetime | None, typer.Option(formats=["%Y-%m-%d"])] = None,
    to_code: Annotated[str | None, typer.Option("--to")] = None,
    grids: Annotated[str | None, typer.Option(help="Comma-separated child codes to move whole.")] = None,
    area: Annotated[Path | None, typer.Option(help="GeoJSON file with the drawn polygon.")] = None,
    reason: ReasonOption = None,
    document_ref: Annotated[str | None, typer.Option(help="文件号 of the decision.")] = None,
    database: DatabaseOption = None,
) -> None:
    """Edit a draft's date, receiving unit, grids or area, reason or 文件号; prints the new preview."""
    from geo.access import CLI_ACTOR
    from geo.reassign import edit_proposal

    changes: dict[str, Any] = {k: v for k, v in {
        "effective_date": effective_date.date() if effective_date else None, "to_code": to_code,
        "child_codes": _codes(grids), "area": _area(area), "reason": reason, "document_ref": document_ref,
    }.items() if v is not None}
    if not changes:
        raise InvalidInput("nothing to edit: give at least one option to change", field="proposal_id")
    _echo(_without_geometry(edit_proposal(make_engine(settings_for(database).database_url), proposal_id, changes,
                                          author=author, actor=CLI_ACTOR)))


@app.command()
@reports_errors
def lineage(code: str, database: DatabaseOption = None) -> None:
    """What a unit came from and became (move, split, merge, recode), and its old codes."""
    from geo.reassign.lineage import unit_lineage

    with make_engine(settings_for(database).database_url).connect() as conn:
        _echo(unit_lineage(conn, code))


@app.command()
@reports_errors
def history(code: str, database: DatabaseOption = None) -> None:
    """Every version of a unit with the change that made it."""
    from geo.reassign.history import unit_history

    with make_engine(settings_for(database).database_url).connect() as conn:
        _echo(unit_history(conn, code))


@app.command()
@reports_errors
def changes(
    unit: Annotated[str | None, typer.Option()] = None,
    author: Annotated[str | None, typer.Option()] = None,
    since: Annotated[dt.datetime | None, typer.Option(formats=["%Y-%m-%d"])] = None,
    until: Annotated[dt.datetime | None, typer.Option(formats=["%Y-%m-%d"])] = None,
    database: DatabaseOption = None,
) -> None:
    """The change log, newest first, by unit, author and effective dates."""
    from geo.reassign.history import find_changes

    with make_engine(settings_for(database).database_url).connect() as conn:
        _echo(find_changes(conn, unit=unit, author=author, since=since.date() if since else None,
                           until=until.date() if until else None))
