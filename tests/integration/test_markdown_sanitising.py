"""Post bodies are Markdown rendered and sanitised on the server (PROTOCOL.md, Forum): no script,
no event handlers, no `javascript:` links reach any client."""

from __future__ import annotations

import pytest
from support.api import Forum
from support.wsclient import WSClient

pytestmark = pytest.mark.anyio

HOSTILE = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "[x](javascript:alert(1))",
    "[y](JaVaScRiPt:alert(1))",
    '<a href="javascript:alert(1)" onclick="alert(1)">z</a>',
    "<svg onload=alert(1)></svg>",
    '<iframe src="javascript:alert(1)"></iframe>',
    "![img](javascript:alert(1))",
    "<div style=\"background:url(javascript:alert(1))\" onmouseover=alert(1)>d</div>",
]


def assert_clean(html: str) -> None:
    lowered = html.lower()
    assert "<script" not in lowered, html
    assert "onerror" not in lowered and "onload" not in lowered, html
    assert "onclick" not in lowered and "onmouseover" not in lowered, html
    assert "javascript:" not in lowered, html
    assert "<iframe" not in lowered, html


@pytest.mark.parametrize("hostile", HOSTILE)
async def test_hostile_markdown_is_sanitised_for_every_reader(forum: Forum, hostile: str) -> None:
    body = f"Harmless **bold** text.\n\n{hostile}\n\nAnd a [real link](https://example.org/)."
    writer = await WSClient.connect(forum.server.ws_url, token=forum.admin.token, name="writer")
    reader = await WSClient.connect(forum.server.ws_url, name="reader")
    try:
        await writer.join_ok(forum.channel)
        await reader.join_ok(forum.channel)
        seq = await writer.post(forum.channel, body)
        [event] = await reader.events(forum.channel, 1)
    finally:
        await writer.close()
        await reader.close()
    assert event["seq"] == seq and event["type"] == "post.created"
    html = event["data"]["body_html"]
    assert_clean(html)
    # Sanitising keeps the Markdown that is fine.
    assert "<strong>bold</strong>" in html
    assert 'href="https://example.org/"' in html

    # The stored copy served over HTTP is the same sanitised HTML.
    thread = forum.api.get_thread(forum.thread_id)
    stored = [p for p in thread["posts"] if p.get("seq") == seq]
    assert stored, f"post with seq {seq} not in GET /api/threads/{forum.thread_id}"
    if "body_html" in stored[0]:
        assert_clean(stored[0]["body_html"])
