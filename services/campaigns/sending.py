"""Marketing voucher campaigns: rules, recipients, creating, sending and stopping.

Sending writes one outbox row per resident who opted in (services/campaigns/news.py), in one
set-based statement per message language, paced so that other messages are not queued behind it.
Claiming and the statistics are in services/campaigns/claims.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import exists, func, select, update
from sqlalchemy.sql import Select
from sqlmodel import col

from services import audit, i18n, notify
from services.city import City, register_section
from services.errors import Conflict, InvalidInput, NotFound
from services.i18n import N_
from services.trust import residence
from storage.models.campaigns import DRAFT as DRAFT
from storage.models.campaigns import SENT as SENT
from storage.models.campaigns import STOPPED as STOPPED
from storage.models.campaigns import Campaign as Campaign
from storage.models.campaigns import NewsConsent
from storage.models.identity import ChannelAccount, Citizen
from storage.models.outbox import CANCELLED, PENDING, Notification
from storage.uow import UnitOfWork, rows_changed

CLAIM_ACTION = "campaign.claim"
UNSUBSCRIBE_ACTION = "news.off"
MESSAGE = N_(
    "{name}\n\n{text}\n\nFor you: a city voucher worth {value} – first come, first served, "
    "claim it until {until}.\n\nYou get this message because you signed up for news and offers "
    "from the town. You can unsubscribe at any time."
)


class CampaignRules(BaseModel):
    model_config = ConfigDict(extra="forbid")
    # no longer read: "residents of the town" are those checked in person ([trust] postal_codes)
    postal_codes: list[str] = Field(default_factory=lambda: ["48683"])
    max_value_cents: int = Field(default=5000, gt=0)  # one voucher
    max_vouchers: int = Field(default=50000, gt=0)  # per campaign
    max_budget_cents: int = Field(default=5_000_000, gt=0)  # value × vouchers
    max_claim_days: int = Field(default=365, gt=0)  # how far ahead the claim deadline may lie
    # Campaign messages fall due a minute's worth at a time, below the channels' bulk limit
    # (Telegram: ~30 messages a second), so that payment and case messages written meanwhile
    # are not queued behind 36,000 offers.
    send_per_minute: int = Field(default=1200, gt=0)


register_section("campaigns", CampaignRules)


def rules_of(city: City) -> CampaignRules:
    return city.section("campaigns", CampaignRules)


# ---------------------------------------------------------------- campaigns: rules
def claim_until(last_day: date, city: City) -> datetime:
    """Claims are open until the end of `last_day` in the town's time zone."""
    return datetime.combine(last_day + timedelta(days=1), time(0), tzinfo=city.tz)


def last_claim_day(campaign: Campaign, city: City) -> date:
    return campaign.claim_until.astimezone(city.tz).date() - timedelta(days=1)


def check_value(cents: int, rules: CampaignRules) -> int:
    if not 0 < cents <= rules.max_value_cents:
        raise InvalidInput(
            "A campaign voucher can be worth at most {max}.", max=i18n.money(rules.max_value_cents)
        )
    return cents


def check_last_day(day: date, today: date, rules: CampaignRules) -> date:
    if day < today:
        raise InvalidInput("This day has passed. Please enter today or a later day.")
    if day > today + timedelta(days=rules.max_claim_days):
        raise InvalidInput(
            "The claim deadline can be at most {days} days ahead.", days=rules.max_claim_days
        )
    return day


def check_budget(value_cents: int, total: int, rules: CampaignRules) -> None:
    if not 0 < total <= rules.max_vouchers:
        raise InvalidInput(
            "Please enter a number from {low} to {high}.", low=1, high=rules.max_vouchers
        )
    if value_cents * total > rules.max_budget_cents:
        raise InvalidInput(
            "The budget ({budget}) is more than a campaign may have ({max}).",
            budget=i18n.money(value_cents * total),
            max=i18n.money(rules.max_budget_cents),
        )


