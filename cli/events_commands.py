"""``gridgov events``: the synthetic demo year, hotline imports, reassignment, monthly summaries."""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path
from typing import Annotated

import typer

from cli.common import DatabaseOption, reports_errors, settings_for
from geo.db import make_engine
from geo.errors import InvalidInput
from geo.events.catalogue import Catalogue

events_app = typer.Typer(help="Events (事件): reports routed to grids and workers.", no_args_is_help=True)

CategoriesOption = Annotated[Path | None, typer.Option(help="JSON file of event categories (default catalogue).")]


def _catalogue(path: Path | None) -> Catalogue:
    from geo.events.catalogue import parse_catalogue

    if path is None:
        return parse_catalogue(None)
    if not path.exists():
        raise InvalidInput(f"{path} does not exist", field="categories")
    return parse_catalogue(path.read_text(encoding="utf-8"))


@events_app.command("demo")
@reports_errors
def demo(
    database: DatabaseOption = None,
    count: Annotated[int, typer.Option(min=0, max=1_000_000, help="How many events.")] = 24_000,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same events).")] = 20250415,
    end: Annotated[dt.datetime | None, typer.Option(formats=["%Y-%m-%d"], help="Last day of the year.")] = None,
    categories: CategoriesOption = None,
) -> None:
    """Add a year of synthetic events to a database holding the demo; running it again adds nothing."""
    from data.generator.events import DEFAULT_END, generate_events
    from geo.events.ingest import ingest

    engine = make_engine(settings_for(database).database_url)
    cat = _catalogue(categories)
    started = time.perf_counter()
    with engine.connect() as conn:
        rows = generate_events(conn, seed=seed, count=count, end=end.date() if end else DEFAULT_END, catalogue=cat)
    created = duplicates = unmatched = 0
    for start in range(0, len(rows), 5000):
        with engine.begin() as conn:
            result = ingest(conn, rows[start:start + 5000], catalogue=cat, partial=True)
        created += result.count("created")
        duplicates += result.count("duplicate")
        unmatched += result.count("unmatched")
    typer.echo(f"synthetic events: {created} created, {duplicates} already there, {unmatched} outside every grid "
               f"({time.perf_counter() - started:.1f} s)")


@events_app.command("import")
@reports_errors
def import_hotline(
    path: Annotated[Path, typer.Argument(help="Hotline records: CSV (UTF-8 or GBK) or GeoJSON.")],
    database: DatabaseOption = None,
    unmatched: Annotated[Path | None, typer.Option(help="Write the rows not imported here (CSV).")] = None,
    categories: CategoriesOption = None,
) -> None:
    """Import hotline records; rows whose place cannot be found are listed, never dropped silently."""
    from geo.events.hotline import read_hotline_file, unmatched_csv
    from geo.events.ingest import ingest

    if not path.exists():
        raise InvalidInput(f"{path} does not exist", field="path")
    rows = read_hotline_file(path.read_bytes(), path.name)
    engine = make_engine(settings_for(database).database_url)
    with engine.begin() as conn:
        result = ingest(conn, rows, catalogue=_catalogue(categories), partial=True, default_source="hotline")
    typer.echo(f"{result.count('created')} imported, {result.count('duplicate')} already there, "
               f"{result.count('unmatched')} not matched")
    for o in result.outcomes:
        if o.status == "unmatched":
            typer.echo(f"  row {o.index + 1}: {o.reason} [{o.field}]", err=True)
    if unmatched is not None:
        unmatched.write_text(unmatched_csv(rows, result), encoding="utf-8")
    if result.count("unmatched"):
        raise typer.Exit(1)


@events_app.command("reconcile")
@reports_errors
def reconcile(database: DatabaseOption = None) -> None:
    """Hand open events to the grid that holds them today (after boundary changes take effect)."""
    from geo.events.lifecycle import reconcile as run

    engine = make_engine(settings_for(database).database_url)
    with engine.begin() as conn:
        typer.echo(f"{run(conn)} open event(s) reassigned")


@events_app.command("summary")
@reports_errors
def summary(
    subdistrict: Annotated[str, typer.Option(help="Sub-district code (9 digits).")],
    month: Annotated[str, typer.Option(help="YYYY-MM.")],
    database: DatabaseOption = None,
    format: Annotated[str, typer.Option("--format", "-f", help="csv, pdf or json.")] = "csv",
    output: Annotated[Path | None, typer.Option("-o", help="Output file (default: stdout for csv/json).")] = None,
    lang: Annotated[str, typer.Option(help="zh or en (PDF).")] = "zh",
    categories: CategoriesOption = None,
) -> None:
    """The monthly events summary of a sub-district, by community."""
    from geo.events.summary import monthly_summary

    if format not in ("csv", "pdf", "json"):
        raise InvalidInput("format must be csv, pdf or json", field="format")
    if format == "pdf" and output is None:
        raise InvalidInput("a PDF needs -o FILE", field="output")
    engine = make_engine(settings_for(database).database_url)
    cat = _catalogue(categories)
    with engine.connect() as conn:
        header, table = monthly_summary(conn, subdistrict=subdistrict, month=month, catalogue=cat)
    if format == "pdf":
        from maps.events_summary import render_summary_pdf

        assert output is not None
        output.write_bytes(render_summary_pdf(header, table, lang=lang))
        return
    text = (table.rename(columns=header["categories"]).to_csv(index=False) if format == "csv" else
            json.dumps({**header, "rows": json.loads(table.to_json(orient="records", force_ascii=False))},
                       ensure_ascii=False, indent=2))
    if output is None:
        typer.echo(text)
    else:
        output.write_text(("\ufeff" if format == "csv" else "") + text, encoding="utf-8")
