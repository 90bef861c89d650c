"""The `collab` command: serve, migrate, createuser, seed, backup, restore, reset-epochs,
collect-static."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys

from collab import settings as settings_mod
from collab.commands import settings as _settings
from collab.commands import with_db


def cmd_migrate(args: argparse.Namespace) -> int:
    from collab.migrations import migrate

    applied = asyncio.run(migrate(_settings().database_url))
    print("applied: " + ", ".join(applied) if applied else "the database is up to date")
    return 0


def ws_read_limit(settings: settings_mod.Settings) -> int:
    """The largest WebSocket message `collab serve` lets uvicorn read."""
    return 2 * settings.ws_max_frame_bytes


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    settings = _settings()
    if args.workers > 1 and settings.uses_memory_broadcast:
        sys.exit(
            "collab: --workers > 1 needs BROADCAST_URL=redis://…: with memory:// each worker "
            "would only see its own events. Set BROADCAST_URL or use --workers 1."
        )
    if not args.no_migrate:
        cmd_migrate(args)
    uvicorn.run(
        "collab.app:app",
        host=args.host,
        port=args.port,
        workers=args.workers,
        # websockets-sansio, httptools and uvloop were the fastest here (bench/); deflate
        # costs CPU per delivery for small JSON frames, so it is off.
        ws="websockets-sansio",
        http="httptools",
        loop="uvloop",
        ws_per_message_deflate=False,
        # uvicorn's default reads frames of up to 16 MiB before the app can refuse one. A frame
        # over WS_MAX_FRAME_BYTES but within twice that is read and answered `too_large` (the
        # socket stays open, as the protocol says); a larger one is refused unread: uvicorn
        # closes the socket with 1009 (message too big).
        ws_max_size=ws_read_limit(settings),
        proxy_headers=True,
        forwarded_allow_ips=os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1"),
        access_log=args.access_log,
    )
    return 0


def cmd_createuser(args: argparse.Namespace) -> int:
    from collab.accounts.service import create_user, validate_registration
    from collab.errors import CollabError

    async def run() -> str:
        username, password, display = validate_registration(
            {"username": args.username, "password": args.password,
             "display_name": args.display_name})
        user = await create_user(username, password, display, role=args.role)
        return f"created {user.username} with roles {user.roles}"

    try:
        print(asyncio.run(with_db(run)))
    except CollabError as exc:
        sys.exit(f"collab: {exc.message}")
    return 0


def cmd_seed(args: argparse.Namespace) -> int:
    from collab.seed import seed

    print(asyncio.run(with_db(lambda: seed(_settings()))))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="collab", description="collab server commands")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the server (migrates first)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument("--no-migrate", action="store_true", help="skip migrations")
    serve.add_argument("--access-log", action="store_true", help="log every request")
    serve.set_defaults(func=cmd_serve)

    migrate = sub.add_parser("migrate", help="apply pending schema migrations")
    migrate.set_defaults(func=cmd_migrate)

    create = sub.add_parser("createuser", help="create a user (--role admin: how admins are made; "
                            "registering never makes one)")
    create.add_argument("--username", required=True)
    create.add_argument("--password", required=True)
    create.add_argument("--display-name", default=None)
    create.add_argument("--role", choices=["member", "expert", "moderator", "admin"])
    create.set_defaults(func=cmd_createuser)

    seed = sub.add_parser("seed", help="add a small demo community (only to an empty database)")
    seed.set_defaults(func=cmd_seed)

    backup = sub.add_parser("backup", help="write a consistent copy of the database to PATH "
                            "while the server runs (SQLite's online backup; pg_dump's custom "
                            "format for PostgreSQL)")
    backup.add_argument("path", help="the file to write (must not exist yet)")
    backup.set_defaults(func=cmd_backup)

    restore = sub.add_parser("restore", help="load a backup made by `collab backup` into the "
                             "configured database, which must be empty; then run "
                             "`collab reset-epochs`")
    restore.add_argument("path", help="the backup file")
    restore.set_defaults(func=cmd_restore)

    epochs = sub.add_parser("reset-epochs", help="after restoring a database backup: give every "
                            "channel a new epoch, so clients reload instead of resuming")
    epochs.set_defaults(func=cmd_reset_epochs)

    static = sub.add_parser("collect-static", help="write the static files under their "
                            "fingerprinted names, for nginx to serve (docs/deploy.md)")
    static.add_argument("directory")
    static.set_defaults(func=cmd_collect_static)

    from collab.domains import DOMAINS

    for domain in DOMAINS:
        for add_command in domain.commands:
            add_command(sub)
    return parser


def cmd_backup(args: argparse.Namespace) -> int:
    from collab.backup import BackupError, backup

    try:
        print(backup(_settings().database_url, args.path))
    except BackupError as exc:
        sys.exit(f"collab backup: {exc}")
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    from collab.backup import BackupError, restore

    try:
        print(restore(_settings().database_url, args.path))
    except BackupError as exc:
        sys.exit(f"collab restore: {exc}")
    return 0


def cmd_collect_static(args: argparse.Namespace) -> int:
    """Write every static file under its fingerprinted name (and a .gz beside it when gzip
    helps), for a web server in front to serve with a year's cache (deploy/nginx/collab.conf)."""
    from pathlib import Path

    from collab.web.static import StaticFiles

    target = Path(args.directory)
    files = StaticFiles()
    written = 0
    for plain, url in sorted(files.urls.items()):
        asset = files.assets[plain]
        path = target / url.removeprefix("/static/")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(asset.body)
        if asset.gzipped is not None:
            path.with_name(path.name + ".gz").write_bytes(asset.gzipped)
        written += 1
    print(f"wrote {written} fingerprinted files to {target}")
    return 0


def cmd_reset_epochs(args: argparse.Namespace) -> int:
    from collab.realtime.store import rotate_epochs

    epoch = asyncio.run(with_db(rotate_epochs))
    print(f"every channel now has epoch {epoch}; open pages and clients will reload")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
