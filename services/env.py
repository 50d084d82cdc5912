"""The running program's environment: one typed object, built once at start (bot/bootstrap.py)
and handed on explicitly — to flows as `ctx.env`, to payment hooks and to jobs as a parameter.

Nothing in it is reached through a module global: a test builds its own `Env` with fakes. The
channel extensions fill their slots while the program is wired (a payment provider, the chat's
deep links, the chat-security checks); after that it is only read.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from services.city import City
from services.clock import Clock
from services.notify import Notifier
from services.payments.provider import PaymentProvider

ChatLink = Callable[[str], str]  # payload -> URL that opens the chat and runs /start <payload>
ChatSecurityCheck = Callable[[str], Awaitable[bool | None]]  # chat id -> end-to-end encrypted?


@dataclass
class Links:
    """Addresses the program hands out: pages of its web app and links into the chat."""

    public_url: str = "http://127.0.0.1:8080"
    chat_link: ChatLink | None = None  # set by the Telegram channel (https://t.me/<bot>?start=)

    def public(self, path: str = "") -> str:
        """A page of the web app: links.public("/pay/demo/12-abc")."""
        return self.public_url.rstrip("/") + path

    @property
    def host(self) -> str:
        return urlsplit(self.public_url).hostname or "stadtlotse"

    def start(self, payload: str) -> str:
        """What a QR code or a gift link carries: a chat deep link when a channel offers one,
        else the command to type in any channel."""
        link = self.chat_link(payload) if self.chat_link is not None else ""
        return link or f"/start {payload}"


@dataclass
class Env:
    city: City
    clock: Clock
    links: Links = field(default_factory=Links)
    payments: PaymentProvider | None = None  # None: nothing can be paid (no provider wired)
    # unused: signing goes through services/trust/tokens.py with the unit of work, whose
    # key_secret the trust extension sets at start
    signer: Any = None
    chat_security: dict[str, ChatSecurityCheck] = field(default_factory=dict)  # per channel
    notifier: Notifier = field(init=False)

    def __post_init__(self) -> None:
        self.notifier = Notifier(self.city)

    def now(self) -> datetime:
        return self.clock.now()
