"""Payments: one row per checkout, whatever it pays for (voucher, auction item, transit pass)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.types import moment_field

CREATED, PAID, FAILED, EXPIRED, CANCELLED, REFUNDED = (
    "created",
    "paid",
    "failed",
    "expired",
    "cancelled",
    "refunded",
)


class Payment(SQLModel, table=True):
    """Kept (anonymised) after a resident's deletion: bookkeeping requires it."""

    __tablename__ = "payment"
    __table_args__ = (
        UniqueConstraint("provider", "provider_ref"),
        {"info": {"erase": "anonymise"}},
    )

    id: int | None = Field(default=None, primary_key=True)
    citizen_id: int = Field(foreign_key="citizen.id", index=True)
    purpose: str = Field(max_length=30)  # "voucher", "auction", "transit" ...
    ref: str = Field(default="", max_length=100, index=True)  # the purpose's own id
    description: str = Field(max_length=200)  # what is bought, shown on the checkout page
    amount_cents: int
    status: str = Field(default=CREATED, max_length=12, index=True)
    provider: str = Field(default="demo", max_length=20)
    provider_ref: str | None = Field(default=None, max_length=255)  # Stripe checkout session id
    checkout_url: str | None = Field(default=None, max_length=1000)
    refunded_cents: int = 0  # refunds booked: what we owe back
    refund_sent_cents: int = 0  # of those, what the provider has confirmed paying out
    created_at: datetime = moment_field()
    expires_at: datetime = moment_field()
    paid_at: datetime | None = moment_field(nullable=True)
