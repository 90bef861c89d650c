"""The database: one ormar connection and metadata, SQLite write serialisation, migrations."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import ormar
import sqlalchemy
from sqlalchemy import event as sa_event

from collab.errors import CollabError, Conflict, Invalid, Unavailable

T = TypeVar("T")

metadata = sqlalchemy.MetaData()
database = ormar.DatabaseConnection("sqlite+aiosqlite:///./collab.db")
base_config = ormar.OrmarConfig(metadata=metadata, database=database)

# SQLite allows one writer at a time; serialising writes inside the process turns
# "database is locked" errors into a short wait. Other processes on the same file
# wait on SQLite's busy timeout instead (set on every connection below).
_sqlite_write_lock: asyncio.Lock | None = None
SQLITE_BUSY_TIMEOUT_MS = 10_000


def configure(url: str) -> None:
    """Point the shared connection at `url` (already normalised with its async driver)."""
    global _sqlite_write_lock
    options: dict[str, object] = {}
    if url.startswith("sqlite"):
        options["connect_args"] = {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}
        # Each aiosqlite connection is a thread with its own malloc arena: a burst of joins
        # that opened overflow connections left the process tens of MiB larger. Writers
        # queue on one lock anyway, so a fixed pool with no overflow loses nothing.
        options["pool_size"] = 8
        options["max_overflow"] = 0
    else:
        options["pool_size"] = 10
        options["max_overflow"] = 20
    database.__init__(url, **options)  # type: ignore[misc]
    _sqlite_write_lock = None


def is_sqlite() -> bool:
    return database.url.startswith("sqlite")


async def connect() -> None:
    await database.connect()
    if is_sqlite():
        @sa_event.listens_for(database.engine.sync_engine, "connect")
        def _pragmas(dbapi_conn: object, _record: object) -> None:
            cursor = dbapi_conn.cursor()  # type: ignore[attr-defined]
            # WAL lets readers go on while one process writes; NORMAL sync is safe under WAL.
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            cursor.close()


async def disconnect() -> None:
    await database.disconnect()


def pool_status() -> dict[str, int]:
    """The connection pool's size, connections in use and overflow (empty when not connected)."""
    if not database.is_connected:
        return {}
    pool = database.engine.sync_engine.pool
    try:
        return {"size": pool.size(), "checked_out": pool.checkedout(),  # type: ignore[attr-defined]
                "overflow": max(0, pool.overflow())}  # type: ignore[attr-defined]
    except AttributeError:  # a pool without these counts (NullPool, StaticPool)
        return {}


@asynccontextmanager
async def write_transaction() -> AsyncIterator[None]:
    """A transaction for writes; on SQLite the process's writers queue up first."""
    if is_sqlite():
        async with _write_lock(), database.transaction():
            yield
    else:
        async with database.transaction():
            yield


def _write_lock() -> asyncio.Lock:
    global _sqlite_write_lock
    if _sqlite_write_lock is None:
        _sqlite_write_lock = asyncio.Lock()
    return _sqlite_write_lock


async def sqlite_atomic(fn: Callable[[sqlite3.Connection], T]) -> T:
    """Run `fn(connection)` as one SQLite transaction, entirely in the driver's thread.

    Through SQLAlchemy's aiosqlite adapter every statement costs three or four hops to that
    thread (each a thread switch and a self-pipe wake-up); a hot write of several statements
    goes in one hop instead. `fn` may raise to roll back; the exception reaches the caller.
    """
    def atomic(c: sqlite3.Connection) -> T:
        c.execute("BEGIN IMMEDIATE")
        try:
            result = fn(c)
        except BaseException:
            c.execute("ROLLBACK")
            raise
        c.execute("COMMIT")
        return result

    async with _write_lock(), database.connection() as conn:
        raw = await conn.get_raw_connection()
        driver = raw.driver_connection  # aiosqlite.Connection
        return await driver._execute(atomic, driver._conn)