# ---------------------------------------------------------------- recipients
def recipients(city: City, residents_only: bool) -> Select[Any]:
    """Everyone who opted in, is not deleted, can be reached on some channel and, for a
    town-only campaign, had their address in the town checked in person (services/trust)."""
    reachable = exists().where(
        ChannelAccount.citizen_id == Citizen.id,
        col(ChannelAccount.unreachable_at).is_(None),
    )
    query: Select[Any] = (
        select(Citizen.id)
        .join(NewsConsent, NewsConsent.citizen_id == Citizen.id)
        .where(
            col(NewsConsent.opted_in).is_(True),
            col(Citizen.deleted_at).is_(None),
            reachable,
        )
    )
    if residents_only:  # residence checked in person, not the postal code a profile claims
        query = query.where(residence.verified_resident(city))
    return query


async def count_recipients(uow: UnitOfWork, city: City, residents_only: bool) -> int:
    found = await uow.session.execute(
        select(func.count()).select_from(recipients(city, residents_only).subquery())
    )
    return int(found.scalar_one())


# ---------------------------------------------------------------- campaigns: use cases
@dataclass(frozen=True)
class CampaignDraft:
    name: str
    text_de: str
    value_cents: int
    total: int
    last_day: date
    text_en: str = ""
    residents_only: bool = False


async def create(
    uow: UnitOfWork, city: City, actor_id: int, draft: CampaignDraft, *, now: datetime
) -> Campaign:
    """A campaign in draft: nothing is sent before `send`."""
    rules = rules_of(city)
    check_value(draft.value_cents, rules)
    check_budget(draft.value_cents, draft.total, rules)
    check_last_day(draft.last_day, now.astimezone(city.tz).date(), rules)
    campaign = Campaign(
        name=draft.name.strip()[:120],
        text_de=draft.text_de.strip()[:1000],
        text_en=draft.text_en.strip()[:1000],
        value_cents=draft.value_cents,
        total=draft.total,
        claim_until=claim_until(draft.last_day, city),
        residents_only=draft.residents_only,
        created_by=actor_id,
        created_at=now,
    )
    uow.session.add(campaign)
    await uow.session.flush()
    audit.log_action(
        uow,
        now,
        "campaign.create",
        f"campaign:{campaign.id}",
        actor_citizen_id=actor_id,
        name=campaign.name,
        value=campaign.value_cents,
        total=campaign.total,
        claim_until=campaign.claim_until.isoformat(),
        residents_only=campaign.residents_only,
    )
    return campaign


async def get(uow: UnitOfWork, campaign_id: int) -> Campaign:
    campaign = await uow.session.get(Campaign, campaign_id)
    if campaign is None:
        raise NotFound("This campaign is unknown.")
    return campaign


async def latest(uow: UnitOfWork, limit: int = 10) -> list[Campaign]:
    found = await uow.session.execute(
        select(Campaign).order_by(col(Campaign.id).desc()).limit(limit)
    )
    return list(found.scalars())


def _message_params(campaign: Campaign, city: City, text: str | None) -> dict[str, Any]:
    """`text`: the English text for English readers; None: the German one, marked as German
    for readers of other languages."""
    return {
        "name": campaign.name,
        "text": text if text is not None else i18n.german(campaign.text_de),
        "value": i18n.money(campaign.value_cents),
        "until": i18n.day(last_claim_day(campaign, city)),
    }


