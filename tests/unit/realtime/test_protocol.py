"""Client frames: every malformed one maps to the error code PROTOCOL.md names."""

from __future__ import annotations

import pytest

from collab.errors import CollabError
from collab.realtime.protocol import parse


@pytest.mark.parametrize(("text", "code"), [
    ("not json", "bad_frame"),
    ("[1, 2]", "bad_frame"),
    ('"op"', "bad_frame"),
    ('{"ref": "1"}', "bad_frame"),
    ('{"op": "subscribe", "ref": "1"}', "unknown_op"),
    ('{"op": "join", "ref": "1"}', "invalid"),
    ('{"op": "join", "ref": "1", "channel": "thread:1", "since": -1}', "invalid"),
    ('{"op": "join", "ref": "1", "channel": "thread:1", "since": "3"}', "invalid"),
    ('{"op": "send", "ref": "1", "channel": "thread:1"}', "invalid"),
    ('{"op": "send", "ref": "1", "channel": "thread:1", "type": "x", "data": [1]}', "invalid"),
    ('{"op": "ping", "ref": {"a": 1}}', "invalid"),
])
def test_malformed_frames_get_their_error_code(text: str, code: str) -> None:
    with pytest.raises(CollabError) as caught:
        parse(text, 65536)
    assert caught.value.code == code


def test_errors_carry_the_ref_of_the_frame() -> None:
    with pytest.raises(CollabError) as caught:
        parse('{"op": "nope", "ref": "r7"}', 65536)
    assert caught.value.extra["ref"] == "r7"


@pytest.mark.parametrize(("text", "code"), [
    # Over the limit, but read (up to twice the limit): the error still says which frame.
    ('{"op":"send","ref":"big","channel":"thread:1","type":"post.create","data":{"body":"'
     + "x" * 70_000 + '"}}', "too_large"),
    # Valid JSON that orjson refuses (a lone surrogate escape) is still a frame with a ref.
    (('{"op":"send","ref":"big","channel":"thread:1","type":"post.create",'
     '"data":{"body":"\\ud800"}}'), "bad_frame"),
])
def test_a_frame_refused_whole_still_gets_its_ref(text: str, code: str) -> None:
    with pytest.raises(CollabError) as caught:
        parse(text, 65536)
    assert caught.value.code == code
    assert caught.value.extra.get("ref") == "big"


def test_frames_over_the_limit_are_too_large_even_in_multibyte_text() -> None:
    with pytest.raises(CollabError) as caught:
        parse('{"op":"ping","ref":"' + "é" * 40 + '"}', 64 + 20)
    assert caught.value.code == "too_large"


def test_a_valid_join_and_send() -> None:
    join = parse('{"op":"join","ref":1,"channel":"thread:9","since":4}', 65536)
    assert (join.op, join.ref, join.channel, join.since) == ("join", "1", "thread:9", 4)
    send = parse('{"op":"send","ref":"s","channel":"thread:9","type":"post.create",'
                 '"data":{"body":"hi"}}', 65536)
    assert (send.type, send.data) == ("post.create", {"body": "hi"})
