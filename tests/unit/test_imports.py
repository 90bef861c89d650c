"""Which way imports point: nothing below the command line imports it (DESIGN.md's table)."""

from __future__ import annotations

import ast
from pathlib import Path

import collab

ROOT = Path(collab.__file__).resolve().parent.parent
# The command line imports every domain; only the wiring may import it back.
MAY_IMPORT_CLI = {"collab/app.py", "collab/cli.py"}


def imported(source: str, package: str) -> set[str]:
    """Every module a file of `package` names in its imports, relative ones resolved."""
    parts = package.split(".")
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = parts[:len(parts) - node.level + 1] if node.level else []
            stem = ".".join([*base, *(node.module.split(".") if node.module else [])])
            names.add(stem)
            names.update(f"{stem}.{alias.name}" for alias in node.names)
    return names


def _package(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).parent.parts)


def test_no_module_but_the_wiring_imports_the_command_line() -> None:
    offenders = sorted(
        rel for path in (ROOT / "collab").rglob("*.py")
        if (rel := path.relative_to(ROOT).as_posix()) not in MAY_IMPORT_CLI
        and "collab.cli" in imported(path.read_text(), _package(path)))
    assert offenders == []


def test_the_check_sees_every_spelling_of_an_import_of_the_command_line() -> None:
    for source in ("from collab.cli import with_db", "import collab.cli",
                   "from collab import cli", "from .. import cli", "from ..cli import main"):
        assert "collab.cli" in imported(source, "collab.library"), source
    assert "collab.cli" not in imported("from collab.client import Client", "collab.library")
