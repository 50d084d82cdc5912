"""The digital city voucher: rules, buying (with subsidised offers), payment hooks, gifting,
refunds, expiry and reminders. Redemption by merchants lives in services/wallet/redemption.py.

A voucher's balance is the sum of its ledger entries (VoucherEntry); `Voucher.balance_cents`
caches it and only changes in a conditional update next to the entry it books.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col

from services import audit, codes, i18n, notify
from services.city import City, register_section
from services.env import Env
from services.errors import Conflict, InvalidInput, LimitReached, NotFound
from services.i18n import N_, NC_
from services.identity import privacy
from services.money import format_money, parse_amount
from services.payments import lifecycle as payments
from services.wallet.sources import WalletEntry, register_source
from storage.models.payments import Payment
from storage.models.vouchers import (
    ACTIVE,
    CANCELLED,
    CLOSED,
    EXPIRE,
    EXPIRED,
    FORFEIT,
    ISSUE,
    PENDING,
    REFUNDED,
    VoucherOfferUsage,
)
from storage.models.vouchers import Voucher as Voucher
from storage.models.vouchers import VoucherEntry as VoucherEntry
from storage.uow import UnitOfWork, rows_changed

PURPOSE = "voucher"
CODE_LENGTH = 12


# ---------------------------------------------------------------- configuration
class Offer(BaseModel):
    """A subsidised sale the town runs, e.g. 100 € value for 85 €."""

    model_config = ConfigDict(extra="forbid")
    key: str
    name_de: str
    name_en: str
    value_cents: int = Field(gt=0)
    price_cents: int = Field(gt=0)
    max_per_resident: int = Field(default=1, ge=1)
    budget_cents: int = Field(ge=0)  # subsidy (value - price) summed over all vouchers sold
    starts: date
    ends: date

    @model_validator(mode="after")
    def _sane(self) -> Offer:
        if self.price_cents > self.value_cents:
            raise ValueError("price_cents must not exceed value_cents")
        if self.ends < self.starts:
            raise ValueError("ends must not be before starts")
        return self

    @property
    def subsidy_cents(self) -> int:
        return self.value_cents - self.price_cents

    def name(self, lang: str) -> str:
        return self.name_en if lang == "en" else self.name_de

    def running(self, today: date) -> bool:
        return self.starts <= today <= self.ends


class VoucherRules(BaseModel):
    model_config = ConfigDict(extra="forbid")
    amounts_cents: list[int] = Field(default_factory=lambda: [1000, 2500, 5000, 10000])
    custom_min_cents: int = Field(default=500, gt=0)
    custom_max_cents: int = Field(default=25000, gt=0)
    validity_years: int = Field(default=3, ge=0, le=30)
    refund_days: int = Field(default=14, ge=0)
    undo_minutes: int = Field(default=15, ge=0)
    fee_percent: Decimal = Field(default=Decimal("0"), ge=0, le=100)
    remind_days_before: int = Field(default=60, ge=0)
    offers: list[Offer] = Field(default_factory=list)

    @field_validator("amounts_cents")
    @classmethod
    def _positive(cls, value: list[int]) -> list[int]:
        if any(v <= 0 for v in value):
            raise ValueError("amounts must be positive")
        return value

    def offer(self, key: str) -> Offer | None:
        return next((o for o in self.offers if o.key == key), None)


register_section("vouchers", VoucherRules)


def rules_of(city: City) -> VoucherRules:
    return city.section("vouchers", VoucherRules)


# ---------------------------------------------------------------- pure rules
def valid_until(purchase_day: date, years: int) -> date:
    """§§ 195, 199 BGB: the claim lapses at the end of the third year after the year in which it
    arose. A voucher bought on 25 Nov 2026 is valid until 31 Dec 2029."""
    return date(purchase_day.year + years, 12, 31)


def parse_custom_amount(text: str, rules: VoucherRules) -> int:
    cents = parse_amount(text)
    if not rules.custom_min_cents <= cents <= rules.custom_max_cents:
        raise InvalidInput(
            "Please choose an amount between {min} and {max}.",
            min=i18n.money(rules.custom_min_cents),
            max=i18n.money(rules.custom_max_cents),
        )
    return cents


def state(voucher: Voucher, today: date) -> str:
    """What the holder sees: pending, valid, gift, used, expired, refunded, cancelled."""
    if voucher.status != ACTIVE:
        return voucher.status
    if voucher.valid_until < today:
        return EXPIRED
    if voucher.gift_code:
        return "gift"
    if voucher.balance_cents <= 0:
        return "used"
    return "valid"


STATE_WORDS = {
    "pending": N_("awaiting payment"),
    "valid": N_("valid"),
    "gift": N_("reserved as a gift"),
    "used": N_("used up"),
    "expired": N_("expired"),
    "refunded": N_("refunded"),
    "cancelled": NC_("payment", "cancelled"),
}


# ---------------------------------------------------------------- lookups
async def get_own(uow: UnitOfWork, citizen_id: int, voucher_id: int) -> Voucher:
    voucher = await uow.session.get(Voucher, voucher_id)
    if voucher is None or voucher.citizen_id != citizen_id:
        raise NotFound("This voucher is not in your wallet.")
    return voucher


async def of_citizen(uow: UnitOfWork, citizen_id: int) -> list[Voucher]:
    result = await uow.session.execute(
        select(Voucher)
        .where(Voucher.citizen_id == citizen_id, Voucher.status != CANCELLED)
        .order_by(Voucher.id.desc())
    )
    return list(result.scalars())


async def history(uow: UnitOfWork, voucher_id: int, limit: int = 20) -> list[VoucherEntry]:
    result = await uow.session.execute(
        select(VoucherEntry)
        .where(VoucherEntry.voucher_id == voucher_id)
        .order_by(col(VoucherEntry.at).desc(), col(VoucherEntry.id).desc())
        .limit(limit)
    )
    return list(result.scalars())


async def ledger_balance(uow: UnitOfWork, voucher_id: int) -> int:
    total = await uow.session.execute(
        select(func.coalesce(func.sum(VoucherEntry.amount_cents), 0)).where(
            VoucherEntry.voucher_id == voucher_id
        )
    )
    return int(total.scalar_one())


async def by_code(uow: UnitOfWork, code: str) -> Voucher | None:
    result = await uow.session.execute(select(Voucher).where(Voucher.code == code))
    return result.scalar_one_or_none()


def read_code(text: str) -> str:
    """A typed voucher or gift code, or a friendly error (the check character catches typos)."""
    try:
        return codes.parse_code(text, CODE_LENGTH)
    except codes.CodeTypo:
        raise InvalidInput(
            "This code contains a typo (the check character does not match). "
            "Please compare it character by character."
        ) from None
    except ValueError:
        raise InvalidInput(
            "This is not a voucher code. A code has 14 characters, for example ABCD-EFGH-JKMN-PQ."
        ) from None


# ---------------------------------------------------------------- buying
@dataclass(frozen=True)
class Purchase:
    voucher: Voucher
    payment: Payment


async def buy(
    uow: UnitOfWork,
    env: Env,
    citizen_id: int,
    *,
    now: datetime,
    value_cents: int | None = None,
    offer_key: str = "",
) -> Purchase:
    """Create a pending voucher and its checkout. With an offer, its budget is reserved now and
    released when the payment fails or expires."""
    city = env.city
    rules = rules_of(city)
    today = now.astimezone(city.tz).date()
    await payments.expire_due(uow, env, now, citizen_id=citizen_id)
    if offer_key:
        offer = rules.offer(offer_key)
        if offer is None or not offer.running(today):
            raise Conflict("This offer is not available (any more).")
        await _reserve_offer(uow, offer, citizen_id)
        value, price = offer.value_cents, offer.price_cents
    else:
        if value_cents is None or not (
            value_cents in rules.amounts_cents
            or rules.custom_min_cents <= value_cents <= rules.custom_max_cents
        ):
            raise InvalidInput(
                "Please choose an amount between {min} and {max}.",
                min=i18n.money(rules.custom_min_cents),
                max=i18n.money(rules.custom_max_cents),
            )
        value = price = value_cents
    voucher = Voucher(
        code=codes.new_code(CODE_LENGTH),
        citizen_id=citizen_id,
        value_cents=value,
        price_cents=price,
        status=PENDING,
        offer=offer_key,
        valid_until=valid_until(today, rules.validity_years),
        created_at=now,
    )
    uow.session.add(voucher)
    await uow.session.flush()
    description = f"Stadtgutschein {city.name} {format_money(value, 'de')}"
    if offer_key:
        description += f" (für {format_money(price, 'de')})"
    payment = await payments.start(
        uow,
        env,
        citizen_id=citizen_id,
        purpose=PURPOSE,
        ref=str(voucher.id),
        amount_cents=price,
        description=description,
        now=now,
    )
    voucher.payment_id = payment.id
    await uow.session.flush()
    return Purchase(voucher, payment)


async def _reserve_offer(uow: UnitOfWork, offer: Offer, citizen_id: int) -> None:
    session = uow.session
    if await session.get(VoucherOfferUsage, offer.key) is None:
        try:
            async with session.begin_nested():
                session.add(VoucherOfferUsage(offer=offer.key))
        except IntegrityError:
            pass  # created by a concurrent buyer
    # Taking the budget first locks the usage row: concurrent buyers of the offer queue here,
    # so the per-resident count below cannot be raced.
    reserved = await session.execute(
        update(VoucherOfferUsage)
        .where(
            VoucherOfferUsage.offer == offer.key,
            VoucherOfferUsage.subsidy_cents + offer.subsidy_cents <= offer.budget_cents,
        )
        .values(
            subsidy_cents=VoucherOfferUsage.subsidy_cents + offer.subsidy_cents,
            count=VoucherOfferUsage.count + 1,
        )
        .execution_options(synchronize_session=False)
    )
    if rows_changed(reserved) != 1:
        raise LimitReached("The budget of this offer is used up. Thank you for your interest!")
    held = await session.execute(
        select(func.count())
        .select_from(Voucher)
        .where(
            Voucher.citizen_id == citizen_id,
            Voucher.offer == offer.key,
            col(Voucher.status).in_([PENDING, ACTIVE, EXPIRED]),
        )
    )
    if held.scalar_one() >= offer.max_per_resident:
        raise LimitReached(
            "You already have {n} vouchers from this offer; that is the most one resident can get.",
            n=offer.max_per_resident,
        )


async def release_offer(uow: UnitOfWork, voucher: Voucher) -> None:
    """Give a voucher's subsidy back to its offer's budget (payment lapsed, refund)."""
    if not voucher.offer:
        return
    subsidy = voucher.value_cents - voucher.price_cents
    await uow.session.execute(
        update(VoucherOfferUsage)
        .where(VoucherOfferUsage.offer == voucher.offer)
        .values(
            subsidy_cents=VoucherOfferUsage.subsidy_cents - subsidy,
            count=VoucherOfferUsage.count - 1,
        )
        .execution_options(synchronize_session=False)
    )


async def offer_usage(uow: UnitOfWork, offer_key: str) -> VoucherOfferUsage | None:
    return await uow.session.get(VoucherOfferUsage, offer_key)


# ---------------------------------------------------------------- payment hooks
async def payment_received(uow: UnitOfWork, env: Env, payment: Payment, now: datetime) -> None:
    voucher = await uow.session.get(Voucher, int(payment.ref))
    if voucher is None:  # cannot happen: vouchers are never deleted
        raise NotFound("This voucher is unknown.")
    if voucher.status == CANCELLED and voucher.offer:
        # paid after the checkout expired and the offer's budget was released: without the
        # subsidy the voucher holds what was paid, so no money is lost and the budget holds.
        voucher.value_cents = voucher.price_cents
        voucher.offer = ""
    await activate(uow, voucher, now, actor_citizen_id=payment.citizen_id)
    notify.notify_citizen(
        uow,
        voucher.citizen_id,
        N_(
            "Payment received – thank you! Your city voucher worth {value} is in your wallet, "
            "valid until {until}. Code: {code}"
        ),
        {
            "value": i18n.money(voucher.value_cents),
            "until": i18n.day(voucher.valid_until),
            "code": codes.display(voucher.code),
        },
        now=now,
        buttons=[
            notify.button(N_("Show voucher"), "voucher.show", str(voucher.id)),
            notify.button(N_("Wallet"), "wallet.show"),
        ],
        ref=f"voucher:{voucher.id}",
    )


async def activate(
    uow: UnitOfWork, voucher: Voucher, now: datetime, *, actor_citizen_id: int | None = None
) -> bool:
    """Pending (or cancelled, when paid late) -> active with its issue entry. Once only."""
    assert voucher.id is not None
    changed = await uow.session.execute(
        update(Voucher)
        .where(Voucher.id == voucher.id, col(Voucher.status).in_([PENDING, CANCELLED]))
        .values(
            status=ACTIVE,
            balance_cents=voucher.value_cents,
            value_cents=voucher.value_cents,
            offer=voucher.offer,
            activated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    if rows_changed(changed) != 1:
        return False
    uow.session.add(
        VoucherEntry(
            voucher_id=voucher.id,
            kind=ISSUE,
            amount_cents=voucher.value_cents,
            at=now,
            actor_citizen_id=actor_citizen_id,
        )
    )
    await uow.session.flush()
    await uow.session.refresh(voucher)
    return True


async def payment_lapsed(uow: UnitOfWork, env: Env, payment: Payment, now: datetime) -> None:
    changed = await uow.session.execute(
        update(Voucher)
        .where(Voucher.id == int(payment.ref), Voucher.status == PENDING)
        .values(status=CANCELLED)
        .execution_options(synchronize_session=False)
    )
    if rows_changed(changed) == 1:
        voucher = await uow.session.get(Voucher, int(payment.ref))
        assert voucher is not None
        await uow.session.refresh(voucher)
        await release_offer(uow, voucher)


payments.register_purpose(PURPOSE, on_paid=payment_received, on_failed=payment_lapsed)


async def issue(
    uow: UnitOfWork,
    city: City,
    citizen_id: int,
    value_cents: int,
    *,
    now: datetime,
    origin: str = "campaign",
    actor: str = "",
) -> Voucher:
    """A voucher nobody paid for (campaigns, demo data): active at once."""
    if value_cents <= 0:
        raise InvalidInput("The amount must be more than 0 €.")
    today = now.astimezone(city.tz).date()
    voucher = Voucher(
        code=codes.new_code(CODE_LENGTH),
        citizen_id=citizen_id,
        value_cents=value_cents,
        price_cents=0,
        origin=origin,
        valid_until=valid_until(today, rules_of(city).validity_years),
        created_at=now,
    )
    uow.session.add(voucher)
    await uow.session.flush()
    await activate(uow, voucher, now)
    audit.log_action(
        uow, now, "voucher.issue", f"voucher:{voucher.id}", actor=actor, value=value_cents
    )
    return voucher


# ---------------------------------------------------------------- expiry and reminders
async def expire_vouchers(uow: UnitOfWork, now: datetime, city: City, limit: int = 1000) -> int:
    """Book the remaining balance of vouchers past their validity as an `expire` entry.
    A daily job (scheduler)."""
    today = now.astimezone(city.tz).date()
    due = (
        await uow.session.execute(
            select(Voucher.id, Voucher.balance_cents)
            .where(Voucher.status == ACTIVE, Voucher.valid_until < today)
            .order_by(Voucher.id)
            .limit(limit)
        )
    ).all()
    count = 0
    for voucher_id, balance in due:
        changed = await uow.session.execute(
            update(Voucher)
            .where(
                Voucher.id == voucher_id,
                Voucher.status == ACTIVE,
                Voucher.balance_cents == balance,
            )
            .values(status=EXPIRED, balance_cents=0, gift_code=None)
            .execution_options(synchronize_session=False)
        )
        if rows_changed(changed) != 1:
            continue  # redeemed meanwhile: the next run books it
        if balance:
            uow.session.add(
                VoucherEntry(voucher_id=voucher_id, kind=EXPIRE, amount_cents=-balance, at=now)
            )
        count += 1
    await uow.session.flush()
    return count


async def remind_expiring(uow: UnitOfWork, now: datetime, city: City, limit: int = 5000) -> int:
    """One reminder per voucher (dedupe key) when a voucher with balance nears its end.
    A daily job (scheduler)."""
    rules = rules_of(city)
    today = now.astimezone(city.tz).date()
    horizon = today + timedelta(days=rules.remind_days_before)
    due = (
        await uow.session.execute(
            select(Voucher)
            .where(
                Voucher.status == ACTIVE,
                Voucher.balance_cents > 0,
                Voucher.valid_until >= today,
                Voucher.valid_until <= horizon,
            )
            .order_by(Voucher.id)
            .limit(limit)
        )
    ).scalars()
    vouchers = list(due)
    if not vouchers:
        return 0
    keys = {f"voucher-expiry:{v.id}:{v.valid_until.isoformat()}": v for v in vouchers}
    existing = await notify.known_keys(uow, keys)
    count = 0
    for key, voucher in keys.items():
        if key in existing:
            continue
        notify.notify_citizen(
            uow,
            voucher.citizen_id,
            N_(
                "Reminder: your city voucher still holds {balance} and is valid until {until}. "
                "Enjoy it at one of our acceptance points!"
            ),
            {"balance": i18n.money(voucher.balance_cents), "until": i18n.day(voucher.valid_until)},
            now=now,
            buttons=[notify.button(N_("Show voucher"), "voucher.show", str(voucher.id))],
            ref=f"voucher:{voucher.id}",
            dedupe_key=key,
        )
        count += 1
    await uow.session.flush()
    return count


# ---------------------------------------------------------------- wallet source
async def wallet_entries(
    uow: UnitOfWork, city: City, citizen_id: int, now: datetime
) -> list[WalletEntry]:
    entries = []
    for voucher in await of_citizen(uow, citizen_id):
        if voucher.status == REFUNDED:
            continue
        # the day in Berlin is within hours of UTC's; state() is re-checked on the details page
        today = now.date()
        entries.append(
            WalletEntry(
                kind="voucher",
                title=N_("City voucher"),
                code=voucher.code,
                status=state(voucher, today),
                valid_until=voucher.valid_until,
                balance_cents=voucher.balance_cents if voucher.status == ACTIVE else None,
                action="voucher.show",
                arg=str(voucher.id),
                sort_at=voucher.created_at,
            )
        )
    return entries


register_source("vouchers", wallet_entries)


# ---------------------------------------------------------------- before a resident is deleted


async def holdings(
    uow: UnitOfWork, city: City, citizen_id: int, now: datetime
) -> list[privacy.Holding]:
    """Active vouchers with money left (also those reserved as a gift not yet accepted)."""
    return [
        privacy.Holding(
            kind="voucher",
            title=N_("City voucher {code}: {amount} left")
            if voucher.gift_code is None
            else N_("City voucher {code}: {amount} left, reserved as a gift not yet accepted"),
            params=(
                ("code", codes.display(voucher.code)),
                ("amount", i18n.money(voucher.balance_cents)),
            ),
            cents=voucher.balance_cents,
            ref=str(voucher.id),
        )
        for voucher in await of_citizen(uow, citizen_id)
        if voucher.status == ACTIVE and voucher.balance_cents > 0
    ]


async def close_for_deletion(uow: UnitOfWork, citizen_id: int, now: datetime) -> int:
    """Book the balance out (a `forfeit` ledger entry: the bookkeeping keeps it) and close the
    voucher, so its code cannot be used once its holder is anonymous."""
    closed = 0
    for voucher in await of_citizen(uow, citizen_id):
        if voucher.status != ACTIVE:
            continue  # a pending purchase lapses with its payment
        changed = await uow.session.execute(
            update(Voucher)
            .where(
                Voucher.id == voucher.id,
                Voucher.status == voucher.status,
                Voucher.balance_cents == voucher.balance_cents,
            )
            .values(status=CLOSED, balance_cents=0, gift_code=None)
            .execution_options(synchronize_session=False)
        )
        if rows_changed(changed) != 1:
            raise Conflict("A voucher changed just now. Please try again.")
        if voucher.balance_cents:
            uow.session.add(
                VoucherEntry(
                    voucher_id=voucher.id or 0,
                    kind=FORFEIT,
                    amount_cents=-voucher.balance_cents,
                    at=now,
                )
            )
        audit.log_action(
            uow, now, "voucher.forfeit", f"voucher:{voucher.id}", balance=voucher.balance_cents
        )
        closed += 1
    await uow.session.flush()
    return closed


privacy.register_holdings("vouchers", holdings, close_for_deletion)
