"""The `collab` command: refusals that protect the user, and the account commands."""

from __future__ import annotations

from pathlib import Path

import pytest

from collab.cli import main


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("BROADCAST_URL", "COLLAB_ENV", "SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("SECRET_FILE", str(tmp_path / "secret"))
    return tmp_path


def test_serve_refuses_several_workers_on_memory_broadcast(env: Path) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["serve", "--workers", "2"])
    assert "BROADCAST_URL" in str(exited.value.code)


def test_bad_settings_are_named_not_tracebacks(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BROADCAST_URL", "kafka://nope")
    with pytest.raises(SystemExit) as exited:
        main(["migrate"])
    assert "BROADCAST_URL" in str(exited.value.code)


def test_createuser_gives_the_role_and_refuses_a_taken_name(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["migrate"]) == 0
    assert main(["createuser", "--username", "first", "--password", "long-enough"]) == 0
    assert main(["createuser", "--username", "mod", "--password", "long-enough",
                 "--role", "moderator"]) == 0
    assert main(["createuser", "--username", "boss", "--password", "long-enough",
                 "--role", "admin"]) == 0
    out = capsys.readouterr().out
    assert "created first with roles member\n" in out, "the first user is not an admin"
    assert "created mod with roles member,moderator" in out
    assert "created boss with roles member,admin" in out
    with pytest.raises(SystemExit) as exited:
        main(["createuser", "--username", "MOD", "--password", "long-enough"])
    assert "taken" in str(exited.value.code)


def test_seed_fills_an_empty_database_once(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["migrate"]) == 0
    assert main(["seed"]) == 0
    assert main(["seed"]) == 0
    out = capsys.readouterr().out
    assert "4 forum rooms" in out and "nothing to seed" in out
    # The demo members have profiles, so the directory finds someone (written once).
    assert "profiles of maria.lopez, sam.okafor, jo.chen, priya.nair" in out
    assert out.count("profiles of") == 1


@pytest.mark.parametrize("command", [
    ["seed"], ["createuser", "--username", "first", "--password", "long-enough"],
    ["reset-epochs"]])
def test_database_commands_on_a_new_database_migrate_it_first(
    env: Path, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    # An operator's first command on a new database is as often `seed` or `createuser` as
    # `migrate`: it used to end in a traceback ("no such table").
    assert main(command) == 0
    captured = capsys.readouterr()
    assert "applied migrations: 0001_initial" in captured.err
    assert main(command if command[0] != "createuser" else ["seed"]) == 0
    assert "applied migrations" not in capsys.readouterr().err


def test_serve_refuses_postgresql_without_an_explicit_environment(
    env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://collab@db.invalid/collab")
    with pytest.raises(SystemExit) as exited:
        main(["serve", "--no-migrate"])
    assert "COLLAB_ENV" in str(exited.value.code)


def test_serve_bounds_the_frames_uvicorn_reads(
    env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """uvicorn's default reads 16 MiB before the app's check; collab serve passes its own."""
    import uvicorn

    seen: dict[str, object] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: seen.update(kw))
    monkeypatch.setenv("WS_MAX_FRAME_BYTES", "4096")
    assert main(["serve", "--no-migrate"]) == 0
    assert seen["ws_max_size"] == 8192
