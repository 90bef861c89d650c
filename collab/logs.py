"""Secrets never reach a log line: `?token=…` in a logged URL is written as `token=[redacted]`.

Browsers cannot set headers on a WebSocket, so `/ws?token=SECRET` is how scripts in a page
and some clients sign a socket in; uvicorn logs every WebSocket upgrade's path with its query
at INFO (`"WebSocket /ws?token=…" [accepted]`), and the access log does the same for HTTP.

`install()` puts `RedactSecrets` on uvicorn's loggers; `create_app()` calls it, so both
`collab serve` and a plain `uvicorn collab.app:app` redact. With another server or your own
logging configuration, add `collab.logs.RedactSecrets` as a filter on your handlers.

collab's own loggers (`collab.*`) had no handler: their warnings reached stderr through
Python's last-resort handler, with neither time nor level, and their INFO lines not at all.
Unless the process configured logging itself (a handler on the root logger), `install()` gives
them one that writes `2026-01-31 12:00:00,123 WARNING collab.bus: …` to stderr, INFO and up.
"""

from __future__ import annotations

import logging
import re
from typing import Any

# The query parameters that carry a secret, and what follows up to the next `&`, space,
# quote or end. Percent-encoded names (`%74oken`) are not decoded by uvicorn either.
_SECRET_PARAM = re.compile(r"(?i)([?&;](?:access_)?token=)[^&\s\"';]*")
REDACTED = "[redacted]"
LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access", "collab")
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def redact(text: str) -> str:
    return _SECRET_PARAM.sub(r"\1" + REDACTED, text)


def _redact_arg(value: Any) -> Any:
    return redact(value) if isinstance(value, str) else value


class RedactSecrets(logging.Filter):
    """Rewrites a record's message and arguments; keeps the shape of `args` (uvicorn's access
    formatter unpacks them as a 5-tuple)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_redact_arg(arg) for arg in record.args)
        elif isinstance(record.args, dict):
            record.args = {key: _redact_arg(arg) for key, arg in record.args.items()}
        return True


class _CollabHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The handler `install()` gives collab's loggers (told apart from an operator's own)."""


def install() -> None:
    """Add the filter to uvicorn's and collab's loggers, and a handler with time and level to
    collab's unless logging is configured already (once)."""
    for name in LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactSecrets) for f in logger.filters):
            logger.addFilter(RedactSecrets())
    collab = logging.getLogger("collab")
    if not collab.handlers and not logging.getLogger().handlers:
        handler = _CollabHandler()  # stderr
        handler.setFormatter(logging.Formatter(LOG_FORMAT))
        handler.addFilter(RedactSecrets())
        collab.addHandler(handler)
        if collab.level == logging.NOTSET:
            collab.setLevel(logging.INFO)
        collab.propagate = False
