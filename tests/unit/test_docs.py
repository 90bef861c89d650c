"""The docs name every setting, error code, CLI command and event type the code has."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from collab.cli import build_parser
from collab.errors import ERROR_CODES
from collab.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
PROTOCOL = (ROOT / "docs" / "protocol.md").read_text()
README = (ROOT / "README.md").read_text()


def test_every_setting_is_documented() -> None:
    for field in dataclasses.fields(Settings):
        name = field.name.upper()
        name = {"ENVIRONMENT": "COLLAB_ENV"}.get(name, name)
        assert f"`{name}`" in PROTOCOL, f"{name} is missing from docs/protocol.md"


def test_every_error_code_is_documented() -> None:
    for code in ERROR_CODES:
        assert f"`{code}`" in PROTOCOL, code


def test_every_cli_command_is_in_the_readme() -> None:
    parser = build_parser()
    commands = next(a for a in parser._actions if a.dest == "command").choices
    for command in commands:
        assert f"collab {command}" in README, f"`collab {command}` is missing from README.md"
