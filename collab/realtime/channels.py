"""Channel kinds: how a domain plugs into the hub (join, handle, render), like Phoenix channels."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from collab.errors import Invalid, NotFound

if TYPE_CHECKING:
    from .events import Event
    from .hub import Hub


@dataclass(frozen=True, slots=True)
class Actor:
    """Who is on a socket, as the accounts layer told the hub (None for anonymous readers)."""

    id: int
    username: str
    display_name: str = ""
    roles: frozenset[str] = field(default_factory=frozenset)

    def has_role(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))

    def public(self) -> dict[str, Any]:
        return {"id": self.id, "username": self.username,
                "display_name": self.display_name or self.username}


@dataclass(frozen=True, slots=True)
class Ack:
    """A `send` succeeded; `seq` is the persisted event it produced, if any."""

    seq: int | None = None
    data: dict[str, Any] | None = None


class ChannelKind:
    """Base class for one kind of channel (`room`, `thread`, `board`, …).

    Subclasses set `kind` and override `join` (authorise, raise a CollabError to refuse),
    `handle` (perform a `send`: return Ack, raise a CollabError to refuse) and `render`
    (the HTML fragment for an event, the same for every viewer, or None).
    """

    kind: str = ""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub

    async def join(self, actor: Actor | None, id: str) -> None:
        raise NotFound(f"no channel {self.kind}:{id}")

    async def handle(self, actor: Actor | None, id: str, type: str, data: dict[str, Any]) -> Ack:
        raise Invalid(f"{self.kind} channels accept no {type!r}")

    def render(self, event: Event) -> str | None:
        return None

    def render_presence(self, channel: str, members: list[dict[str, Any]]) -> str | None:
        return None


def split_channel(channel: str) -> tuple[str, str]:
    kind, _, id = channel.partition(":")
    return kind, id


def int_id(id: str, channel_kind: str) -> int:
    """Channel ids are integers; anything else names no channel."""
    if not id.isdigit() or len(id) > 18:
        raise NotFound(f"no channel {channel_kind}:{id[:40]}")
    return int(id)
