"""Claiming a campaign voucher (one per resident, never more than the campaign has, also when
many claim at once) and the campaign statistics marketing sees."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col

from services import audit, i18n, notify
from services.campaigns.sending import last_claim_day
from services.city import City
from services.errors import Conflict, LimitReached, NotAllowed, NotFound
from services.wallet import vouchers
from storage.models.campaigns import DRAFT, SENT, STOPPED, Campaign, CampaignClaim
from storage.models.outbox import Notification
from storage.models.vouchers import REDEEM, UNDO, Voucher, VoucherEntry
from storage.uow import UnitOfWork, rows_changed


async def _received(uow: UnitOfWork, campaign_id: int, citizen_id: int) -> bool:
    """Was the campaign sent to this resident? The dedupe key finds it through a unique index;
    after two accounts were merged (/link) the row carries the other account's id in its key."""
    if await notify.known_keys(uow, [f"campaign:{campaign_id}:{citizen_id}"]):
        return True
    merged = await uow.session.execute(
        select(Notification.id)
        .where(
            col(Notification.citizen_id) == citizen_id,
            col(Notification.ref) == f"campaign:{campaign_id}",
        )
        .limit(1)
    )
    return merged.first() is not None


async def _claim_of(uow: UnitOfWork, campaign_id: int, citizen_id: int) -> CampaignClaim | None:
    found = await uow.session.execute(
        select(CampaignClaim).where(
            CampaignClaim.campaign_id == campaign_id, CampaignClaim.citizen_id == citizen_id
        )
    )
    return found.scalar_one_or_none()


def _closed(campaign: Campaign, city: City, now: datetime) -> Exception | None:
    """Why nobody can claim now, or None."""
    if campaign.status == STOPPED:
        return Conflict("This campaign has ended. Thank you for your interest!")
    if now >= campaign.claim_until:
        return Conflict(
            "Sorry, this offer could be claimed until {day}. Thank you for your interest!",
            day=i18n.day(last_claim_day(campaign, city)),
        )
    if campaign.claimed >= campaign.total:
        return LimitReached(
            "Sorry, all vouchers of this campaign are gone. Thank you for your interest – "
            "watch out for the next one!"
        )
    return None


async def claim(
    uow: UnitOfWork, city: City, campaign_id: int, citizen_id: int, *, now: datetime
) -> Voucher:
    """Give the resident this campaign's voucher: one each, never more than the campaign has."""
    campaign = await uow.session.get(Campaign, campaign_id)
    if campaign is None or campaign.status == DRAFT:
        raise NotFound("This campaign is unknown.")
    if not await _received(uow, campaign_id, citizen_id):
        raise NotAllowed("This offer was not sent to you.")
    if await _claim_of(uow, campaign_id, citizen_id) is not None:
        raise Conflict("You already have the voucher of this campaign: it is in your wallet.")
    closed = _closed(campaign, city, now)
    if closed is not None:
        raise closed
    voucher = await vouchers.issue(
        uow,
        city,
        citizen_id,
        campaign.value_cents,
        now=now,
        origin="campaign",
        actor=f"campaign:{campaign_id}",
    )
    assert voucher.id is not None
    try:
        async with uow.session.begin_nested():
            uow.session.add(
                CampaignClaim(
                    campaign_id=campaign_id,
                    citizen_id=citizen_id,
                    voucher_id=voucher.id,
                    claimed_at=now,
                )
            )
    except IntegrityError:  # the same resident, pressing twice at once
        raise Conflict(
            "You already have the voucher of this campaign: it is in your wallet."
        ) from None
    # the counter last: the campaign row is locked only from here to the commit
    taken = await uow.session.execute(
        update(Campaign)
        .where(
            col(Campaign.id) == campaign_id,
            col(Campaign.status) == SENT,
            col(Campaign.claimed) < col(Campaign.total),
            col(Campaign.claim_until) > now,
        )
        .values(claimed=col(Campaign.claimed) + 1)
        .execution_options(synchronize_session=False)
    )
    if rows_changed(taken) != 1:
        await uow.session.refresh(campaign)
        raise _closed(campaign, city, now) or LimitReached(
            "Sorry, all vouchers of this campaign are gone. Thank you for your interest – "
            "watch out for the next one!"
        )
    audit.log_action(
        uow,
        now,
        "campaign.claim",
        f"campaign:{campaign_id}",
        actor_citizen_id=citizen_id,
        voucher=voucher.id,
    )
    return voucher


