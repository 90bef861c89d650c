"""The host's console and presenter screen as pages: the approval queue first, a slow mode
chosen in words, no "Mark answered" on an answered question, and a presenter screen of the
top open questions and open polls that only the host and moderators open."""

from __future__ import annotations

import re

import pytest
from support.api import Api, User
from support.servers import LiveServer
from support.webinars import host_webinar, members
from support.wsclient import WSClient

pytestmark = pytest.mark.anyio


async def test_console_and_presenter_screen(server: LiveServer, api: Api, admin: User) -> None:
    web = host_webinar(api, admin)
    [asker] = members(server, 1)
    async with await WSClient.connect(server.ws_url, token=asker.token) as a, \
            await WSClient.connect(server.ws_url, token=admin.token) as host:
        for s in (a, host):
            await s.join_ok(web.channel)
        done = (await a.send_action(web.channel, "question.ask", {"body": "Answered one"}))
        await a.send_action(web.channel, "question.ask", {"body": "Still open"})
        await host.send_action(web.channel, "question.answer", {"question_id": done["data"]["id"]})
        await host.send_action(web.channel, "poll.create",
                               {"question": "Which lot size?", "options": ["Small", "Large"]})
        await host.send_action(web.channel, "chat.slow_mode", {"seconds": 30})

    with Api(server.base_url) as browser:
        browser.login_session(admin.username, admin.password)
        console = browser.http.get(f"/webinars/{web.id}/console").text
        assert console.index('id="pending-heading"') < console.index('id="chat-heading"')
        assert '<option value="30" selected>Once every 30 seconds</option>' in console
        answered = re.search(r'<li id="question-\d+"[^>]*data-state="answered".*?</li>', console,
                             re.DOTALL)
        assert answered and "Mark answered" not in answered.group(0)
        still = re.search(r'<li id="question-\d+"[^>]*data-state="open".*?</li>', console, re.DOTALL)
        assert still and "Mark answered" in still.group(0)
        assert f'href="/webinars/{web.id}/present"' in console

        screen = browser.http.get(f"/webinars/{web.id}/present")
        assert screen.status_code == 200
        assert "Still open" in screen.text and "Which lot size?" in screen.text
        assert f'ws-connect="/ws/html?channel=webinar:{web.id}' in screen.text

    with Api(server.base_url) as browser:
        browser.login_session(asker.username, asker.password)
        assert browser.http.get(f"/webinars/{web.id}/present").status_code == 403
    anonymous = api.http.get(f"/webinars/{web.id}/present")
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")
