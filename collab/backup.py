"""`collab backup` and `collab restore`: a consistent copy while the server runs, loaded only
into an empty database.

SQLite: the online backup API (`sqlite3.Connection.backup`) copies every page inside one read
transaction, so the copy is one moment of the database even while servers write (under WAL,
readers do not block writers). PostgreSQL: `pg_dump --format=custom` (one snapshot) and
`pg_restore --single-transaction`. A restored database's channels keep the seqs of the
moment of the backup, while open pages and clients may have seen later ones: after a restore,
`collab reset-epochs` makes them reload instead of resuming into another history.
"""

from __future__ import annotations

import asyncio
import glob
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy.engine import make_url

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_DUMP_MAGIC = b"PGDMP"
# Tables SQLite makes by itself; a database holding only these is empty.
SQLITE_INTERNAL = ("sqlite_sequence", "sqlite_stat1", "sqlite_stat4")


class BackupError(Exception):
    """A backup or restore that cannot be done; the message says why and what to do."""


def _sqlite_path(database_url: str) -> str:
    path = make_url(database_url).database
    if not path or path == ":memory:":
        raise BackupError(f"DATABASE_URL {database_url!r} names no SQLite file")
    return path


def _read_only(path: str) -> str:
    """A URI that opens the file read-only (percent-encoded, so `?` or `#` in a name is safe)."""
    return Path(path).resolve().as_uri() + "?mode=ro"


def _libpq_url(database_url: str) -> str:
    """The URL as libpq's tools take it (without SQLAlchemy's `+asyncpg`)."""
    url = make_url(database_url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


def _tool(name: str) -> str:
    """`pg_dump` or `pg_restore`: from PATH, else the newest Debian PostgreSQL install."""
    found = shutil.which(name)
    if found:
        return found
    installed = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
                       key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0)
    if installed:
        return installed[-1]
    raise BackupError(f"{name} was not found: install the PostgreSQL client tools "
                      "(Debian: apt-get install postgresql-client)")


def _run(args: list[str]) -> None:
    proc = subprocess.run(args, capture_output=True, text=True, check=False,
                          stdin=subprocess.DEVNULL)
    if proc.returncode != 0:
        raise BackupError(f"{Path(args[0]).name} failed ({proc.returncode}): "
                          f"{(proc.stderr or proc.stdout).strip()[-2000:]}")


def backup(database_url: str, path: str) -> str:
    """Write a consistent copy of the database to `path` (which must not exist yet)."""
    target = Path(path)
    if target.exists():
        raise BackupError(f"{path} already exists; name a new file (a backup never overwrites)")
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    try:
        if database_url.startswith("sqlite"):
            source_path = _sqlite_path(database_url)
            if not Path(source_path).exists():
                raise BackupError(f"there is no database at {source_path}")
            source = sqlite3.connect(_read_only(source_path), uri=True)
            copy = sqlite3.connect(partial)
            try:
                source.backup(copy)  # all pages in one step: one read transaction, one moment
                copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
            finally:
                copy.close()
                source.close()
            kind = "SQLite online backup"
        else:
            _run([_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges",
                  f"--file={partial}", f"--dbname={_libpq_url(database_url)}"])
            kind = "pg_dump custom format"
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return f"wrote {path} ({kind}, {target.stat().st_size:,} bytes)"


def restore(database_url: str, path: str) -> str:
    """Load a backup made by `backup` into the configured database, which must be empty."""
    source = Path(path)
    if not source.is_file():
        raise BackupError(f"there is no backup file at {path}")
    with source.open("rb") as f:
        head = f.read(len(SQLITE_MAGIC))
    if database_url.startswith("sqlite"):
        if not head.startswith(SQLITE_MAGIC):
            raise BackupError(f"{path} is not a SQLite backup (DATABASE_URL is SQLite)")
        target = _sqlite_path(database_url)
        _refuse_non_empty(_sqlite_tables(target), target)
        backup_db = sqlite3.connect(_read_only(str(source)), uri=True)
        database = sqlite3.connect(target)
        try:
            backup_db.backup(database)
            database.execute("PRAGMA journal_mode=WAL")  # as the server runs it
            ok = database.execute("PRAGMA quick_check").fetchone()[0]
        finally:
            database.close()
            backup_db.close()
        if ok != "ok":
            raise BackupError(f"the restored database fails SQLite's check: {ok}")
    else:
        if not head.startswith(PG_DUMP_MAGIC):
            raise BackupError(f"{path} is not a pg_dump custom-format backup "
                              "(DATABASE_URL is PostgreSQL)")
        _refuse_non_empty(asyncio.run(_postgres_tables(database_url)), "the database")
        _run([_tool("pg_restore"), "--no-owner", "--no-privileges", "--single-transaction",
              "--exit-on-error", f"--dbname={_libpq_url(database_url)}", str(source)])
    return (f"restored {path}; now run `collab reset-epochs` before serving, so open pages "
            "and clients reload instead of resuming")


def _refuse_non_empty(tables: list[str], where: str) -> None:
    if tables:
        shown = ", ".join(sorted(tables)[:5]) + (", …" if len(tables) > 5 else "")
        raise BackupError(
            f"refusing to restore into {where}: it is not empty ({len(tables)} tables: {shown}). "
            "Restore into a new, empty database and point DATABASE_URL at it.")


def _sqlite_tables(path: str) -> list[str]:
    if not Path(path).exists():
        return []
    conn = sqlite3.connect(_read_only(path), uri=True)
    try:
        rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    finally:
        conn.close()
    return [name for (name,) in rows if name not in SQLITE_INTERNAL]


async def _postgres_tables(database_url: str) -> list[str]:
    import asyncpg

    conn = await asyncpg.connect(_libpq_url(database_url))
    try:
        rows = await conn.fetch(
            "SELECT table_schema || '.' || table_name AS name FROM information_schema.tables "
            "WHERE table_schema NOT IN ('pg_catalog', 'information_schema')")
    finally:
        await conn.close()
    return [row["name"] for row in rows]
