"""The subsidised transit pass: bought month by month after the application was approved,
never valid beyond the eligibility proof; it appears in the wallet."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlmodel import col

from services import codes, i18n, notify
from services.audit import log_action
from services.cases import records as cases
from services.cases.rules import APPROVED, month_end, month_key, pass_months, rules
from services.city import City
from services.env import Env
from services.errors import Conflict
from services.i18n import N_
from services.payments import lifecycle as payments
from services.wallet import sources as wallet
from storage.models.cases import Case, CaseEvent, TransitPass
from storage.models.payments import CREATED, Payment
from storage.uow import UnitOfWork

PASS_TITLE = N_("Deutschlandticket Sozial {month}")
REMIND_DAYS_BEFORE = 5


def month_label(month: str) -> str:
    year, number = month.split("-")
    return f"{number}/{year}"


async def _approved_case(uow: UnitOfWork, citizen_id: int, ref: str) -> Case:
    case = await cases.find_own(uow, citizen_id, ref)
    if case.form != "transit" or case.status != APPROVED:
        raise Conflict("The pass can be bought once your Sozialticket application is approved.")
    return case


def proof_until(case: Case) -> date:
    return date.fromisoformat(str(case.answers["proof_until"]))


async def passes_of(uow: UnitOfWork, citizen_id: int) -> list[TransitPass]:
    result = await uow.session.execute(
        select(TransitPass)
        .where(TransitPass.citizen_id == citizen_id)
        .order_by(col(TransitPass.valid_from).desc())
    )
    return list(result.scalars())


async def offered_months(
    uow: UnitOfWork, city: City, case: Case, citizen_id: int, now: datetime
) -> list[str]:
    """The months ("2026-12") the resident can buy a pass for now (see rules.pass_months);
    none for a case without a readable proof date."""
    try:
        proof = proof_until(case)
    except (KeyError, ValueError):
        return []
    form_rules = rules(city)
    taken = {p.month for p in await passes_of(uow, citizen_id)}
    periods = pass_months(
        now.astimezone(city.tz).date(),
        proof,
        taken,
        min_days_left=form_rules.transit_min_days_left,
        next_month_from_day=form_rules.transit_next_month_from_day,
    )
    return [month_key(first) for first, _last in periods]


async def months_to_buy(
    uow: UnitOfWork, city: City, citizen_id: int, ref: str, now: datetime
) -> list[str]:
    """The approved case's months on offer; a friendly refusal when there is none."""
    case = await _approved_case(uow, citizen_id, ref)
    months = await offered_months(uow, city, case, citizen_id, now)
    if not months:
        try:
            until = i18n.day(proof_until(case))
        except (KeyError, ValueError):
            raise Conflict(
                "The pass can be bought once your Sozialticket application is approved."
            ) from None
        raise Conflict(
            "Your proof of eligibility is valid until {date}, and every month until then that "
            "a pass is useful for is paid. Please apply again with your new benefit notice.",
            date=until,
        )
    return months


async def start_purchase(
    uow: UnitOfWork,
    env: Env,
    citizen_id: int,
    ref: str,
    now: datetime,
    month: str | None = None,
) -> tuple[Payment, str]:
    """A checkout for `month` (default: the first month on offer): (payment, month)."""
    city = env.city
    case = await _approved_case(uow, citizen_id, ref)
    months = await months_to_buy(uow, city, citizen_id, ref, now)
    if month is None:
        month = months[0]
    elif month not in months:
        raise Conflict(
            "A pass for {month} cannot be bought now: it is paid already, or not useful any "
            "more. Please choose again.",
            month=month_label(month) if len(month) == 7 else month[:7],
        )
    payment_ref = f"{case.reference}:{month}"
    open_checkout = (
        await uow.session.execute(
            select(Payment).where(
                Payment.purpose == "transit",
                Payment.ref == payment_ref,
                Payment.status == CREATED,
                Payment.expires_at > now,
            )
        )
    ).scalar_one_or_none()
    if open_checkout is not None:
        return open_checkout, month
    payment = await payments.start(
        uow,
        env,
        citizen_id=citizen_id,
        purpose="transit",
        ref=payment_ref,
        amount_cents=rules(city).transit_price_cents,
        description=f"Deutschlandticket Sozial {month_label(month)}",
        now=now,
    )
    return payment, month


