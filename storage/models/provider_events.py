"""What payment providers told us: each provider object mapped to one payment, each webhook event
processed once."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.types import moment_field


class ProviderObject(SQLModel, table=True):
    """A provider's id (Stripe checkout session, payment intent, refund) -> our payment."""

    __tablename__ = "provider_object"
    __table_args__ = (
        UniqueConstraint("provider", "object_id"),
        {"info": {"erase": "keep"}},
    )

    id: int | None = Field(default=None, primary_key=True)
    provider: str = Field(max_length=20)
    object_id: str = Field(max_length=255)
    kind: str = Field(default="", max_length=40)  # "checkout.session", "refund" ...
    payment_id: int = Field(foreign_key="payment.id", index=True)
    created_at: datetime = moment_field()


class ProviderEvent(SQLModel, table=True):
    """A webhook event we processed: a replay is answered 200 and changes nothing."""

    __tablename__ = "provider_event"
    __table_args__ = (
        UniqueConstraint("provider", "event_id"),
        {"info": {"erase": "keep"}},
    )

    id: int | None = Field(default=None, primary_key=True)
    provider: str = Field(max_length=20)
    event_id: str = Field(max_length=255)
    type: str = Field(default="", max_length=80)
    payment_id: int | None = Field(default=None, foreign_key="payment.id")
    received_at: datetime = moment_field()
