"""``gridgov report PROPOSAL --format html|pdf|json|csv -o FILE``: a proposal's impact report."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from cli.common import DatabaseOption, reports_errors, settings_for
from geo.db import make_engine

app = typer.Typer()


class ReportFormat(StrEnum):
    """Forms of the report."""

    html = "html"
    pdf = "pdf"
    json = "json"
    csv = "csv"


class ReportLang(StrEnum):
    """Languages of the labels."""

    zh = "zh"
    en = "en"


@app.command()
@reports_errors
def report(
    proposal_id: Annotated[int, typer.Argument(metavar="PROPOSAL", help="Proposal id.")],
    fmt: Annotated[ReportFormat, typer.Option("--format", "-f", help="html, pdf, json or csv.")] = ReportFormat.html,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="File to write; '-' or none: stdout "
                                                                       "(a PDF needs a file).")] = None,
    lang: Annotated[ReportLang, typer.Option(help="Language of the labels.")] = ReportLang.zh,
    database: DatabaseOption = None,
) -> None:
    """Write the impact report of a proposal (draft or applied)."""
    from geo.impact import compute_impact
    from maps.report import render

    body, _, _ = render(compute_impact(make_engine(settings_for(database).database_url), proposal_id),
                        fmt.value, lang.value)
    if output is None or str(output) == "-":
        if fmt == ReportFormat.pdf and sys.stdout.isatty():
            typer.echo("error [--output]: a PDF needs a file: give -o report.pdf", err=True)
            raise typer.Exit(2)
        sys.stdout.buffer.write(body)
        sys.stdout.flush()
        return
    output.write_bytes(body)
    typer.echo(f"wrote {output} ({len(body):,} bytes)", err=True)