async def send(
    uow: UnitOfWork, city: City, campaign_id: int, actor_id: int, *, now: datetime
) -> int:
    """Write one outbox notification per recipient, in set-based statements (one per message
    language), and mark the campaign sent. Sends once, however often it is confirmed."""
    campaign = await get(uow, campaign_id)
    if now >= campaign.claim_until:
        raise Conflict("The claim deadline of this campaign has passed. Please create a new one.")
    changed = await uow.session.execute(
        update(Campaign)
        .where(col(Campaign.id) == campaign_id, col(Campaign.status) == DRAFT)
        .values(status=SENT, sent_at=now)
        .execution_options(synchronize_session=False)
    )
    if rows_changed(changed) != 1:
        raise Conflict("This campaign was already sent.")
    buttons = [
        notify.button(N_("Claim voucher"), CLAIM_ACTION, str(campaign_id)),
        notify.button(N_("Unsubscribe"), UNSUBSCRIBE_ACTION, "button"),
    ]
    ref = f"campaign:{campaign_id}"
    base = recipients(city, campaign.residents_only)
    groups: list[tuple[Any, str | None]] = [(base, None)]
    if campaign.text_en:
        english = col(Citizen.language) == "en"
        groups = [(base.where(~english), None), (base.where(english), campaign.text_en)]
    written = 0
    for query, text in groups:
        written += await notify.notify_selected(
            uow,
            query,
            MESSAGE,
            _message_params(campaign, city, text),
            now=now,
            buttons=buttons,
            ref=ref,
            dedupe_prefix=ref,  # once per resident, however the groups overlap
        )
    if written == 0:  # rolled back by the caller: the campaign stays a draft
        raise Conflict(
            "Nobody would receive this campaign now: no resident has signed up for news and "
            "offers (for a town-only campaign: with an address in the town checked in person)."
        )
    await _pace(uow, ref, rules_of(city).send_per_minute, now)
    await uow.session.execute(
        update(Campaign)
        .where(col(Campaign.id) == campaign_id)
        .values(recipients=written)
        .execution_options(synchronize_session=False)
    )
    await uow.session.refresh(campaign)
    audit.log_action(
        uow, now, "campaign.send", f"campaign:{campaign_id}", actor_citizen_id=actor_id, to=written
    )
    return written


async def _pace(uow: UnitOfWork, ref: str, per_minute: int, now: datetime) -> None:
    """Give the k-th minute's worth of rows (in id order) a due time k minutes from now: one
    UPDATE per minute of sending, on an id range of rows just written."""
    low, high = (
        await uow.session.execute(
            select(func.min(Notification.id), func.max(Notification.id)).where(
                col(Notification.ref) == ref
            )
        )
    ).one()
    if low is None:
        return
    for minute, start in enumerate(range(int(low) + per_minute, int(high) + 1, per_minute), 1):
        await uow.session.execute(
            update(Notification)
            .where(
                col(Notification.ref) == ref,
                col(Notification.id) >= start,
                col(Notification.id) < start + per_minute,
            )
            .values(next_attempt_at=now + timedelta(minutes=minute))
            .execution_options(synchronize_session=False)
        )


def sending_minutes(recipients: int, city: City) -> int:
    """About how long the outbox takes to send a campaign to this many residents."""
    return max(1, -(-recipients // rules_of(city).send_per_minute))


async def stop(uow: UnitOfWork, campaign_id: int, actor_id: int, *, now: datetime) -> Campaign:
    """No more claims. Vouchers already claimed stay valid."""
    campaign = await get(uow, campaign_id)
    changed = await uow.session.execute(
        update(Campaign)
        .where(col(Campaign.id) == campaign_id, col(Campaign.status).in_([DRAFT, SENT]))
        .values(status=STOPPED, stopped_at=now)
        .execution_options(synchronize_session=False)
    )
    if rows_changed(changed) != 1:
        raise Conflict("This campaign was already stopped.")
    await uow.session.execute(  # an offer nobody can claim is not delivered any more
        update(Notification)
        .where(
            col(Notification.ref) == f"campaign:{campaign_id}", col(Notification.status) == PENDING
        )
        .values(status=CANCELLED, last_error="campaign stopped")
        .execution_options(synchronize_session=False)
    )
    await uow.session.refresh(campaign)
    audit.log_action(
        uow,
        now,
        "campaign.stop",
        f"campaign:{campaign_id}",
        actor_citizen_id=actor_id,
        claimed=campaign.claimed,
    )
    return campaign
