"""A bare ASGI app for test_direct_writes: says whether collab could write frames directly."""

from __future__ import annotations

from typing import Any

from collab.realtime.wire import DirectWriter, text_frame


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] != "websocket":
        return
    await receive()
    await send({"type": "websocket.accept"})
    writer = DirectWriter.for_send(send)
    if writer is None:
        await send({"type": "websocket.send", "text": "direct=off"})
    else:
        # The frame goes straight to the transport, past the ASGI send.
        assert writer.ready() and writer.write(text_frame(b"direct=on"))
    await receive()
