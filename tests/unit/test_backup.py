"""`collab backup` / `collab restore` on SQLite files: a consistent copy while a writer holds
the database, and clear refusals (the drill on both databases is in tests/integration)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from collab.backup import BackupError, backup, restore


def _database(path: Path, rows: int) -> str:
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE posts (id INTEGER PRIMARY KEY, body TEXT)")
    conn.executemany("INSERT INTO posts (body) VALUES (?)", [(f"p{i}",) for i in range(rows)])
    conn.commit()
    conn.close()
    return f"sqlite+aiosqlite:///{path}"


def test_a_backup_taken_during_an_open_write_holds_the_committed_rows_only(
        tmp_path: Path) -> None:
    url = _database(tmp_path / "live.db", 100)
    writer = sqlite3.connect(tmp_path / "live.db")
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("INSERT INTO posts (body) VALUES ('uncommitted')")
    try:
        assert "wrote" in backup(url, str(tmp_path / "copy.backup"))
    finally:
        writer.rollback()
        writer.close()
    target = f"sqlite+aiosqlite:///{tmp_path / 'restored.db'}"
    assert "collab reset-epochs" in restore(target, str(tmp_path / "copy.backup"))
    conn = sqlite3.connect(tmp_path / "restored.db")
    assert conn.execute("SELECT count(*), max(body) FROM posts").fetchone() == (100, "p99")
    conn.close()


def test_a_backup_never_overwrites(tmp_path: Path) -> None:
    url = _database(tmp_path / "live.db", 1)
    (tmp_path / "old.backup").write_bytes(b"yesterday")
    with pytest.raises(BackupError, match="already exists"):
        backup(url, str(tmp_path / "old.backup"))
    assert (tmp_path / "old.backup").read_bytes() == b"yesterday"


def test_restore_refuses_a_database_with_tables(tmp_path: Path) -> None:
    url = _database(tmp_path / "live.db", 3)
    backup(url, str(tmp_path / "copy.backup"))
    with pytest.raises(BackupError, match=r"refusing to restore into .*live.db: it is not empty "
                                          r"\(1 tables: posts\)"):
        restore(url, str(tmp_path / "copy.backup"))


def test_restore_refuses_a_file_that_is_not_a_sqlite_backup(tmp_path: Path) -> None:
    (tmp_path / "pg.backup").write_bytes(b"PGDMP\x01\x0e\x00")
    target = f"sqlite+aiosqlite:///{tmp_path / 'new.db'}"
    with pytest.raises(BackupError, match="is not a SQLite backup"):
        restore(target, str(tmp_path / "pg.backup"))
    with pytest.raises(BackupError, match="no backup file"):
        restore(target, str(tmp_path / "missing.backup"))
    assert not (tmp_path / "new.db").exists()
