"""City vouchers (Stadtgutschein): the voucher, its ledger, subsidised offers, acceptance points."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from storage.types import moment_field

PENDING, ACTIVE, CANCELLED, REFUNDED, EXPIRED = (
    "pending",
    "active",
    "cancelled",
    "refunded",
    "expired",
)
CLOSED = "closed"  # its holder deleted their data: the balance was booked out (FORFEIT)
ISSUE, REDEEM, UNDO, EXPIRE, REFUND = "issue", "redeem", "undo", "expire", "refund"
FORFEIT = "forfeit"


class Voucher(SQLModel, table=True):
    """One voucher. `balance_cents` caches the sum of its ledger entries and is only changed by a
    conditional update in the same statement that books an entry. Kept (anonymised) after a
    resident's deletion: the money is bookkeeping."""

    __tablename__ = "voucher"
    __table_args__ = {"info": {"erase": "anonymise"}}

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=16, unique=True)  # bearer code, changes when gifted
    citizen_id: int = Field(foreign_key="citizen.id", index=True)  # who holds it
    value_cents: int  # face value when issued
    price_cents: int  # what the buyer paid (less with a subsidised offer, 0 for campaigns)
    balance_cents: int = 0
    status: str = Field(default=PENDING, max_length=12, index=True)
    origin: str = Field(default="purchase", max_length=20)  # purchase, campaign, demo
    offer: str = Field(default="", max_length=50)  # subsidised offer key
    payment_id: int | None = Field(default=None, foreign_key="payment.id", index=True)
    valid_until: date
    gift_code: str | None = Field(default=None, max_length=16, unique=True)  # pending gift
    gift_from_citizen_id: int | None = Field(default=None, foreign_key="citizen.id")
    created_at: datetime = moment_field()
    activated_at: datetime | None = moment_field(nullable=True)


class VoucherEntry(SQLModel, table=True):
    """The ledger: issue (+), redeem (-), undo (+), expire (-), refund (-). Append-only."""

    __tablename__ = "voucher_entry"
    __table_args__ = (
        Index("ix_voucher_entry_merchant_at", "merchant_key", "at"),
        {"info": {"erase": "anonymise"}},
    )

    id: int | None = Field(default=None, primary_key=True)
    voucher_id: int = Field(foreign_key="voucher.id", index=True)
    kind: str = Field(max_length=10)
    amount_cents: int  # signed
    at: datetime = moment_field(index=True)
    merchant_key: str | None = Field(default=None, max_length=100)
    actor_citizen_id: int | None = Field(default=None, foreign_key="citizen.id")
    idempotency_key: str | None = Field(default=None, max_length=100, unique=True)
    undoes_entry_id: int | None = Field(default=None, foreign_key="voucher_entry.id", unique=True)


class VoucherOfferUsage(SQLModel, table=True):
    """How much of a subsidised offer's budget is reserved or used (pending and paid)."""

    __tablename__ = "voucher_offer_usage"
    __table_args__ = {"info": {"erase": "keep"}}

    offer: str = Field(primary_key=True, max_length=50)
    subsidy_cents: int = 0
    count: int = 0


class MerchantPoint(SQLModel, table=True):
    """An acceptance point added by an admin (`stadtlotse merchant add`); the city configuration
    holds the others."""

    __tablename__ = "merchant_point"
    __table_args__ = {"info": {"erase": "keep"}}

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=100, unique=True)
    name: str = Field(max_length=200)
    address: str = Field(default="", max_length=300)
    category: str = Field(default="", max_length=50)
    active: bool = True
    created_at: datetime = moment_field()
