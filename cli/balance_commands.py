"""``gridgov load``, ``gridgov balance``, ``gridgov staffing`` and ``gridgov grid-splits``."""

from __future__ import annotations

import csv
import datetime as dt
import json
import sys
from typing import Annotated, Any

import typer

from cli.common import DatabaseOption, DateOption, as_date, reports_errors, settings_for
from geo.db import make_engine
from geo.domain import Level
from geo.errors import InvalidInput

app = typer.Typer()

Codes = Annotated[list[str] | None, typer.Option(help="Codes (repeatable).")]
ToleranceOption = Annotated[float, typer.Option(help="Band around the target, e.g. 0.2 = ±20 %.")]
NormOption = Annotated[float, typer.Option(help="Workers per 10,000 residents (the norm).")]
VillageNormOption = Annotated[float | None, typer.Option(help="Villages' norm; default: the same.")]
WeightOption = Annotated[float, typer.Option(help="Extra workload per person of this group.")]
FormatOption = Annotated[str, typer.Option("--format", "-f", help="table, csv or json.")]
# --lock takes both kinds of code and tells them apart by their length.
COMMUNITY, GRID = Level.community.code_length, Level.grid.code_length


def _load_options(tolerance: float, norm: float, village_norm: float | None, elderly: float, children: float,
                  special_care: float) -> Any:
    from geo.balance import LoadOptions

    return LoadOptions(tolerance=tolerance, norm=norm, village_norm=village_norm, elderly_weight=elderly,
                       children_weight=children, special_care_weight=special_care)


def _print_table(rows: list[dict[str, Any]], columns: list[str], fmt: str) -> None:
    if fmt == "json":
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2, default=str))
    elif fmt == "csv":
        writer = csv.DictWriter(sys.stdout, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    else:
        widths = {c: max(len(c), *(len(_cell(r.get(c))) for r in rows)) if rows else len(c) for c in columns}
        typer.echo("  ".join(c.ljust(widths[c]) for c in columns))
        for r in rows:
            typer.echo("  ".join(_cell(r.get(c)).ljust(widths[c]) for c in columns))


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3f}" if abs(value) < 10 else f"{value:,.0f}"
    return str(value)


def _check_format(fmt: str) -> None:
    if fmt not in ("table", "csv", "json"):
        raise InvalidInput(f"unknown format {fmt!r}; use table, csv or json", field="format")


@app.command("load")
@reports_errors
def load(
    database: DatabaseOption = None,
    as_of: DateOption = None,
    level: Annotated[str, typer.Option(help="community or subdistrict.")] = "community",
    subdistrict: Codes = None,
    kind: Annotated[str | None, typer.Option(help="urban or village.")] = None,
    flag: Annotated[str | None, typer.Option(help="Only over, under or ok.")] = None,
    tolerance: ToleranceOption = 0.2,
    norm: NormOption = 18.0,
    village_norm: VillageNormOption = None,
    elderly_weight: WeightOption = 0.0,
    children_weight: WeightOption = 0.0,
    special_care_weight: WeightOption = 0.0,
    fmt: FormatOption = "table",
) -> None:
    """Workload per community (or sub-district) against the worker norm, flagged over/under/ok."""
    from geo.balance import LoadQuery, read_load
    from geo.balance.load import COMMUNITY_COLUMNS, SUBDISTRICT_COLUMNS, records

    _check_format(fmt)
    options = _load_options(tolerance, norm, village_norm, elderly_weight, children_weight, special_care_weight)
    engine = make_engine(settings_for(database).database_url)
    with engine.connect() as conn:
        table = read_load(conn, as_of=as_date(as_of), options=options,
                          query=LoadQuery(level=level, subdistricts=tuple(subdistrict or ()), kind=kind, flag=flag))
    columns = list(COMMUNITY_COLUMNS if level == "community" else SUBDISTRICT_COLUMNS)
    if fmt == "table":
        columns = [c for c in columns if c in ("code", "name", "kind", "grids", "residents", "households", "workers",
                                               "residents_per_worker", "households_per_grid", "ratio", "flag",
                                               "communities", "over", "under")]
    _print_table(records(table), columns, fmt)