# ---------------------------------------------------------------- statistics
@dataclass(frozen=True)
class Stats:
    campaign: Campaign
    sent: int  # notifications written
    delivered: int  # of those, sent by the outbox
    failed: int  # could not be delivered (no reachable chat, parked)
    withdrawn: int  # not sent: the campaign was stopped or the resident unsubscribed first
    claimed: int
    redeemed_cents: int  # spent at merchants with this campaign's vouchers (net of undos)

    @property
    def budget_cents(self) -> int:
        return self.campaign.total * self.campaign.value_cents

    @property
    def claimed_cents(self) -> int:
        return self.claimed * self.campaign.value_cents

    @property
    def remaining_cents(self) -> int:
        """The part of the budget not claimed (yet)."""
        return self.campaign.left * self.campaign.value_cents


def is_open(campaign: Campaign, now: datetime) -> bool:
    return campaign.status == SENT and now < campaign.claim_until and campaign.left > 0


SOLD_OUT, EXPIRED = "sold_out", "expired"


def state(campaign: Campaign, now: datetime) -> str:
    """draft, sent (open), stopped, sold_out (every voucher claimed while claims are still
    open), expired (the claim period is over)."""
    if campaign.status != SENT:
        return campaign.status
    if now >= campaign.claim_until:
        return EXPIRED
    if campaign.left <= 0:
        return SOLD_OUT
    return SENT


async def open_offers(uow: UnitOfWork, citizen_id: int, now: datetime) -> list[Campaign]:
    """Every open campaign the resident received and has not claimed yet, newest first: each
    can be claimed, not only the latest message's."""
    claimed = select(CampaignClaim.campaign_id).where(CampaignClaim.citizen_id == citizen_id)
    result = await uow.session.execute(
        select(Campaign)
        .where(
            col(Campaign.status) == SENT,
            col(Campaign.claim_until) > now,
            col(Campaign.claimed) < col(Campaign.total),
            col(Campaign.id).not_in(claimed),
        )
        .order_by(col(Campaign.id).desc())
        .limit(50)
    )
    return [c for c in result.scalars() if await _received(uow, c.id or 0, citizen_id)]


async def stats(uow: UnitOfWork, campaigns: list[Campaign]) -> list[Stats]:
    if not campaigns:
        return []
    refs = {f"campaign:{c.id}": c.id for c in campaigns}
    delivery: dict[int, dict[str, int]] = {}
    rows = await uow.session.execute(
        select(Notification.ref, Notification.status, func.count())
        .where(col(Notification.ref).in_(list(refs)))
        .group_by(Notification.ref, Notification.status)
    )
    for ref, status, count in rows.all():
        campaign_id = refs[ref]
        assert campaign_id is not None
        delivery.setdefault(campaign_id, {})[status] = int(count)
    redeemed = await uow.session.execute(
        select(CampaignClaim.campaign_id, func.coalesce(func.sum(VoucherEntry.amount_cents), 0))
        .join(VoucherEntry, col(VoucherEntry.voucher_id) == col(CampaignClaim.voucher_id))
        .where(
            col(CampaignClaim.campaign_id).in_([c.id for c in campaigns]),
            col(VoucherEntry.kind).in_([REDEEM, UNDO]),
        )
        .group_by(CampaignClaim.campaign_id)
    )
    spent = {campaign_id: -int(total) for campaign_id, total in redeemed.all()}
    result = []
    for campaign in campaigns:
        assert campaign.id is not None
        counts = delivery.get(campaign.id, {})
        result.append(
            Stats(
                campaign=campaign,
                sent=sum(counts.values()),
                delivered=counts.get("sent", 0),
                failed=counts.get("failed", 0) + counts.get("parked", 0),
                withdrawn=counts.get("cancelled", 0),
                claimed=campaign.claimed,
                redeemed_cents=spent.get(campaign.id, 0),
            )
        )
    return result
