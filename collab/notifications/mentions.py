"""@mentions: which members a text names, and the cap on how many it may name.

Every product that tells members they were mentioned parses them here, so the cap
(`MAX_MENTIONS_PER_TEXT`) holds for a forum post, a card comment, a chat message or a question
alike: a text naming more distinct members is refused before anything is written.
"""

from __future__ import annotations

import re

import sqlalchemy as sa

from collab import db
from collab.accounts.models import User
from collab.errors import Invalid

from .notify import RULES

# `@name`, not inside a word, an address or another mention: the character before it is
# checked apart, since a look-behind at the start made the expression try every position
# (13 µs for a post of 200 characters, most of them without any @).
_MENTION = re.compile(r"@([A-Za-z0-9_.-]{3,40})")
_GLUED = re.compile(r"[\w@.]")
_users = User.ormar_config.table


def mentioned(text: str) -> set[str]:
    """Lower-cased usernames `@named` in `text` (a trailing full stop may end the sentence, so
    both `bob.` and `bob` are candidates)."""
    out: set[str] = set()
    if not text or "@" not in text:
        return out
    for match in _MENTION.finditer(text):
        at = match.start()
        if at and _GLUED.match(text, at - 1):
            continue
        name = match.group(1).lower()
        out.add(name)
        stripped = name.rstrip(".-")
        if len(stripped) >= 3:
            out.add(stripped)
    return out


async def capped(text: str, field: str = "body") -> set[str]:
    """`mentioned(text)`, refused with `invalid` when it names more distinct members than
    `MAX_MENTIONS_PER_TEXT`. Only a text with more candidate names than that asks the
    database which of them are members."""
    names = mentioned(text)
    cap = RULES.max_mentions_per_text
    if len({n.rstrip(".-") for n in names}) <= cap:
        return names
    async with db.database.connection() as conn:
        members = (await conn.execute(
            sa.select(sa.func.count()).select_from(_users)
            .where(_users.c.username_key.in_(sorted(names))))).scalar_one()
    if members > cap:
        raise Invalid(f"this text mentions {members} members; at most {cap} may be mentioned "
                      "in one text (MAX_MENTIONS_PER_TEXT): nothing was sent, your text is "
                      "kept", extra={"field": field})
    return names
