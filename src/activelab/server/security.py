"""Shared protections of the web servers: tokens, request-size limit, response headers.

Reusable by every FastAPI app of the package:

- :func:`token_from_headers` reads ``Authorization: Bearer <token>`` (or ``X-Activelab-Token``).
- :class:`BodySizeLimit` answers 413 to requests whose body exceeds a limit, whether or not they
  announce a ``Content-Length``.
- :class:`SecurityHeaders` adds a strict Content-Security-Policy and friends to every response.
"""

from __future__ import annotations

import json
import math
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from typing import Any

__all__ = ["token_from_headers", "BodySizeLimit", "SecurityHeaders", "DEFAULT_MAX_BODY_BYTES",
           "validation_error_response"]

DEFAULT_MAX_BODY_BYTES = 1 << 20

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def token_from_headers(headers: Mapping[str, str]) -> str | None:
    """The access token of a request, from ``Authorization: Bearer`` or ``X-Activelab-Token``."""
    auth = headers.get("authorization") or ""
    if auth[:7].lower() == "bearer ":
        return auth[7:].strip() or None
    token = headers.get("x-activelab-token")
    return token.strip() if token else None


async def _reply(send: Send, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


class BodySizeLimit:
    """ASGI middleware: refuse request bodies larger than ``max_bytes`` with 413.

    Parameters
    ----------
    app : ASGI app
    max_bytes : int, default=1 MiB
    """

    def __init__(self, app: ASGIApp, max_bytes: int = DEFAULT_MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = int(max_bytes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1")
                   for k, v in scope.get("headers", [])}
        length = headers.get("content-length")
        too_big = f"request body larger than {self.max_bytes} bytes"
        if length is not None:
            try:
                if int(length) > self.max_bytes:
                    await _reply(send, 413, too_big)
                    return
            except ValueError:
                await _reply(send, 400, "invalid Content-Length header")
                return
        if length is not None:
            await self.app(scope, receive, send)  # the server enforces the announced length
            return
        # no length announced (chunked): read up to the limit first, then replay
        chunks: list[bytes] = []
        seen = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # client went away
            body = message.get("body", b"")
            seen += len(body)
            if seen > self.max_bytes:
                await _reply(send, 413, too_big)
                return
            chunks.append(body)
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


class SecurityHeaders:
    """ASGI middleware adding CSP, no-sniff, frame and referrer headers to every response."""

    HEADERS = [
        (b"content-security-policy",
         b"default-src 'self'; img-src 'self' blob: data:; style-src 'self'; script-src 'self'; "
         b"object-src 'none'; frame-ancestors 'none'; base-uri 'none'"),
        (b"x-content-type-options", b"nosniff"),
        (b"x-frame-options", b"DENY"),
        (b"referrer-policy", b"no-referrer"),
        (b"cache-control", b"no-store"),
    ]

    #: FastAPI's interactive API pages load their script from a CDN and run inline code.
    DOCS_CSP = (b"default-src 'self'; img-src 'self' data: https://fastapi.tiangolo.com; "
                b"style-src 'self' https://cdn.jsdelivr.net; "
                b"script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
                b"object-src 'none'; frame-ancestors 'none'")

    def __init__(self, app: ASGIApp, docs_paths: tuple[str, ...] = ("/docs", "/redoc")) -> None:
        self.app = app
        self.docs_paths = docs_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = self.HEADERS
        if scope.get("path") in self.docs_paths:
            headers = [(self.HEADERS[0][0], self.DOCS_CSP), *self.HEADERS[1:]]

        async def add_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {k.lower() for k, _ in message.get("headers", [])}
                message["headers"] = list(message.get("headers", [])) + [
                    (k, v) for k, v in headers if k not in present]
            await send(message)

        await self.app(scope, receive, add_headers)


def _finite(value: Any) -> Any:
    """``value`` with NaN and infinities written as strings (JSON has no such numbers)."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


async def validation_error_response(_request: Any, exc: Any) -> Any:
    """FastAPI handler of ``RequestValidationError``: 422 with the errors, whatever the input.

    FastAPI's own handler echoes the input, and NaN or Infinity in it cannot be written as
    JSON: the answer became a 500 and a reset connection.
    """
    from fastapi.encoders import jsonable_encoder
    from fastapi.responses import JSONResponse

    return JSONResponse({"detail": _finite(jsonable_encoder(exc.errors()))}, status_code=422)
