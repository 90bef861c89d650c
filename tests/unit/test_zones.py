"""Time zones as people name them, and times as a reader in a zone reads them."""

from __future__ import annotations

import datetime as dt

from collab import zones


def test_a_zone_is_named_by_its_iana_name_or_its_city_in_any_case() -> None:
    assert zones.zone_named("Europe/Madrid") == "Europe/Madrid"
    assert zones.zone_named("Madrid") == zones.zone_named("madrid") == "Europe/Madrid"
    assert zones.zone_named("new york") == zones.zone_named("New_York") == "America/New_York"
    assert zones.zone_named("europe/paris") == "Europe/Paris"
    assert zones.zone_named("US/Eastern") == "US/Eastern"  # an alias some clients still send
    for bad in ("", "Atlantis", "Europe/", "x" * 65, "Madrid\x00", "../etc/passwd"):
        assert zones.zone_named(bad) is None, bad


def test_the_picker_lists_cities_by_region_without_legacy_aliases() -> None:
    regions = dict(zones.choices())
    assert ("Europe/Madrid", "Madrid") in regions["Europe"]
    assert ("America/Argentina/Buenos_Aires", "Argentina – Buenos Aires") in regions["America"]
    assert not {"US", "Etc", "Brazil", "Canada"} & set(regions)
    assert ("UTC", "UTC") in regions["Universal"]


def test_a_time_reads_in_the_readers_zone_named() -> None:
    noon = dt.datetime(2026, 12, 11, 13, 0)  # stored: naive UTC
    assert zones.shown(noon, "Europe/Paris") == "Fri, 11 Dec 2026, 14:00 CET"
    assert zones.shown(noon, "America/New_York", "time") == "08:00 EST"
    assert zones.shown(noon, "Asia/Tokyo", "date") == "Fri, 11 Dec 2026"
    summer = dt.datetime(2026, 7, 1, 12, 0, tzinfo=dt.UTC)
    assert zones.shown(summer, "Europe/London", "time") == "13:00 BST"