@app.command("balance")
@reports_errors
def balance(
    database: DatabaseOption = None,
    as_of: DateOption = None,
    subdistrict: Codes = None,
    cross_subdistrict: Annotated[bool, typer.Option(help="Allow moves across sub-districts.")] = False,
    lock: Annotated[list[str] | None, typer.Option(help="Community or grid code never touched (repeatable).")] = None,
    require: Annotated[list[str] | None, typer.Option(help="Community that must end within tolerance.")] = None,
    max_grids_lost: Annotated[int | None, typer.Option(help="Most grids one community may lose.")] = None,
    allow_worse: Annotated[bool, typer.Option(help="Let communities outside tolerance get further out.")] = False,
    relax: Annotated[list[str] | None, typer.Option(
        help="A guarantee not to enforce (repeatable): keep_in_band, no_further, receiver_cap.")] = None,
    workers_per_move: Annotated[int, typer.Option(help="Most community workers one move may carry.")] = 0,
    new_workers: Annotated[int, typer.Option(help="New workers to place after the moves (combined plan).")] = 0,
    time_limit: Annotated[float, typer.Option(help="Seconds for all solves together.")] = 30.0,
    tolerance: ToleranceOption = 0.2,
    norm: NormOption = 18.0,
    village_norm: VillageNormOption = None,
    draft: Annotated[bool, typer.Option(help="Store the moves as draft proposals.")] = False,
    apply: Annotated[bool, typer.Option(help="Store the moves and apply them now.")] = False,
    author: Annotated[str, typer.Option(help="Author of the drafts and changes.")] = "gridgov balance",
    reason: Annotated[str | None, typer.Option()] = None,
    document_ref: Annotated[str | None, typer.Option(help="文件号 of the decision.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the whole result as JSON.")] = False,
) -> None:
    """Suggest whole-grid moves between adjacent communities that bring the most within tolerance."""
    from geo.balance import BalanceOptions, suggest_moves

    locks = list(lock or ())
    options = BalanceOptions(
        load=_load_options(tolerance, norm, village_norm, 0.0, 0.0, 0.0), subdistricts=tuple(subdistrict or ()),
        cross_subdistrict=cross_subdistrict, locked_communities=tuple(c for c in locks if len(c) == COMMUNITY),
        locked_grids=tuple(c for c in locks if len(c) == GRID), required=tuple(require or ()),
        max_grids_lost=max_grids_lost, allow_worse=allow_worse, time_limit=time_limit, relax=tuple(relax or ()),
    )
    odd = [c for c in locks if len(c) not in (COMMUNITY, GRID)]
    if odd:
        raise InvalidInput(f"--lock takes community (12-digit) or grid (15-digit) codes, not {', '.join(odd)}",
                           field="lock")
    engine = make_engine(settings_for(database).database_url)
    day = as_date(as_of)
    result = suggest_moves(engine, as_of=day, options=options)
    from geo.balance.plan import finish, requests_with_workers, store_drafts

    finish(result, options.load, workers_per_move=workers_per_move, new_workers=new_workers,
           subdistricts=tuple(subdistrict or ()))
    if (draft or apply) and result.moves:
        from geo.balance.drafts import apply_drafts, requests_for

        requests = requests_for(result.moves, effective_date=day, author=author, reason=reason,
                                document_ref=document_ref)
        result.proposal_ids, result.skipped = store_drafts(engine, requests_with_workers(requests, result.moves))
        if apply:
            stored = [pid for pid in result.proposal_ids if pid is not None]
            applied, refused = apply_drafts(engine, stored, author=author)
            for step in applied:
                typer.echo(f"applied proposal {step['proposal_id']} (change {step['change_id']})", err=True)
            for step in refused:
                typer.echo(f"skipped proposal {step['proposal_id']}: {step['reason']}", err=True)
    if as_json:
        typer.echo(json.dumps(result.as_dict(), ensure_ascii=False, indent=2, default=str))
        return
    _print_balance(result)


def _print_balance(result: Any) -> None:
    s = result.summary
    typer.echo(f"status {result.status}: within tolerance {s['within_before']} → {s['within_after']} of "
               f"{s['communities']} communities; {s['moves']} move(s), {s['moved_grids']} grid(s), "
               f"{s['moved_residents']:,} residents")
    for r in result.solves:
        gap = "-" if r.gap is None else f"{100 * r.gap:.2f}%"
        typer.echo(f"  solve {','.join(r.subdistricts)}: {r.status}, out of tolerance {r.out_of_tolerance_before}"
                   f" → {r.out_of_tolerance} (bound {r.out_of_tolerance_bound}), moved {r.moved_residents} "
                   f"(bound {r.moved_residents_bound}, gap {gap}), {r.seconds:.2f} s")
    for i, m in enumerate(result.moves):
        pid = f" [proposal {result.proposal_ids[i]}]" if i < len(result.proposal_ids) and result.proposal_ids[
            i] is not None else ""
        carried = f", {m.workers_moved} worker(s) with them" if m.workers_moved else ""
        typer.echo(f"  {m.from_name} ({m.from_code}) → {m.to_name} ({m.to_code}): {', '.join(m.grid_codes)}; "
                   f"{m.residents:,} residents{carried}{pid}")
    for w in result.warnings:
        typer.echo(f"  warning: {w}")
    for item in result.skipped:
        typer.echo(f"  skipped draft {item['from_code']} → {item['to_code']}: {item['reason']}")
    if result.plan:
        typer.echo(f"plan: {result.plan['zh']}\n      {result.plan['en']}")
    for row in result.shortfall:
        typer.echo(f"  {row['message']['zh']}\n  {row['message']['en']}")
    if result.staffing:
        for row in result.staffing["communities"]:
            typer.echo(f"  +{row['new_workers']} {row['name']} ({row['code']}): {row['workers_before']} → "
                       f"{row['workers_after']} workers")


