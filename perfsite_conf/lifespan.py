"""``with_lifespan``: an ASGI application that flushes at the server's shutdown.

Django's ``ASGIHandler`` refuses the ``lifespan`` scope. What the apps buffer
(statistics, purges, counters, profiles, writes Redis missed) is flushed by
the interpreter's exit handlers, which a worker of some servers never runs;
wrapped, the application answers the lifespan protocol and runs
``perfsite_conf.background.shutdown`` (in a thread: flushes are network
writes) before it reports the shutdown complete.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from perfsite_conf.background import shutdown

ASGIApp = Callable[[Any, Any, Any], Awaitable[None]]  # (scope, receive, send)


def with_lifespan(app: ASGIApp) -> ASGIApp:
    async def application(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "lifespan":
            await app(scope, receive, send)
            return
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await asyncio.get_running_loop().run_in_executor(None, shutdown)
                await send({"type": "lifespan.shutdown.complete"})
                return

    return application