async def pass_paid(uow: UnitOfWork, env: Env, payment: Payment, now: datetime) -> None:
    """Payment hook: issue the pass for the paid month, and remind before it ends."""
    reference, _sep, month = payment.ref.partition(":")
    case = (await uow.session.execute(select(Case).where(Case.reference == reference))).scalar_one()
    first = date.fromisoformat(f"{month}-01")
    valid_from = first  # a monthly ticket: the calendar month
    valid_until = min(month_end(first), proof_until(case))
    issued = TransitPass(
        citizen_id=payment.citizen_id,
        case_id=case.id or 0,
        payment_id=payment.id,
        month=month,
        code=codes.new_code(12),
        valid_from=valid_from,
        valid_until=valid_until,
        created_at=now,
    )
    uow.session.add(issued)
    await uow.session.flush()
    uow.session.add(
        CaseEvent(
            case_id=case.id or 0,
            citizen_id=case.citizen_id,
            at=now,
            kind="pass",
            status=case.status,
            text=month_label(month),
            actor_id=payment.citizen_id,
        )
    )
    log_action(
        uow,
        now,
        "transit.pass",
        f"case:{case.reference}",
        actor_citizen_id=payment.citizen_id,
        month=month,
        payment=payment.id,
    )
    notify.notify_citizen(
        uow,
        payment.citizen_id,
        N_(
            "🎫 Thank you! Your Deutschlandticket Sozial for {month} is in your wallet, valid "
            "until {until}. Code: {code}"
        ),
        {
            "month": month_label(month),
            "until": i18n.day(valid_until),
            "code": codes.display(issued.code),
        },
        now=now,
        ref=f"transit:{issued.id}",
    )
    _schedule_reminder(uow, case, issued, now)


def _schedule_reminder(uow: UnitOfWork, case: Case, issued: TransitPass, now: datetime) -> None:
    remind_day = issued.valid_until - timedelta(days=REMIND_DAYS_BEFORE)
    at = datetime.combine(remind_day, time(9, 0), now.tzinfo)
    last_month = proof_until(case) <= issued.valid_until
    note = notify.notify_citizen(
        uow,
        case.citizen_id,
        N_(
            "Your transit pass and your proof of eligibility end on {until}. To keep travelling, "
            "please apply again with your new benefit notice."
        )
        if last_month
        else N_("Your transit pass ends on {until}. You can buy next month's pass now."),
        {"until": i18n.day(issued.valid_until)},
        now=max(at, now),
        buttons=[notify.button(N_("Apply again"), "form.open", "transit")]
        if last_month
        else [notify.button(N_("Buy the monthly pass"), "transit.buy", case.reference)],
        ref=f"transit:{issued.id}",
        dedupe_key=f"transit-renew:{issued.id}",
    )
    note.created_at = now


async def wallet_entries(
    uow: UnitOfWork, city: City, citizen_id: int, now: datetime
) -> list[wallet.WalletEntry]:
    today = now.astimezone(city.tz).date()
    return [
        wallet.WalletEntry(
            kind="transit_pass",
            title=PASS_TITLE,
            title_params=(("month", month_label(p.month)),),
            code=p.code,
            # paid: valid, or "upcoming" for a month still ahead (never "awaiting payment")
            status="valid"
            if p.valid_from <= today <= p.valid_until
            else ("upcoming" if today < p.valid_from else "expired"),
            valid_from=p.valid_from,
            valid_until=p.valid_until,
            sort_at=datetime.combine(p.valid_from, time(0), now.tzinfo),
        )
        for p in await passes_of(uow, citizen_id)
    ]


payments.register_purpose("transit", on_paid=pass_paid)
wallet.register_source("transit", wallet_entries)
