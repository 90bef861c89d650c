"""The /ws wire format: parsing client frames and building server frames (docs/protocol.md)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import orjson

from collab.errors import BadFrame, CollabError, Invalid, TooLarge, UnknownOp

CLIENT_OPS = ("join", "leave", "send", "ping")
MAX_REF_LENGTH = 128
MAX_CHANNEL_LENGTH = 200
MAX_KEY_LENGTH = 64
MAX_EPOCH_LENGTH = 64


@dataclass(slots=True)
class ClientFrame:
    op: str
    ref: str | None
    channel: str | None = None
    since: int | None = None
    epoch: str | None = None
    type: str | None = None
    data: dict[str, Any] | None = None
    key: str | None = None


def _ref(obj: dict[str, Any]) -> str | None:
    ref = obj.get("ref")
    if ref is None:
        return None
    if isinstance(ref, (int, float)) and not isinstance(ref, bool):
        ref = str(ref)
    if not isinstance(ref, str) or len(ref) > MAX_REF_LENGTH:
        raise Invalid(f"ref must be a string of at most {MAX_REF_LENGTH} characters")
    return ref


def _with_ref(exc: CollabError, text: str, max_bytes: int) -> CollabError:
    """`exc` with the ref of the frame it refuses whole, when one can be read: a frame within
    twice the limit (what the server reads at all), or JSON that the standard library takes
    and orjson does not (a lone surrogate escape). The error path only: the parse is slow."""
    if len(text) <= 2 * max_bytes:
        try:
            obj = json.loads(text)
            ref = _ref(obj) if isinstance(obj, dict) else None
        except (ValueError, RecursionError, CollabError):
            ref = None
        if ref is not None:
            exc.extra["ref"] = ref
    return exc


def parse(text: str, max_bytes: int) -> ClientFrame:
    """Parse one client frame; raises the CollabError whose code the client should see."""
    if len(text) > max_bytes or (len(text) * 4 > max_bytes and len(text.encode()) > max_bytes):
        raise _with_ref(TooLarge(f"frame is larger than {max_bytes} bytes"), text, max_bytes)
    try:
        obj = orjson.loads(text)
    except orjson.JSONDecodeError:
        raise _with_ref(BadFrame("frame is not valid JSON"), text, max_bytes) from None
    if not isinstance(obj, dict):
        raise BadFrame("frame must be a JSON object")
    ref = _ref(obj)
    try:
        return _parse_object(obj, ref)
    except CollabError as exc:
        if ref is not None:
            exc.extra["ref"] = ref  # every answer to a frame carries its ref, errors too
        raise


def _parse_object(obj: dict[str, Any], ref: str | None) -> ClientFrame:
    op = obj.get("op")
    if not isinstance(op, str):
        raise BadFrame("frame has no op")
    if op not in CLIENT_OPS:
        raise UnknownOp(f"unknown op {op[:40]!r}; expected one of {', '.join(CLIENT_OPS)}")
    frame = ClientFrame(op=op, ref=ref)
    if op == "ping":
        return frame
    channel = obj.get("channel")
    if not isinstance(channel, str) or ":" not in channel or len(channel) > MAX_CHANNEL_LENGTH:
        raise Invalid("channel must be a string KIND:ID")
    frame.channel = channel
    if op == "join":
        since = obj.get("since")
        if since is not None and (not isinstance(since, int) or isinstance(since, bool) or since < 0):
            raise Invalid("since must be a non-negative integer")
        frame.since = since
        epoch = obj.get("epoch")
        if epoch is not None and (not isinstance(epoch, str) or len(epoch) > MAX_EPOCH_LENGTH):
            raise Invalid(f"epoch must be a string of at most {MAX_EPOCH_LENGTH} characters")
        frame.epoch = epoch
    elif op == "send":
        type_ = obj.get("type")
        if not isinstance(type_, str) or not type_ or len(type_) > 64:
            raise Invalid("send needs a type")
        data = obj.get("data", {})
        if data is None:
            data = {}
        if not isinstance(data, dict):
            raise Invalid("data must be a JSON object")
        key = obj.get("key")
        if key is not None and (not isinstance(key, str) or not key
                                or len(key) > MAX_KEY_LENGTH):
            raise Invalid(f"key must be a string of 1 to {MAX_KEY_LENGTH} characters")
        frame.type, frame.data, frame.key = type_, data, key
    return frame


def dumps(obj: dict[str, Any]) -> str:
    return orjson.dumps(obj).decode()


def error_frame(code: str, message: str, ref: str | None = None, **extra: Any) -> str:
    frame: dict[str, Any] = {"op": "error"}
    if ref is not None:
        frame["ref"] = ref
    frame["code"] = code
    frame["message"] = message
    frame.update(extra)
    return dumps(frame)

