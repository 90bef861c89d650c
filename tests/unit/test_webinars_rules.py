"""Webinar rules that need no server: times and zones, poll options, who may do what."""

from __future__ import annotations

import datetime as dt

import pytest

from collab.errors import Invalid
from collab.realtime import Actor
from collab.webinars import service
from collab.webinars.moderation import poll_fields


def test_a_time_with_an_offset_is_that_instant_whatever_the_zone() -> None:
    got = service.time_field({"t": "2030-06-01T12:00:00+02:00"}, "t", "Asia/Tokyo",
                             required=True)
    assert got == dt.datetime(2030, 6, 1, 10, 0)


def test_a_wall_clock_time_is_read_in_the_zone_across_daylight_saving() -> None:
    winter = service.time_field({"t": "2030-01-15T09:30"}, "t", "America/New_York",
                                required=True)
    summer = service.time_field({"t": "2030-07-15T09:30"}, "t", "America/New_York",
                                required=True)
    assert (winter, summer) == (dt.datetime(2030, 1, 15, 14, 30), dt.datetime(2030, 7, 15, 13, 30))


@pytest.mark.parametrize("value", ["2030-03-31T02:30", "tomorrow", "2030-13-01T10:00", "",
                                   "1850-01-01T10:00", "x" * 41, 12, "2030-01-01T10:00\x00"])
def test_bad_times_are_invalid(value: object) -> None:
    with pytest.raises(Invalid):
        service.time_field({"t": value}, "t", "Europe/Paris", required=True)


@pytest.mark.parametrize("zone", ["Mars/Olympus", "../../etc/passwd", "utc ", 3, "x" * 65])
def test_unknown_zones_are_invalid(zone: object) -> None:
    with pytest.raises(Invalid):
        service.zone_field({"timezone": zone})


def test_known_zones_and_the_default() -> None:
    assert service.zone_field({"timezone": "Europe/Paris"}) == "Europe/Paris"
    assert service.zone_field({}) == "UTC"


def test_polls_take_two_to_six_distinct_options() -> None:
    assert poll_fields({"question": "Q?", "options": ["a", "b", "", " "]}) == ("Q?", ["a", "b"])
    assert len(poll_fields({"question": "Q?", "options": list("abcdef")})[1]) == 6
    for options in (["a"], list("abcdefg"), ["a", "a"], "ab", None, ["a", 3], ["a", "x" * 101]):
        with pytest.raises(Invalid):
            poll_fields({"question": "Q?", "options": options})
    with pytest.raises(Invalid):
        poll_fields({"question": "", "options": ["a", "b"]})


def test_seats_by_role() -> None:
    host = Actor(1, "host", roles=frozenset({"member", "expert"}))
    mod = Actor(2, "mod", roles=frozenset({"member", "moderator"}))
    admin = Actor(3, "admin", roles=frozenset({"member", "admin"}))
    member = Actor(4, "member", roles=frozenset({"member"}))
    seats = {a.username: service.seat_for(9, 1, a, muted=True) for a in (host, mod, admin, member)}
    assert {k: (s.role, s.moderates, s.hosts, s.muted) for k, s in seats.items()} == {
        "host": ("host", True, True, False), "mod": ("moderator", True, False, False),
        "admin": ("moderator", True, True, False), "member": ("member", False, False, True)}
    assert service.seat_for(9, 1, None, muted=False).role is None
