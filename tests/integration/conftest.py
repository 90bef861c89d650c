"""The integration suite's loop-lag guard (tests/support/loopguard.py): a test during which a
server's event loop was held over 250 ms fails, so the next quadratic path is found here."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from support.loopguard import LoopGuard, verdict


@pytest.fixture(autouse=True)
def loop_lag_guard(request: pytest.FixtureRequest) -> Iterator[LoopGuard]:
    # Autouse and requested first, so it is torn down last: the servers a test started have
    # been stopped (and have written what they recorded) by the time it reads their stalls.
    guard = LoopGuard()
    yield guard
    failure = verdict(guard.finish())
    if failure is not None and request.node.get_closest_marker("loop_stall") is None:
        pytest.fail(failure, pytrace=False)
