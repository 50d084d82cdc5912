"""The lost-and-found auction: configuration, listing items, browsing, today's price.

Buying, wish prices and pickup codes are in services/auction/buying.py, deal alerts in
services/auction/alerts.py, the daily step in services/auction/daily.py."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import func, or_, select
from sqlmodel import col

from services import audit
from services.auction.keywords import index_item_keywords
from services.auction.price import Rule, day_number, floor_day, price_on
from services.city import City, register_section
from services.errors import InvalidInput, NotAllowed, NotFound
from services.i18n import N_
from storage.models.auction import LISTED, RESERVED, AuctionItem
from storage.models.outbox import StoredFile
from storage.uow import UnitOfWork

MAX_START_CENTS = 10_000_000  # 100,000 €: keeps start × factor inside 64-bit integers
LISTING_DEPARTMENT = "fundbuero"
PICKUP_DEPARTMENTS = ("fundbuero", "buergerbuero")


class Category(BaseModel):
    model_config = ConfigDict(extra="forbid")
    key: str
    name_de: str
    name_en: str

    def name(self, lang: str) -> str:
        return self.name_en if lang == "en" else self.name_de


class AuctionRules(BaseModel):
    model_config = ConfigDict(extra="forbid")
    holding_months: int = Field(default=6, ge=0, le=36)
    notice_days: int = Field(default=42, ge=0, le=365)
    variant: Literal["linear", "compound"] = "linear"
    rate_percent: Decimal = Field(default=Decimal("1"), gt=0, lt=100)
    rounding: Literal["half_up", "down", "up"] = "half_up"
    end_after_days_at_floor: int = Field(default=14, ge=0, le=365)
    reservation_minutes: int = Field(default=30, ge=1, le=24 * 60)
    # a won wish price can be paid until this time of the day after it was won ...
    wish_pay_until: str = "20:00"
    wish_pay_days: int = Field(default=1, ge=0, le=14)
    # ... with one reminder this many hours before the end (0 = none)
    wish_remind_hours: int = Field(default=3, ge=0, le=48)
    daily_step_at: str = "00:05"
    pickup_place: str = "Bürgerbüro, Rathausplatz 1, 48683 Ahaus"
    pickup_hours_de: str = ""
    pickup_hours_en: str = ""
    pickup_days: int = Field(default=14, ge=1, le=365)
    categories: list[Category] = Field(default_factory=list)

    @field_validator("rate_percent")
    @classmethod
    def _two_decimals(cls, value: Decimal) -> Decimal:
        if (value * 100) != (value * 100).to_integral_value():
            raise ValueError("at most two decimal places, e.g. 1 or 0.75")
        return value

    @field_validator("wish_pay_until", "daily_step_at")
    @classmethod
    def _clock_time(cls, value: str) -> str:
        if value and not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", value):
            raise ValueError("a time of day like 08:00")
        return value

    @property
    def rule(self) -> Rule:
        return Rule(self.variant, int(self.rate_percent * 100), self.rounding)

    def category(self, key: str) -> Category | None:
        return next((c for c in self.categories if c.key == key), None)

    def pickup_hours(self, lang: str) -> str:
        return self.pickup_hours_en if lang == "en" else self.pickup_hours_de

    def step_time(self) -> time:
        return time.fromisoformat(self.daily_step_at)


register_section("auction", AuctionRules)


def rules(city: City) -> AuctionRules:
    return city.section("auction", AuctionRules)


def rule_of(item: AuctionItem) -> Rule:
    return Rule(item.variant, item.rate_bp, item.rounding)


def today(city: City, now: datetime) -> int:
    return day_number(now, city.tz)


def price_for_day(item: AuctionItem, dayno: int) -> int:
    return price_on(item.start_cents, item.floor_cents, rule_of(item), dayno - item.start_dayno)


# ---------------------------------------------------------------- listing
@dataclass(frozen=True)
class NewItem:
    title: str
    description: str
    category: str
    found_place: str
    found_on: date
    notice_on: date
    start_cents: int
    floor_cents: int
    photo_file_id: int | None


def add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def listing_problem(
    config: AuctionRules,
    today_: date,
    *,
    found_on: date | None = None,
    notice_on: date | None = None,
    start_cents: int | None = None,
    floor_cents: int | None = None,
) -> tuple[str, str, dict[str, Any]] | None:
    """(field, msgid, params) of the first rule the listing breaks, or None."""
    from services.i18n import day

    if found_on is not None:
        if found_on > today_:
            return ("found_on", N_("The date found is in the future. Please check it."), {})
        free = add_months(found_on, config.holding_months)
        if free > today_:
            return (
                "found_on",
                N_(
                    "Found items may be auctioned only after the holding period of {months} "
                    "months (§ 979 BGB): this one from {first}."
                ),
                {"months": config.holding_months, "first": day(free)},
            )
    if notice_on is not None:
        if found_on is not None and notice_on < found_on:
            return ("notice_on", N_("The public notice cannot be earlier than the find."), {})
        deadline = date.fromordinal(notice_on.toordinal() + config.notice_days)
        if deadline > today_:
            return (
                "notice_on",
                N_(
                    "The deadline of the public notice (§ 980 BGB, {days} days) runs until "
                    "{last}: the item may be listed from the day after."
                ),
                {
                    "days": config.notice_days,
                    "last": day(date.fromordinal(deadline.toordinal() - 1)),
                },
            )
    if start_cents is not None and start_cents > MAX_START_CENTS:
        return (
            "start",
            N_("The start price can be at most {max}."),
            {"max": _money(MAX_START_CENTS)},
        )
    if start_cents is not None and floor_cents is not None and floor_cents >= start_cents:
        return (
            "floor",
            N_("The floor price must be below the start price of {start}."),
            {"start": _money(start_cents)},
        )
    return None


def _money(cents: int) -> dict[str, int]:
    from services.i18n import money

    return money(cents)


def search_text(title: str, description: str) -> str:
    return f"{title} {description}".casefold()[:1200]


async def list_item(
    uow: UnitOfWork,
    city: City,
    staff_id: int,
    new: NewItem,
    roles: set[tuple[str, str]],
    now: datetime,
) -> AuctionItem:
    if ("staff", LISTING_DEPARTMENT) not in roles:
        raise NotAllowed("Only the lost property office can list items for the auction.")
    config = rules(city)
    if config.category(new.category) is None:
        raise InvalidInput("Please choose one of the categories.")
    if new.photo_file_id is None:
        raise InvalidInput("Please send a photo of the item.")
    problem = listing_problem(
        config,
        now.astimezone(city.tz).date(),
        found_on=new.found_on,
        notice_on=new.notice_on,
        start_cents=new.start_cents,
        floor_cents=new.floor_cents,
    )
    if problem is not None:
        raise InvalidInput(problem[1], **problem[2])
    photo = await uow.session.get(StoredFile, new.photo_file_id)
    if photo is None or not photo.mime.startswith("image/"):
        raise InvalidInput("Please send a photo of the item.")
    photo.citizen_id = None  # the photo belongs to the town now, not to the staff member
    photo.purpose = "auction:item"
    rule = config.rule
    start = today(city, now)
    at_floor = start + floor_day(new.start_cents, new.floor_cents, rule)
    item = AuctionItem(
        title=new.title,
        description=new.description,
        category=new.category,
        found_place=new.found_place,
        found_on=new.found_on,
        notice_on=new.notice_on,
        photo_file_id=new.photo_file_id,
        start_cents=new.start_cents,
        floor_cents=new.floor_cents,
        variant=rule.variant,
        rate_bp=rule.rate_bp,
        rounding=rule.rounding,
        start_dayno=start,
        floor_dayno=at_floor,
        ends_dayno=at_floor + config.end_after_days_at_floor,
        status=LISTED,
        search_text=search_text(new.title, new.description),
        listed_by=staff_id,
        created_at=now,
    )
    uow.session.add(item)
    await uow.session.flush()
    await index_item_keywords(uow, item)
    assert item.id is not None
    audit.log_action(
        uow,
        now,
        "auction.list",
        f"auction_item:{item.id}",
        actor_citizen_id=staff_id,
        title=item.title,
        start_cents=item.start_cents,
        floor_cents=item.floor_cents,
    )
    return item


# ---------------------------------------------------------------- browsing
async def get_item(uow: UnitOfWork, item_id: int) -> AuctionItem:
    item = await uow.session.get(AuctionItem, item_id)
    if item is None:
        raise NotFound("This item is not in the auction.")
    return item


async def browse(
    uow: UnitOfWork, category: str, *, offset: int = 0, limit: int = 8
) -> tuple[list[AuctionItem], int]:
    """Items on offer (newest first), optionally of one category; and how many there are."""
    where = [col(AuctionItem.status).in_((LISTED, RESERVED))]
    if category:
        where.append(AuctionItem.category == category)
    total = (
        await uow.session.execute(select(func.count()).select_from(AuctionItem).where(*where))
    ).scalar_one()
    rows = await uow.session.execute(
        select(AuctionItem)
        .where(*where)
        .order_by(col(AuctionItem.id).desc())
        .offset(offset)
        .limit(limit)
    )
    return list(rows.scalars()), int(total)


async def search(
    uow: UnitOfWork, words: list[str], categories: list[str], *, limit: int = 5
) -> list[AuctionItem]:
    """Items on offer whose title or description holds one of `words` (casefolded, at least
    three letters) or that are in one of `categories`; newest first."""
    matches = [col(AuctionItem.search_text).contains(w) for w in words if len(w) >= 3]
    if categories:
        matches.append(col(AuctionItem.category).in_(categories))
    if not matches:
        return []
    rows = await uow.session.execute(
        select(AuctionItem)
        .where(col(AuctionItem.status).in_((LISTED, RESERVED)), or_(*matches))
        .order_by(col(AuctionItem.id).desc())
        .limit(limit)
    )
    return list(rows.scalars())


async def category_counts(uow: UnitOfWork) -> dict[str, int]:
    rows = await uow.session.execute(
        select(AuctionItem.category, func.count())
        .where(col(AuctionItem.status).in_((LISTED, RESERVED)))
        .group_by(AuctionItem.category)
    )
    return {category: int(n) for category, n in rows.all()}


async def photo(uow: UnitOfWork, item: AuctionItem) -> StoredFile | None:
    if item.photo_file_id is None:
        return None
    return await uow.session.get(StoredFile, item.photo_file_id)
