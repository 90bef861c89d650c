"""The host exports the Q&A and the chat as CSV and Markdown: what was said, in order, by whom,
without deleted messages or unapproved questions, and never as a spreadsheet formula."""

from __future__ import annotations

import csv
import io

import pytest
from support.api import Api, User
from support.servers import LiveServer
from support.webinars import host_webinar, members
from support.wsclient import WSClient

pytestmark = pytest.mark.anyio


def _page_session(server: LiveServer, user: User) -> Api:
    browser = Api(server.base_url)
    browser.login_session(user.username, user.password)
    return browser


async def test_the_host_exports_questions_and_chat_safely(server: LiveServer, api: Api,
                                                          admin: User) -> None:
    web = host_webinar(api, admin)
    [asker, chatter] = members(server, 2)
    async with await WSClient.connect(server.ws_url, token=asker.token) as a, \
            await WSClient.connect(server.ws_url, token=chatter.token) as c, \
            await WSClient.connect(server.ws_url, token=admin.token) as host:
        for s in (a, c, host):
            await s.join_ok(web.channel)
        asked = await a.send_action(web.channel, "question.ask",
                                    {"body": "=HYPERLINK(\"x\") | what about *lots*?"})
        assert asked["op"] == "ack"
        await c.send_action(web.channel, "question.upvote", {"question_id": asked["data"]["id"]})
        await c.send_action(web.channel, "chat.send", {"body": "Hello | all\nsecond line"})
        gone = await c.send_action(web.channel, "chat.send", {"body": "Delete me"})
        await host.send_action(web.channel, "chat.delete", {"message_id": gone["data"]["id"]})
        await a.send_action(web.channel, "chat.send", {"body": "@sum(1)"})

    with _page_session(server, admin) as browser:
        r = browser.http.get(f"/webinars/{web.id}/export/questions.csv")
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
        assert "attachment" in r.headers["content-disposition"]
        rows = list(csv.reader(io.StringIO(r.text)))
        assert rows[0] == ["asked_at", "author", "question", "votes", "state", "answered_at"]
        assert rows[1][2] == "'=HYPERLINK(\"x\") | what about *lots*?" and rows[1][3] == "1"
        chat = list(csv.reader(io.StringIO(
            browser.http.get(f"/webinars/{web.id}/export/chat.csv").text)))
        assert [row[2] for row in chat[1:]] == ["Hello | all\nsecond line", "'@sum(1)"]
        md = browser.http.get(f"/webinars/{web.id}/export/chat.md")
        assert md.headers["content-type"].startswith("text/markdown")
        lines = md.text.splitlines()
        assert lines[2] == "| sent_at | author | message |"
        assert "Hello \\| all second line |" in md.text and "Delete me" not in md.text
        q_md = browser.http.get(f"/webinars/{web.id}/export/questions.md").text
        assert "what about \\*lots\\*?" in q_md
        # The webinar page offers the files to its host.
        assert f'href="/webinars/{web.id}/export/chat.csv"' in \
            browser.http.get(f"/webinars/{web.id}").text
        assert browser.http.get(f"/webinars/{web.id}/export/chat.pdf").status_code == 404
        assert browser.http.get(f"/webinars/{web.id}/export/votes.csv").status_code == 404
        assert browser.http.get("/webinars/2147483647/export/chat.csv").status_code == 404

    # An attendee may not export (the files name everyone), nor may a visitor.
    with _page_session(server, asker) as browser:
        assert browser.http.get(f"/webinars/{web.id}/export/chat.csv").status_code == 403
        assert "export/chat.csv" not in browser.http.get(f"/webinars/{web.id}").text
    r = api.http.get(f"/webinars/{web.id}/export/chat.csv")
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
