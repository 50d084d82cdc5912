"""The wallet gathers what a resident holds from every capability: vouchers, tickets, the transit
pass, digital keys, pickup codes. Each capability registers a source:

    wallet.register_source("vouchers", list_vouchers)

where `list_vouchers(uow, city, citizen_id, now) -> list[WalletEntry]` (dates in the city's
time zone). The wallet flow shows them all;
an entry's `action`/`arg` is the button that opens its details (owned by the capability).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime

from services.city import City
from storage.uow import UnitOfWork


@dataclass(frozen=True)
class WalletEntry:
    kind: str  # "voucher", "ticket", "transit_pass", "key", "pickup"
    title: str  # a msgid; its parameters in `title_params`
    code: str  # the bearer code (shown as text and QR)
    status: str  # "valid", "upcoming" (paid, starts later), "used", "expired", "pending" ...
    valid_until: date | None = None
    valid_from: date | None = None
    balance_cents: int | None = None
    action: str = ""  # button that opens the details
    arg: str = ""
    title_params: tuple[tuple[str, str], ...] = ()
    sort_at: datetime | None = None


WalletSource = Callable[[UnitOfWork, City, int, datetime], Awaitable[list[WalletEntry]]]
SOURCES: dict[str, WalletSource] = {}


def register_source(name: str, source: WalletSource) -> None:
    SOURCES[name] = source


async def entries(uow: UnitOfWork, city: City, citizen_id: int, now: datetime) -> list[WalletEntry]:
    found: list[WalletEntry] = []
    for source in SOURCES.values():
        found.extend(await source(uow, city, citizen_id, now))
    return found
