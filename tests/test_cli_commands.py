"""The command tree: every ``gridgov`` command keeps its name and options, however the modules are composed.

The command modules own Typer apps composed in ``cli/main.py`` over ``cli/common.py``; none imports
``cli.main`` back (that circle registered the commands on a second copy of the app under ``python -m``).
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import typer.main

from cli.main import app

CLI = Path(__file__).resolve().parent.parent / "cli"

# Command path -> its parameters in order (arguments upper-case, options by their first name), as released.
# Later features may add commands and options; none of these may disappear, be renamed or be reordered.
COMMANDS: dict[str, list[str]] = {
    "apply": ["PROPOSAL_ID", "--author", "--database"],
    "balance": ["--database", "--as-of", "--subdistrict", "--cross-subdistrict", "--lock", "--require",
                "--max-grids-lost", "--allow-worse", "--time-limit", "--tolerance", "--norm", "--village-norm",
                "--draft", "--apply", "--author", "--reason", "--document-ref", "--json"],
    "changes": ["--unit", "--author", "--since", "--until", "--database"],
    "check": ["--database", "--as-of"],
    "db": [],
    "db init": ["--database"],
    "demo": [],
    "demo build": ["--out", "--seed", "--scale"],
    "export": ["PATH", "--database", "--format", "--as-of", "--level"],
    "grid-splits": ["--database", "--as-of", "--subdistrict", "--community", "--min-households", "--max-households",
                    "--village-min-households", "--village-max-households", "--json", "--draft", "--effective-date",
                    "--author"],
    "history": ["CODE", "--database"],
    "import": ["PATH", "--database", "--crs", "--gcj02", "--author", "--valid-from", "--document-ref"],
    "key": [],
    "key add": ["--name", "--role", "--database"],
    "key list": ["--database"],
    "key revoke": ["KEY_ID", "--database"],
    "load": ["--database", "--as-of", "--level", "--subdistrict", "--kind", "--flag", "--tolerance", "--norm",
             "--village-norm", "--elderly-weight", "--children-weight", "--special-care-weight", "--format"],
    "preview": ["PROPOSAL_ID", "--database"],
    "propose": ["--effective-date", "--author", "--from", "--to", "--kind", "--grids", "--area", "--parts", "--merge",
                "--reason", "--document-ref", "--allow-non-adjacent", "--database"],
    "rebase": ["PROPOSAL_ID", "--database"],
    "report": ["PROPOSAL_ID", "--format", "--output", "--lang", "--database"],
    "revert": ["PROPOSAL_ID", "--author", "--effective-date", "--database"],
    "serve": ["--database", "--host", "--port"],
    "staffing": ["--new-workers", "--database", "--as-of", "--subdistrict", "--kind", "--cap", "--max-new",
                 "--tolerance", "--norm", "--village-norm", "--format"],
}
TOP_LEVEL = [path for path in COMMANDS if " " not in path]


def _tree(command, prefix: str = "") -> dict[str, list[str]]:  # noqa: ANN001 - a click command or group
    found: dict[str, list[str]] = {}
    for name, sub in getattr(command, "commands", {}).items():
        path = f"{prefix}{name}"
        found[path] = [p.name.upper() if not p.opts[0].startswith("-") else p.opts[0] for p in sub.params]
        found.update(_tree(sub, path + " "))
    return found


def _in_order(released: list[str], now: list[str]) -> bool:
    """Every released parameter is still there, in the released order (new ones may stand between)."""
    rest = iter(now)
    return all(any(p == q for q in rest) for p in released)


def test_every_command_keeps_its_name_and_options() -> None:
    tree = _tree(typer.main.get_command(app))
    assert set(COMMANDS) <= set(tree), sorted(set(COMMANDS) - set(tree))
    for path, params in COMMANDS.items():
        assert _in_order(params, tree[path]), (path, tree[path])


def test_no_command_module_imports_the_composing_module() -> None:
    for path in sorted(CLI.glob("*.py")):
        if path.name == "main.py":
            continue
        imported = {node.module for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
                    if isinstance(node, ast.ImportFrom)}
        assert "cli.main" not in imported, f"{path.name} imports cli.main: compose it there instead"


def test_running_the_module_lists_every_command() -> None:
    # `python -m cli.main` runs cli/main.py as __main__: with the old circle only db, key and demo were listed.
    env = {**os.environ, "PYTHONPATH": str(CLI.parent), "COLUMNS": "200"}
    done = subprocess.run([sys.executable, "-m", "cli.main", "--help"], capture_output=True, text=True, env=env,
                          cwd=CLI.parent, timeout=120)
    assert done.returncode == 0, done.stderr
    listed = {line.strip("│ ").split(" ")[0] for line in done.stdout.splitlines() if line.startswith("│ ")}
    assert set(TOP_LEVEL) <= listed, done.stdout


def test_balance_tells_locked_communities_from_grids_by_code_length(tiny_db_url: str) -> None:
    from typer.testing import CliRunner

    runner = CliRunner()
    odd = runner.invoke(app, ["balance", "--database", tiny_db_url, "--lock", "5204990010", "--lock", "520499001001"])
    assert odd.exit_code == 2 and "--lock takes community (12-digit) or grid (15-digit) codes, not 5204990010" in (
        odd.output), odd.output
    locked = runner.invoke(app, ["balance", "--database", tiny_db_url, "--json", "--time-limit", "5",
                                 "--lock", "520499001001", "--lock", "520499001001001"])
    assert locked.exit_code == 0, locked.output
