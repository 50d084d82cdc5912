"""What a chat channel offers the rest of the program."""

from __future__ import annotations

from typing import Protocol

from flows.types import Reply


class DeliveryError(Exception):
    """Sending failed; the subclass says what to do about it."""


class RetryAfter(DeliveryError):
    """The channel asked us to slow down (HTTP 429): wait `seconds`, then try again."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"retry after {seconds} s")
        self.seconds = seconds


class TransientError(DeliveryError):
    """Network trouble or a 5xx: try again later with backoff."""


class Unreachable(DeliveryError):
    """The person blocked the bot or left the room: stop sending to this chat."""


class Rejected(DeliveryError):
    """The channel refused the message itself (bad request): retrying will not help."""


class Channel(Protocol):
    name: str

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def deliver(self, chat_id: str, reply: Reply, *, thread: str = "") -> str:
        """Send one message; return the channel's message id. Raises DeliveryError."""
        ...