@app.command("staffing")
@reports_errors
def staffing(
    new_workers: Annotated[int, typer.Option(help="How many new workers to allocate.")],
    database: DatabaseOption = None,
    as_of: DateOption = None,
    subdistrict: Codes = None,
    kind: Annotated[str | None, typer.Option(help="Only urban or village communities.")] = None,
    cap: Annotated[list[str] | None, typer.Option(help="CODE=N: at most N workers in all there.")] = None,
    max_new: Annotated[int | None, typer.Option(help="At most this many new workers per community.")] = None,
    tolerance: ToleranceOption = 0.2,
    norm: NormOption = 18.0,
    village_norm: VillageNormOption = None,
    fmt: FormatOption = "table",
) -> None:
    """Give N new workers to the communities where they lower the worst load most."""
    from geo.balance import LoadQuery, allocate, read_load
    from geo.balance.load import records

    _check_format(fmt)
    caps: dict[str, int] = {}
    for item in cap or ():
        code, _, value = item.partition("=")
        if not value.strip().lstrip("-").isdigit():
            raise InvalidInput(f"--cap takes CODE=N, not {item!r}", field="cap")
        caps[code.strip()] = int(value)
    options = _load_options(tolerance, norm, village_norm, 0.0, 0.0, 0.0)
    engine = make_engine(settings_for(database).database_url)
    with engine.connect() as conn:
        table = read_load(conn, as_of=as_date(as_of), options=options,
                          query=LoadQuery(subdistricts=tuple(subdistrict or ()), kind=kind))
    result = allocate(table, new_workers, options=options, caps=caps, max_new=max_new)
    rows = records(result.communities[result.communities["new_workers"] > 0])
    if fmt == "json":
        typer.echo(json.dumps(result.as_dict(only_allocated=True), ensure_ascii=False, indent=2, default=str))
        return
    columns = ["code", "name", "workers_before", "new_workers", "workers_after", "residents",
               "residents_per_worker_before", "residents_per_worker_after", "flag_before", "flag_after"]
    _print_table(rows, columns, fmt)
    if fmt == "table":
        s = result.summary
        typer.echo(f"allocated {result.allocated} of {new_workers}; worst residents per worker "
                   f"{_cell(s['worst_residents_per_worker_before'])} → {_cell(s['worst_residents_per_worker_after'])}"
                   f"; over-loaded {s['over_before']} → {s['over_after']}")


@app.command("grid-splits")
@reports_errors
def grid_splits(
    database: DatabaseOption = None,
    as_of: DateOption = None,
    subdistrict: Codes = None,
    community: Codes = None,
    min_households: Annotated[int, typer.Option(help="Lower end of the household band.")] = 300,
    max_households: Annotated[int, typer.Option(help="Upper end of the household band.")] = 500,
    village_min_households: Annotated[int | None, typer.Option(help="Villages' own lower end.")] = None,
    village_max_households: Annotated[int | None, typer.Option(help="Villages' own upper end.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the plan (with part geometries) as JSON.")] = False,
    draft: Annotated[bool, typer.Option(help="Store each split and merge as a draft proposal.")] = False,
    effective_date: Annotated[dt.datetime | None, typer.Option(formats=["%Y-%m-%d"],
                                                               help="Of the drafts; default today.")] = None,
    author: Annotated[str, typer.Option(help="Author of the drafts.")] = "gridgov grid-splits",
) -> None:
    """Suggest splits of grids above the household band and merges of tiny neighbouring grids."""
    from geo.balance import Band, read_grid_plan
    from geo.balance.drafts import draft_grid_plan
    from geo.balance.splits import village_band_of

    engine = make_engine(settings_for(database).database_url)
    with engine.connect() as conn:
        band = Band(min_households, max_households)
        plan = read_grid_plan(conn, as_of=as_date(as_of), band=band, subdistricts=tuple(subdistrict or ()),
                              communities=tuple(community or ()),
                              village_band=village_band_of(band, village_min_households, village_max_households))
    skipped: list[dict[str, Any]] = []
    if draft:
        _, skipped = draft_grid_plan(engine, plan, author=author,
                                     effective_date=effective_date.date() if effective_date else dt.date.today())
        for item in skipped:
            typer.echo(f"skipped {item['kind']} {item['from_code']}: {item['reason']}", err=True)
    if as_json:
        typer.echo(json.dumps(plan.as_dict(), ensure_ascii=False, indent=2))
        return
    typer.echo(f"{plan.grids} grids; {len(plan.splits)} above the band, "
               f"{len(plan.merges)} group(s) of tiny grids to merge")
    for s in plan.splits:
        parts = " + ".join(str(p.households) for p in s.parts) or "-"
        typer.echo(f"  split {s.grid_code} ({s.households} households) into {parts}"
                   + ("" if s.within_band else f"  [{s.note}]") + _drafted(s.proposal_id))
    for m in plan.merges:
        typer.echo(f"  merge {', '.join(m.grid_codes)} ({m.households} households)"
                   + ("" if m.within_band else "  [still below the band]") + _drafted(m.proposal_id))


def _drafted(proposal_id: int | None) -> str:
    return f"  → draft proposal {proposal_id}" if proposal_id is not None else ""
