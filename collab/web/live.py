"""The HTML side of the live socket: what `/ws/html` pages are sent, and the element ids.

The hub asks this renderer for every fragment (it knows no template): an event becomes the
template its channel kind lists for that type, rendered once per process; the presence list,
a reset and a refused send become the elements the pages' scripts look for by id.
"""

from __future__ import annotations

from html import escape

from collab.realtime.channels import ChannelKind
from collab.realtime.events import Event
from collab.realtime.presence import Present

from .templates import render_fragment

# Ids the browser scripts (static/live.js) look for.
RESET_ID = "collab-reset"
ERROR_ID = "ws-error"
ACK_ID = "ws-ack"


class LiveFragments:
    def event(self, kind: ChannelKind, event: Event) -> str | None:
        template = kind.fragments.get(event.type)
        if template is None:
            return None
        return render_fragment(template, event=event, data=event.data, actor=event.actor or {},
                               **kind.fragment_context(event))

    def presence(self, kind: ChannelKind, channel: str, present: Present) -> str | None:
        if kind.presence_fragment is None:
            return None
        return render_fragment(kind.presence_fragment, channel=channel,
                               members=present.members, present_count=present.count,
                               **kind.presence_view)

    def joined(self, kind: ChannelKind, channel: str, seq: int, epoch: str,
               present: Present) -> str | None:
        return self.presence(kind, channel, present) if kind.presence else None

    def reset(self, channel: str, seq: int, epoch: str) -> str:
        return (f'<div id="{RESET_ID}" hx-swap-oob="true" data-reset="{seq}" '
                f'data-channel="{escape(channel)}" data-epoch="{escape(epoch)}" hidden></div>')

    def error(self, code: str, message: str, ref: str | None) -> str:
        return (f'<div id="{ERROR_ID}" class="flash flash-error" role="alert" '
                f'hx-swap-oob="true" data-code="{escape(code)}" data-ref="{escape(ref or "")}">'
                f'{escape(message)}</div>')

    def ack(self, ref: str) -> str:
        return f'<div id="{ACK_ID}" hx-swap-oob="true" data-ref="{escape(ref)}" hidden></div>'
