"""Marketing voucher campaigns: the residents' consent to news and offers, the campaigns and who
claimed which voucher."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.types import moment_field

DRAFT, SENT, STOPPED = "draft", "sent", "stopped"


class NewsConsent(SQLModel, table=True):
    """A resident's current answer to "news and offers from the town". No row means no consent
    (GDPR: consent is explicit). Every change is in the audit log too (`news.opt_in/out`)."""

    __tablename__ = "news_consent"
    __table_args__ = {"info": {"erase": "delete"}}

    citizen_id: int = Field(foreign_key="citizen.id", primary_key=True)
    opted_in: bool = Field(default=False, index=True)
    changed_at: datetime = moment_field()
    via: str = Field(default="", max_length=20)  # command, profile, button


class Campaign(SQLModel, table=True):
    """A voucher campaign. `claimed` counts the vouchers given out; it only changes in a
    conditional update (`claimed < total`), so no more than `total` are ever issued."""

    __tablename__ = "campaign"
    __table_args__ = {"info": {"erase": "keep"}}

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=120)
    text_de: str = Field(max_length=1000)
    text_en: str = Field(default="", max_length=1000)
    value_cents: int
    total: int  # vouchers on offer, first come first served
    claimed: int = 0
    claim_until: datetime = moment_field()
    residents_only: bool = False  # only residents whose postal code is the town's
    status: str = Field(default=DRAFT, max_length=10, index=True)
    recipients: int = 0  # notifications written when sent
    created_by: int | None = Field(default=None, foreign_key="citizen.id")
    created_at: datetime = moment_field()
    sent_at: datetime | None = moment_field(nullable=True)
    stopped_at: datetime | None = moment_field(nullable=True)

    @property
    def left(self) -> int:
        return max(0, self.total - self.claimed)


class CampaignClaim(SQLModel, table=True):
    """One resident's voucher from one campaign (at most one each)."""

    __tablename__ = "campaign_claim"
    __table_args__ = (
        UniqueConstraint("campaign_id", "citizen_id"),
        {"info": {"erase": "anonymise"}},
    )

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", index=True)
    citizen_id: int = Field(foreign_key="citizen.id", index=True)
    voucher_id: int = Field(foreign_key="voucher.id", unique=True)
    claimed_at: datetime = moment_field()
