"""Ids are ASCII digits of a number the id columns hold (below 2^31): the route convertor, the
toolkit's parser, fields and channel names agree on the edges."""

from __future__ import annotations

import re

import pytest
from starlette.convertors import CONVERTOR_TYPES

from collab.errors import Invalid, NotFound
from collab.fields import id_field
from collab.realtime.channels import parse_id as channel_id
from collab.web.toolkit import MAX_ID, IdConvertor, parse_id

INSIDE = ["1", "7", "999999999", "1000000000", "2000000000", "2147483647", "2147483639",
          "2147483599", "2147482999"]
OUTSIDE = ["2147483648", "2147483650", "2147483700", "2147484000", "2147490000", "2147500000",
           "2148000000", "2150000000", "2200000000", "3000000000", "9999999999", str(2**63),
           "99999999999999999999", "-1", "1.0", "\u0661", "\u00b9", "\uff11", "", " 1", "0x1"]


def test_max_id_is_the_largest_32_bit_integer() -> None:
    assert MAX_ID == 2**31 - 1


@pytest.mark.parametrize("value", INSIDE)
def test_ids_inside_the_range_are_read_everywhere(value: str) -> None:
    assert CONVERTOR_TYPES["id"] is not None and isinstance(CONVERTOR_TYPES["id"], IdConvertor)
    assert re.fullmatch(IdConvertor.regex, value)
    assert parse_id(value) == int(value)
    assert id_field({"id": value}, "id") == int(value)
    assert channel_id(value, "thread") == int(value)


@pytest.mark.parametrize("value", OUTSIDE)
def test_ids_outside_the_range_name_nothing(value: str) -> None:
    assert not re.fullmatch(IdConvertor.regex, value)
    assert parse_id(value) is None
    # Well formed but beyond every row: not_found; not an id at all: invalid.
    well_formed = value.isascii() and value.isdigit()
    with pytest.raises(NotFound if well_formed else Invalid):
        id_field({"id": value}, "id")
    with pytest.raises(NotFound):
        channel_id(value, "thread")
