"""An ASGI guard in front of the whole app: request body size limits and the login limit.

- A body over its limit is refused with 413, whether or not the client declared its length
  (a chunked body is counted as it arrives). Gradio's upload route gets the upload limit,
  everything else a small one: no question, history or event needs more.
- A client with too many failed logins (Gradio's /login, or a wrong HTTP Basic login that the
  API reports with 401) gets 429 from every login route until the limiter lets it try again.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from policyqa.app.auth import LoginLimiter, client_key

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class _TooLarge(Exception):
    pass


async def _json(send: Send, status: int, body: dict[str, Any], headers: Any = ()) -> None:
    data = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(data)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": data})


def is_login(scope: Scope) -> bool:
    path = str(scope.get("path", "")).rstrip("/")
    return scope.get("method") == "POST" and path.endswith("/login")


def has_basic_auth(scope: Scope) -> bool:
    return any(
        k == b"authorization" and v[:6].lower() == b"basic " for k, v in scope.get("headers", [])
    )


class RequestGuard:
    def __init__(
        self,
        app: ASGIApp,
        limiter: LoginLimiter,
        body_limit: int,
        upload_limit: int,
        upload_prefix: str = "/",
    ) -> None:
        self.app = app
        self.upload_prefix = upload_prefix
        self.limiter = limiter
        self.body_limit = body_limit
        self.upload_limit = upload_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        client = client_key(scope)
        login = is_login(scope) or has_basic_auth(scope)
        if login and self.limiter.blocked(client):
            wait = self.limiter.retry_after(client)
            await _json(
                send,
                429,
                {"error": f"Too many failed logins. Try again in {wait} seconds."},
                [(b"retry-after", str(wait).encode())],
            )
            return
        path = str(scope.get("path", ""))
        upload = path.startswith(self.upload_prefix) and path.rstrip("/").endswith("/upload")
        limit = self.upload_limit if upload else self.body_limit
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _too_large(send, limit)
            return
        received = 0
        started = overflow = False

        async def counted_receive() -> Message:
            nonlocal received, overflow
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    overflow = True
                    raise _TooLarge
            return message

        async def watched_send(message: Message) -> None:
            nonlocal started
            if overflow:  # the app caught the error and answered: the answer is a 413
                if not started:
                    started = True
                    await _too_large(send, limit)
                return
            if message["type"] == "http.response.start":
                started = True
                status = int(message["status"])
                if (is_login(scope) and status in (400, 401)) or (login and status == 401):
                    self.limiter.failed(client)
            await send(message)

        try:
            await self.app(scope, counted_receive, watched_send)
        except _TooLarge:
            if not started:
                await _too_large(send, limit)
        except Exception:
            # Frameworks wrap errors raised by receive(); a body over the limit is still a 413.
            if not overflow:
                raise
            if not started:
                await _too_large(send, limit)


async def _too_large(send: Send, limit: int) -> None:
    await _json(
        send, 413, {"error": f"The request is too large (the limit is {limit / 1e6:g} MB)."}
    )