async def sqlite_read(conn: Any, fn: Callable[[sqlite3.Connection], T]) -> T:
    """Run `fn(connection)` on `conn`'s SQLite connection in the driver's thread, in one hop
    and one read transaction (one snapshot): a read of several statements (a search) costs one
    thread switch, not three or four per statement."""
    def read(c: sqlite3.Connection) -> T:
        c.execute("BEGIN")
        try:
            return fn(c)
        finally:
            c.execute("COMMIT")

    raw = await conn.get_raw_connection()
    driver = raw.driver_connection  # aiosqlite.Connection
    return await driver._execute(read, driver._conn)


async def postgres_fetch(sql: str, *args: object) -> list[Any]:
    """One statement on a pooled asyncpg connection, as its own transaction.

    For hot paths written as a single statement (data-modifying CTEs): no BEGIN/COMMIT round
    trips and no SQLAlchemy statement building.
    """
    async with database.connection() as conn:
        raw = await conn.get_raw_connection()
        return await raw.driver_connection.fetch(sql, *args)


def failure(exc: BaseException) -> CollabError | None:
    """What a database exception means for the client, or None when it is a programming error.

    A lost or unreachable database is `unavailable` (nothing was changed; retry); a row that
    collides with another is `conflict`; a value the database refused is `invalid`. The driver's
    own error may sit under SQLAlchemy's wrappers (`orig`, `__cause__`): PostgreSQL starting up
    or shutting down came as a DBAPIError around an adapter's `Error` around asyncpg's
    CannotConnectNowError, so every link of that chain is looked at.
    """
    if isinstance(exc, CollabError):
        return exc
    for link in _chain(exc):
        found = _meaning(link)
        if found is not None:
            return found
    if getattr(exc, "connection_invalidated", False):
        return Unavailable("the database connection was lost; nothing was changed, retry")
    return None


def _chain(exc: BaseException) -> list[BaseException]:
    """`exc` and what it wraps, outermost first (a few links at most; cycles are cut)."""
    links: list[BaseException] = []
    todo: list[BaseException | None] = [exc]
    while todo and len(links) < 8:
        link = todo.pop(0)
        if link is None or any(link is seen for seen in links):
            continue
        links.append(link)
        todo.extend((getattr(link, "orig", None), link.__cause__))
    return links


def _meaning(orig: BaseException) -> CollabError | None:
    name = type(orig).__name__
    module = type(orig).__module__
    if isinstance(orig, (OSError, ConnectionError, TimeoutError)) or (
            module.startswith("asyncpg") and name in _UNAVAILABLE):
        return Unavailable("the database is unavailable; nothing was changed, retry shortly")
    if isinstance(orig, sqlite3.OperationalError):
        return Unavailable(f"the database is busy or unavailable ({orig}); retry shortly")
    # SQLAlchemy's asyncpg adapter raises its own UniqueViolationError, an IntegrityError by
    # its bases only: by name alone it went unrecognised and a collision became a crash.
    if isinstance(orig, sqlite3.IntegrityError) or "IntegrityConstraintViolation" in _mro(orig) \
            or "IntegrityError" in _mro(orig).split():
        return Conflict("this change collides with another one; reload and retry")
    if isinstance(orig, sqlite3.DataError) or (module.startswith("asyncpg") and (
            "DataError" in _mro(orig))):
        return Invalid("the database refused a value of this change")
    if module.startswith("asyncpg") and "PostgresConnectionError" in _mro(orig):
        return Unavailable("the database is unavailable; nothing was changed, retry shortly")
    return None


_UNAVAILABLE = {"ConnectionDoesNotExistError", "CannotConnectNowError", "InterfaceError",
                "ConnectionFailureError", "TooManyConnectionsError", "AdminShutdownError",
                "CrashShutdownError"}


def _mro(exc: BaseException) -> str:
    return " ".join(k.__name__ for k in type(exc).__mro__)
