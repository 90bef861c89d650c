"""`/`: the front door. What is new in every product, asked of each domain (`whats_new`).

Blocks are gathered at once; a domain whose block fails or is slow (past BLOCK_TIMEOUT) is
left out rather than holding the page, which everyone opens first.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from collab.accounts.auth import current_user
from collab.domain import HomeBlock
from collab.web import render

BLOCK_TIMEOUT = 2.0
log = logging.getLogger("collab.site")


async def blocks(domains: list[Any], viewer: Any) -> list[HomeBlock]:
    asked = [d for d in domains if d.whats_new is not None]

    async def ask(domain: Any) -> Sequence[HomeBlock]:
        try:
            return await asyncio.wait_for(domain.whats_new(viewer), BLOCK_TIMEOUT)
        except TimeoutError:
            log.warning("front door: %s's blocks took over %.0f s", domain.name, BLOCK_TIMEOUT)
            return ()

    found = await asyncio.gather(*(ask(d) for d in asked))
    shown = [b for blocks in found for b in blocks if b.items or b.empty is not None]
    return sorted(shown, key=lambda b: b.order)


async def home(request: Request) -> Response:
    user = await current_user(request)
    return render(request, "site/home.html",
                  {"blocks": await blocks(request.app.state.domains, user)})
