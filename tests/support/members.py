"""Many members at once, written straight into a server's database with collab's own models.

Registering through the API hashes each password with Argon2 (about 0.4 s apiece on a small
machine), so 200 attendees would take a minute and a half and 1,000 (the benchmark's webinar)
seven. Here every member shares one hash of DEFAULT_PASSWORD and gets a token from
`credentials.issue_token`, in a child process so that this process's `collab.db` stays untouched.

    python tests/support/members.py DATABASE_URL COUNT PREFIX   # prints a JSON list
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_PASSWORD = "correct horse battery staple"


def make_members(database_url: str, count: int, prefix: str) -> list[dict[str, Any]]:
    """`count` members `{prefix}{n}` with tokens: `[{"id", "username", "token"}]`."""
    proc = subprocess.run([sys.executable, str(Path(__file__).resolve()), database_url,
                           str(count), prefix], cwd=ROOT, capture_output=True, text=True,
                          timeout=300, check=False)
    if proc.returncode:
        raise RuntimeError(f"making members failed: {proc.stderr[-2000:]}")
    return list(json.loads(proc.stdout))


async def _make(database_url: str, count: int, prefix: str) -> list[dict[str, Any]]:
    from argon2 import PasswordHasher

    from collab import db
    from collab.accounts.credentials import issue_token
    from collab.accounts.models import User
    from collab.settings import normalise_database_url

    db.configure(normalise_database_url(database_url))
    await db.connect()
    try:
        password_hash = PasswordHasher().hash(DEFAULT_PASSWORD)
        names = [f"{prefix}{n}" for n in range(count)]
        await User.objects.bulk_create([
            User(username=name, username_key=name.casefold(), display_name=name,
                 password_hash=password_hash, roles="member")
            for name in names])
        users = await User.objects.filter(username__in=names).order_by("id").all()
        return [{"id": u.id, "username": u.username,
                 "token": (await issue_token(u, ttl_days=1))[0]} for u in users]
    finally:
        await db.disconnect()


if __name__ == "__main__":
    url, n, prefix = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    print(json.dumps(asyncio.run(_make(url, n, prefix))))
