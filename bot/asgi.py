"""Plain ASGI: the types, and reading a request and answering it without a web framework (for
the hot routes of bot/web.py, which carry every chat message)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def header(scope: Scope, name: bytes) -> bytes:
    """The first value of a request header (name in lower case), b"" when it is missing."""
    for key, value in scope.get("headers", []):
        if key == name:
            return bytes(value)
    return b""


def client(scope: Scope) -> str:
    host, *_ = scope.get("client") or ("?",)
    return str(host)


async def read_body(receive: Receive) -> bytes:
    """The whole request body (the body limit in front of the route caps its size)."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


async def respond(send: Send, status: int, body: bytes = b"", *, allow: str = "") -> None:
    headers = [(b"content-length", str(len(body)).encode())]
    if body:
        headers.append((b"content-type", b"text/plain; charset=utf-8"))
    if allow:
        headers.append((b"allow", allow.encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
