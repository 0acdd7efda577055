"""CSV cells that spreadsheets will not run as formulas (OWASP "CSV injection").

Excel, LibreOffice and WPS treat a cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a
carriage return as a formula — ``=HYPERLINK(…)``, ``=cmd|' /C calc'!A0``. Every CSV gridgov writes
(households.csv, /load?format=csv, the batch nearest CSV, ``gridgov export --format csv``) passes
its cells through :func:`safe_cell`, which puts a ``'`` in front of such text; numbers (also
numbers already formatted as text, such as ``-12.5``) stay numbers. Reading a CSV undoes it with
:func:`restore_cell`, so an export imports back unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def safe_cell(value: Any) -> Any:
    """``value`` unchanged unless it is text a spreadsheet would evaluate; then ``'`` + the text."""
    if not isinstance(value, str) or not value.startswith(TRIGGERS) or _NUMBER.fullmatch(value):
        return value
    return "'" + value


def safe_row(values: Iterable[Any]) -> list[Any]:
    """:func:`safe_cell` of every cell of a row."""
    return [safe_cell(v) for v in values]


def restore_cell(value: Any) -> Any:
    """Undo :func:`safe_cell` on a cell read back from a CSV."""
    if isinstance(value, str) and len(value) > 1 and value[0] == "'" and value[1:].startswith(TRIGGERS):
        return value[1:]
    return value
