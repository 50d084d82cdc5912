"""The lost-and-found auction: items, reservations (purchases), wish prices, deal alerts."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Index, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from storage.types import moment_field

LISTED, RESERVED, SOLD, ENDED, WITHDRAWN = "listed", "reserved", "sold", "ended", "withdrawn"
PENDING, PAID, COLLECTED, LAPSED, CANCELLED = "pending", "paid", "collected", "lapsed", "cancelled"
ACTIVE, WON, CLOSED = "active", "won", "closed"  # wish states besides LAPSED
HOLDING = ("pending", "paid", "collected")  # reservation states that hold the item


class AuctionItem(SQLModel, table=True):
    """An unclaimed found item offered at a price that falls every day.

    The price rule's parameters are copied from the city configuration when the item is listed,
    so a later change of the configuration never changes a running curve. The price is not
    stored: it is a pure function of the day (services/auction/price.py), computed where it is
    read (in SQL by the nightly step, services/auction/daily.py)."""

    __tablename__ = "auction_item"
    __table_args__ = (
        Index("ix_auction_item_status_category", "status", "category"),
        Index("ix_auction_item_status_ends", "status", "ends_dayno"),
        {"info": {"erase": "anonymise"}},
    )

    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(max_length=120)
    description: str = Field(default="", max_length=1000)
    category: str = Field(max_length=30)
    found_place: str = Field(default="", max_length=200)
    found_on: date
    notice_on: date  # public notice (§ 980 BGB)
    photo_file_id: int | None = Field(default=None, foreign_key="stored_file.id")
    start_cents: int
    floor_cents: int
    variant: str = Field(default="linear", max_length=10)
    rate_bp: int = 100  # basis points of the price taken per day: 100 = 1 %
    rounding: str = Field(default="half_up", max_length=10)
    start_dayno: int  # ordinal of the local day the auction started (day 0)
    floor_dayno: int  # first local day on which the price is the floor
    ends_dayno: int  # the local day on which the item ends unsold
    status: str = Field(default=LISTED, max_length=10)  # ix_auction_item_status_category
    search_text: str = Field(default="", max_length=1200)  # casefolded title + description
    listed_by: int | None = Field(default=None, foreign_key="citizen.id")
    created_at: datetime = moment_field()
    closed_at: datetime | None = moment_field(nullable=True)


class AuctionReservation(SQLModel, table=True):
    """A resident holding an item while they pay; once paid, the purchase with its pickup code.
    Kept (anonymised) after deletion: it is a sale the town has to account for."""

    __tablename__ = "auction_reservation"
    __table_args__ = (
        Index(
            "ux_auction_reservation_holding",
            "item_id",
            unique=True,
            sqlite_where=text("status IN ('pending', 'paid', 'collected')"),
            postgresql_where=text("status IN ('pending', 'paid', 'collected')"),
        ),
        Index("ix_auction_reservation_due", "status", "expires_at"),
        {"info": {"erase": "anonymise"}},
    )

    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(foreign_key="auction_item.id", index=True)
    citizen_id: int = Field(foreign_key="citizen.id", index=True)
    # a deleted resident's wishes are deleted; the sale record keeps no link to them
    wish_id: int | None = Field(default=None, foreign_key="auction_wish.id", ondelete="SET NULL")
    price_cents: int
    status: str = Field(default=PENDING, max_length=10)
    created_at: datetime = moment_field()
    expires_at: datetime = moment_field()
    payment_id: int | None = Field(default=None, foreign_key="payment.id")
    paid_at: datetime | None = moment_field(nullable=True)
    pickup_code: str | None = Field(default=None, max_length=20, unique=True)
    collected_at: datetime | None = moment_field(nullable=True)


class AuctionWish(SQLModel, table=True):
    """A wish price: when the falling price reaches it, the highest wish wins the item. The day
    it is reached (`due_dayno`) is known when the wish is made: the nightly step finds the due
    wishes through an index."""

    __tablename__ = "auction_wish"
    __table_args__ = (
        Index("ix_auction_wish_item", "item_id", "status", "amount_cents"),
        Index("ix_auction_wish_due", "status", "due_dayno"),
        {"info": {"erase": "delete"}},
    )

    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(foreign_key="auction_item.id")
    citizen_id: int = Field(foreign_key="citizen.id", index=True)
    amount_cents: int
    due_dayno: int  # the first local day on which the item's price is at most amount_cents
    status: str = Field(default=ACTIVE, max_length=10)
    created_at: datetime = moment_field()


class AuctionSubscription(SQLModel, table=True):
    """A deal alert: tell me when an item (of a category, with a keyword) costs at most X."""

    __tablename__ = "auction_subscription"
    __table_args__ = (
        # serves all four alert joins: (keyword, category or "", price range)
        Index("ix_auction_sub_match", "active", "keyword", "category", "max_cents"),
        # the highest limit of a keyword below a price, whatever the category, in one probe
        # (the due days of keyword hits, services/auction/due.py)
        Index(
            "ix_auction_sub_keyword_limit",
            "active",
            "keyword",
            "max_cents",
            "category",
            sqlite_where=text("keyword <> ''"),
            postgresql_where=text("keyword <> ''"),
        ),
        {"info": {"erase": "delete"}},
    )

    id: int | None = Field(default=None, primary_key=True)
    citizen_id: int = Field(foreign_key="citizen.id", index=True)
    category: str = Field(default="", max_length=30)  # "" = any category
    keyword: str = Field(default="", max_length=40)  # casefolded; "" = no keyword
    max_cents: int
    active: bool = True
    created_at: datetime = moment_field()


class AuctionAlert(SQLModel, table=True):
    """One alert per subscription and item, ever."""

    __tablename__ = "auction_alert"
    __table_args__ = (
        UniqueConstraint("subscription_id", "item_id"),
        {"info": {"erase": "delete"}},
    )

    id: int | None = Field(default=None, primary_key=True)
    subscription_id: int = Field(foreign_key="auction_subscription.id")
    item_id: int = Field(foreign_key="auction_item.id", index=True)
    citizen_id: int = Field(foreign_key="citizen.id", index=True)
    run: str = Field(default="", max_length=40)  # which step (or subscription) found it
    price_cents: int | None = None  # the item's price that day
    created_at: datetime = moment_field()


class AuctionDayRun(SQLModel, table=True):
    """The local days the nightly step has run for. Deal alerts compare today's prices with
    those of the last day run, so a missed night is caught up once and a repeated run sends
    nothing."""

    __tablename__ = "auction_day_run"
    __table_args__ = {"info": {"erase": "keep"}}

    dayno: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    ran_at: datetime = moment_field()


class AuctionKeywordHit(SQLModel, table=True):
    """Which listed item's text contains which alert keyword. Item texts never change, so this
    is computed once per item and keyword and the daily step joins instead of scanning text.
    `due_dayno`: no later than the first day on which the item's price crosses the limit of an
    active alert with this keyword (services/auction/due.py): the nightly step probes only the
    hits due. It finds them by reading the narrow table, not through an index: the nightly
    update of the due days is then a HOT update (no index entry changes; fillfactor leaves the
    room on the page), which halves its cost (bench/auction_day.py)."""

    __tablename__ = "auction_keyword_hit"
    __table_args__ = {"info": {"erase": "keep"}, "postgresql_with": {"fillfactor": 70}}

    keyword: str = Field(primary_key=True, max_length=40)
    item_id: int = Field(primary_key=True, foreign_key="auction_item.id", index=True)
    due_dayno: int = 0
