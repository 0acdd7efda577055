"""``gridgov import``, ``gridgov export`` and ``gridgov demo build``."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

from cli.common import DatabaseOption, DateOption, as_date, reports_errors, settings_for
from geo.db import make_engine, migrate
from geo.domain import Level
from geo.errors import InvalidInput

app = typer.Typer()
demo_app = typer.Typer(help="The Xixiu demo dataset (synthetic inside the real district outline).",
                        no_args_is_help=True)

FORMATS = ("gpkg", "geojson", "csv", "shp")


@app.command("import")
@reports_errors
def import_(
    path: Annotated[Path, typer.Argument(help="GeoPackage, or a folder of GeoJSON/Shapefile/CSV layers.")],
    database: DatabaseOption = None,
    crs: Annotated[str | None, typer.Option(help="Source CRS when the files declare none (e.g. EPSG:4490).")] = None,
    gcj02: Annotated[bool, typer.Option("--gcj02", help="Coordinates are GCJ-02 (AMap/Gaode): convert.")] = False,
    author: Annotated[str, typer.Option(help="Who imports (recorded in the change log).")] = "gridgov",
    valid_from: Annotated[
        dt.datetime | None, typer.Option(formats=["%Y-%m-%d"], help="First day the data is valid.")
    ] = None,
    document_ref: Annotated[str | None, typer.Option(help="Reference of the decision (文件号).")] = None,
) -> None:
    """Validate a dataset and load it in one transaction; on any problem nothing is written."""
    from geo.importer import import_dataset
    from geo.io import read_dataset

    if not path.exists():
        raise InvalidInput(f"{path} does not exist", field="path")
    settings = settings_for(database)
    engine = make_engine(settings.database_url)
    migrate(engine)
    dataset = read_dataset(path, crs=crs, gcj02=gcj02)
    summary = import_dataset(
        engine, dataset, author=author, valid_from=as_date(valid_from) if valid_from else dt.date(2024, 1, 1),
        document_ref=document_ref,
    )
    typer.echo(f"imported into {settings.database_url}: {summary}")
    if summary.vertices_added:
        typer.echo(f"noded: {summary.vertices_added} vertices added so neighbouring units share every edge vertex "
                   f"/ 已补齐相邻单元公共边上的 {summary.vertices_added} 个节点")


@app.command("export")
@reports_errors
def export(
    path: Annotated[Path, typer.Argument(help="Output file (gpkg) or folder (geojson, csv, shp).")],
    database: DatabaseOption = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help=f"One of {', '.join(FORMATS)}.")] = "gpkg",
    as_of: DateOption = None,
    level: Annotated[list[str] | None, typer.Option(help="Only these unit levels (repeatable).")] = None,
) -> None:
    """Export the layers as they were on a date, with totals per unit."""
    from geo.export import export_to_path

    if fmt not in FORMATS:
        raise InvalidInput(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}", field="format")
    levels = None
    if level:
        valid = {lv.value for lv in Level}
        unknown = sorted(set(level) - valid)
        if unknown:
            raise InvalidInput(f"unknown level(s) {unknown}; use {sorted(valid)}", field="level")
        levels = {Level(lv) for lv in level}
    settings = settings_for(database)
    export_to_path(make_engine(settings.database_url), path, fmt=fmt, as_of=as_date(as_of), levels=levels)
    typer.echo(f"exported to {path}")


@demo_app.command("build")
@reports_errors
def demo_build(
    out: Annotated[Path, typer.Option(help="GeoPackage to write.")] = Path("data/build/xixiu.gpkg"),
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same data).")] = 20250415,
    scale: Annotated[int, typer.Option(min=1, help="1 = Xixiu; K = a synthetic region of about K districts.")] = 1,
) -> None:
    """Generate the demo dataset (deterministic) in the interchange format."""
    from data.generate import build_dataset

    summary = build_dataset(out, seed=seed, scale=scale)
    typer.echo(f"wrote {out}: {summary}")
