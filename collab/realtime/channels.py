"""The channel contract: how a domain plugs a kind of channel into the hub (as Phoenix channels).

A kind answers three questions:
- `join(actor, id)`: may this actor follow `KIND:ID`? It returns a grant (the member's role in
  that project or webinar, say) that the hub keeps per subscription and hands to every
  handler, so a role is not looked up again per `send`; raise a CollabError to refuse.
- one handler per `send` type, declared with `@handles("card.move")`; unknown types are refused
  here, anonymous senders too unless the handler says `anonymous=True`;
- `fragments`: which template renders each event type as HTML for `/ws/html` (the web layer
  renders it; the hub never sees a template).
Options per kind: `presence` (track who is here) and `replay_max_events` (the replay window).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from collab.errors import Invalid, NotFound, Unauthenticated
from collab.people import person

if TYPE_CHECKING:
    from .hub import Hub

# Channel ids are ASCII digits of a number that fits the domains' id columns (32-bit INTEGER on
# PostgreSQL; a larger one made the driver refuse the join's query): `thread:¹` or
# Arabic-Indic digits name nothing (int() would accept the latter and alias `thread:1`).
MAX_ID = 2**31 - 1


@dataclass(frozen=True, slots=True)
class Actor:
    """Who is on a socket, as the accounts layer told the hub (None for anonymous readers).

    `credential` names what signed the socket in (a token or a session), so that taking it
    away can be checked again (Hub.access_changed).
    """

    id: int
    username: str
    display_name: str = ""
    roles: frozenset[str] = field(default_factory=frozenset)
    credential: str | None = None

    def has_role(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))

    def public(self) -> dict[str, Any]:
        return person(self)


@dataclass(frozen=True, slots=True)
class Ack:
    """A `send` succeeded; `seq` is the persisted event it produced, if any."""

    seq: int | None = None
    data: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Call:
    """One `send` as its handler sees it."""

    actor: Actor | None
    channel: str
    id: int
    type: str
    data: dict[str, Any]
    grant: Any = None
    # The socket that sent it: an ephemeral broadcast (typing) is not echoed back to it.
    origin: Any = None

    @property
    def member(self) -> Actor:
        """The signed-in sender (handlers that allow anonymous senders check for None)."""
        if self.actor is None:
            raise Unauthenticated("sign in first")
        return self.actor


Handler = Callable[[Any, Call], Awaitable[Ack]]


def handles(type: str, *, anonymous: bool = False) -> Callable[[Handler], Handler]:
    """Declare a method as the handler of `send` type `type` on its kind."""

    def mark(fn: Handler) -> Handler:
        fn.__collab_handles__ = (type, anonymous)  # type: ignore[attr-defined]
        return fn

    return mark


def parse_id(id: str, kind: str) -> int:
    if not (0 < len(id) <= 19 and id.isascii() and id.isdigit()):
        raise NotFound(f"no channel {kind}:{id[:40]}")
    number = int(id)
    if number > MAX_ID:
        raise NotFound(f"no channel {kind}:{id[:40]}")
    return number


class ChannelKind:
    """Base class for one kind of channel (`room`, `thread`, `board`, …)."""

    kind: ClassVar[str] = ""
    # Presence costs a frame per arrival and departure (coalesced); kinds where nobody shows
    # "who is here" turn it off.
    presence: ClassVar[bool] = True
    # A join whose `since` is further behind than this gets `reset` (None: REPLAY_MAX_EVENTS).
    replay_max_events: ClassVar[int | None] = None
    # Event type -> template of the HTML fragment pages get over /ws/html (`_` fragments
    # under templates/<domain>/). Types not listed are not sent to pages.
    fragments: ClassVar[Mapping[str, str]] = {}
    # Event types the kind emits that pages do not render (the docs check reads both lists).
    events: ClassVar[tuple[str, ...]] = ()
    # The fragment for the presence list ("3 here now"), if the kind's pages show one, and
    # what it is rendered with (the shared `_presence_oob.html` takes the page element's
    # `presence_id`, `shown` for a crowd, `compact`).
    presence_fragment: ClassVar[str | None] = None
    presence_view: ClassVar[Mapping[str, Any]] = {}
    _handlers: ClassVar[dict[str, tuple[str, bool]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        table: dict[str, tuple[str, bool]] = {}
        for klass in reversed(cls.__mro__):
            for name, value in vars(klass).items():
                mark = getattr(value, "__collab_handles__", None)
                if mark is not None:
                    table[mark[0]] = (name, mark[1])
        cls._handlers = table

    def __init__(self, hub: Hub) -> None:
        self.hub = hub

    @classmethod
    def event_types(cls) -> list[str]:
        """Every event type this kind emits (persisted or ephemeral)."""
        return sorted(set(cls.events) | set(cls.fragments))

    @classmethod
    def send_types(cls) -> list[str]:
        """Every `send` type this kind handles (docs and the authorisation matrix read it)."""
        return sorted(cls._handlers)

    def parse_id(self, id: str) -> int:
        return parse_id(id, self.kind)

    async def join(self, actor: Actor | None, id: int) -> Any:
        """Authorise a join; return the grant kept for the subscription. Override."""
        raise NotFound(f"no channel {self.kind}:{id}")

    def forget(self, id: int) -> None:
        """Drop anything cached about KIND:ID: `hub.channel_access_changed` calls it in every
        process before the channel's sockets join again. Override if `join` caches."""

    async def perform(self, call: Call) -> Ack:
        entry = self._handlers.get(call.type)
        if entry is None:
            raise Invalid(f"{self.kind} channels accept no {call.type[:40]!r}; they accept "
                          f"{', '.join(self.send_types()) or 'no sends'}")
        name, anonymous = entry
        if call.actor is None and not anonymous:
            raise Unauthenticated("sign in first")
        result = await getattr(self, name)(call)
        if not isinstance(result, Ack):
            raise TypeError(f"{type(self).__name__}.{name} returned {result!r}: a handler "
                            "returns an Ack or raises a CollabError")
        return result

    def fragment_context(self, event: Any) -> dict[str, Any]:
        """Extra template context for this kind's fragments (the event is always there)."""
        return {}


def split_channel(channel: str) -> tuple[str, str]:
    kind, _, id = channel.partition(":")
    return kind, id
