"""The docs name every setting, error code, CLI command and event type the code has."""

from __future__ import annotations

import dataclasses
import re
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


def test_every_emitted_event_type_is_documented() -> None:
    source = "\n".join(p.read_text() for p in (ROOT / "collab").rglob("*.py"))
    emitted = set(re.findall(r'emit\([^,]+,\s*f?"([a-z]+\.[a-z]+)"', source))
    emitted |= {f"thread.{field}" for field in ("locked", "pinned")}
    assert emitted, "no emitted event types found: the pattern above needs updating"
    for event_type in emitted:
        if "{" in event_type:
            continue
        assert f"`{event_type}`" in PROTOCOL, event_type
