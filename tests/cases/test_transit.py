"""The Sozialticket after approval: pay the month, get the pass in the wallet, never beyond the
proof's validity, a reminder to renew."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from services.cases.rules import month_key, pass_months
from services.payments import lifecycle as payments
from services.wallet import sources as wallet
from storage.models.payments import PAID, Payment
from tests.cases.conftest import submit_case
from tests.conftest import BERLIN
from tests.support.chat import Transcript
from tests.support.env import env_with


@dataclass
class FakeProvider:
    name: str = "fake"
    demo: bool = True

    async def create_checkout(self, payment: Payment) -> object:
        from services.payments.provider import Checkout

        return Checkout(f"http://pay.test/{payment.id}", f"fake-{payment.id}")

    async def refund(self, payment: Payment, amount_cents: int) -> str:
        return "refund"


async def approved_transit(chat: Transcript, citizen: int, proof_until: str) -> str:
    ref = await submit_case(
        chat,
        citizen,
        form="transit",
        department="buergerbuero",
        basis="buergergeld",
        proof_until=proof_until,
    )
    await chat.notifications("room:buergerbuero")
    await chat.press("petra", "Bewilligen", room="buergerbuero")
    await chat.press("petra", "Ja", room="buergerbuero")
    return ref


async def test_pay_the_month_and_find_the_pass_in_the_wallet(
    chat: Transcript, people: dict[str, int]
) -> None:
    chat.env.payments = FakeProvider()
    chat.clock.set(datetime(2026, 11, 10, 9, 0, tzinfo=BERLIN))  # 21 days of November left
    await chat.send("anna", "/language en")
    await approved_transit(chat, people["anna"], "2027-01-15")
    told = await chat.notifications("anna")
    assert "was approved" in told and "You can buy the pass for 11/2026 now." in told
    offer = await chat.press("anna", "Buy the monthly pass")
    assert "for 11/2026 costs €39.00" in offer
    assert "Pay now: http://127.0.0.1:8080/pay/1-" in offer
    paid = await chat.press("anna", "Pay (demo)")
    assert "Paid (demo – no money moved)" in paid
    assert "Deutschlandticket Sozial for 11/2026 is in your wallet" in await chat.notifications(
        "anna"
    )
    async with chat.db.uow() as uow:
        entries = await wallet.entries(uow, chat.city, people["anna"], chat.clock.now())
    assert [(e.kind, e.status, str(e.valid_until)) for e in entries] == [
        ("transit_pass", "valid", "2026-11-30")
    ]
    # from the 20th, next month: December, then January only until the proof ends
    chat.clock.set(datetime(2026, 11, 21, 9, 0, tzinfo=BERLIN))
    await chat.send("anna", "/cases")
    await chat.press("anna", "AH-2026")
    await chat.press("anna", "Buy the monthly pass")
    assert "12/2026" in chat.log[-1]
    await chat.press("anna", "Pay (demo)")
    await chat.notifications("anna")
    wallet_text = await chat.send("anna", "/wallet")  # paid, starts in December
    assert "Deutschlandticket Sozial 12/2026 · paid, valid from 1 Dec 2026" in wallet_text
    assert "awaiting payment" not in wallet_text
    chat.clock.set(datetime(2027, 1, 4, 9, 0, tzinfo=BERLIN))
    reminders = await chat.notifications("anna")
    assert "Your transit pass ends on 31 Dec 2026" in reminders
    await chat.press("anna", "Buy the monthly pass")
    await chat.press("anna", "Pay (demo)")
    await chat.notifications("anna")
    async with chat.db.uow() as uow:
        entries = await wallet.entries(uow, chat.city, people["anna"], chat.clock.now())
    january = next(e for e in entries if e.title_params == (("month", "01/2027"),))
    assert str(january.valid_until) == "2027-01-15"  # never beyond the proof
    chat.clock.advance(timedelta(days=10))
    assert "apply again with your new benefit notice" in await chat.notifications("anna")
    await chat.send("anna", "/cases")
    await chat.press("anna", "AH-2026")
    no_more = await chat.press("anna", "Buy the monthly pass")
    assert "every month until then that a pass is useful for is paid" in no_more


async def test_approved_on_the_30th_offers_the_next_month(
    chat: Transcript, people: dict[str, int]
) -> None:
    """The observed case: approved on 30.11., only November was offered (a day's pass)."""
    chat.env.payments = FakeProvider()
    chat.clock.set(datetime(2026, 11, 30, 15, 0, tzinfo=BERLIN))
    await chat.send("anna", "/language en")
    await approved_transit(chat, people["anna"], "2027-06-30")
    assert "You can buy the pass for 12/2026 now." in await chat.notifications("anna")
    offer = await chat.press("anna", "Buy the monthly pass")
    assert "for 12/2026 costs €39.00" in offer
    await chat.press("anna", "Pay (demo)")
    assert "for 12/2026 is in your wallet, valid until 31 Dec 2026" in (
        await chat.notifications("anna")
    )


async def test_from_the_20th_both_months_can_be_chosen(
    chat: Transcript, people: dict[str, int]
) -> None:
    chat.env.payments = FakeProvider()
    chat.clock.set(datetime(2027, 2, 18, 9, 0, tzinfo=BERLIN))  # 11 days of February left
    await chat.send("anna", "/language en")
    await approved_transit(chat, people["anna"], "2027-06-30")
    await chat.notifications("anna")
    offer = await chat.press("anna", "Buy the monthly pass")
    assert "for 02/2027 costs" in offer  # before the 20th: this month only
    chat.clock.set(datetime(2027, 2, 20, 9, 0, tzinfo=BERLIN))  # 9 days left: next month only
    await chat.send("anna", "/cases")
    await chat.press("anna", "AH-2027")
    offer = await chat.press("anna", "Buy the monthly pass")
    assert "for 03/2027 costs" in offer


def test_offered_months_at_month_ends() -> None:
    def months(today: date, proof: date, taken: set[str] = frozenset()) -> list[str]:  # type: ignore[assignment]
        found = pass_months(today, proof, set(taken), min_days_left=10, next_month_from_day=20)
        return [month_key(first) for first, _last in found]

    far = date(2028, 12, 31)
    assert months(date(2026, 11, 10), far) == ["2026-11"]
    assert months(date(2026, 11, 20), far) == ["2026-11", "2026-12"]  # 11 days left, the 20th
    assert months(date(2026, 11, 21), far) == ["2026-11", "2026-12"]  # 10 days left
    assert months(date(2026, 11, 22), far) == ["2026-12"]  # 9 days left: not worth it
    assert months(date(2026, 11, 30), far) == ["2026-12"]
    assert months(date(2026, 12, 31), far) == ["2027-01"]  # over the new year
    assert months(date(2027, 2, 19), far) == ["2027-02"]  # 10 days of February, before 20th
    assert months(date(2027, 2, 20), far) == ["2027-03"]  # 9 days left
    assert months(date(2028, 2, 20), far) == ["2028-02", "2028-03"]  # leap year: 10 days left
    assert months(date(2026, 11, 25), far, {"2026-12"}) == []  # paid ahead, rest not useful
    assert months(date(2026, 11, 10), far, {"2026-11"}) == ["2026-12"]
    assert months(date(2026, 11, 25), date(2026, 11, 30)) == []  # proof ends with November
    assert months(date(2026, 11, 10), date(2026, 11, 15)) == ["2026-11"]


async def test_a_payment_is_settled_once(chat: Transcript, people: dict[str, int]) -> None:
    chat.env.payments = FakeProvider()
    await chat.send("anna", "/language en")
    await approved_transit(chat, people["anna"], "2027-06-30")
    await chat.notifications("anna")
    await chat.press("anna", "Buy the monthly pass")
    offer = chat.last["anna"]
    await chat.press("anna", "Pay (demo)")
    chat.last["anna"] = offer
    twice = await chat.press("anna", "Pay (demo)")
    assert "outdated" in twice
    async with chat.db.uow() as uow:  # a replayed provider webhook
        assert not await payments.settle(uow, env_with(), 1, PAID, chat.clock.now())
        await uow.commit()
    async with chat.db.uow() as uow:
        assert len(await wallet.entries(uow, chat.city, people["anna"], chat.clock.now())) == 1


async def test_not_yet_approved_or_no_payments(chat: Transcript, people: dict[str, int]) -> None:
    await chat.send("anna", "/language en")
    ref = await submit_case(
        chat, people["anna"], form="transit", department="buergerbuero", proof_until="2027-06-30"
    )
    chat.env.payments = FakeProvider()
    early = await chat.send("anna", f"/case {ref}")
    assert "Buy the monthly pass" not in early
    async with chat.db.uow() as uow:
        from services.cases import transit
        from services.errors import Conflict

        try:
            await transit.start_purchase(
                uow, env_with(FakeProvider(), city=chat.city), people["anna"], ref, chat.clock.now()
            )
        except Conflict as refused:
            assert "once your Sozialticket application is approved" in refused.message
        else:
            raise AssertionError("bought before approval")
    chat.env.payments = None
    await chat.notifications("room:buergerbuero")
    await chat.press("petra", "Bewilligen", room="buergerbuero")
    await chat.press("petra", "Ja", room="buergerbuero")
    await chat.notifications("anna")
    answer = await chat.press("anna", "Buy the monthly pass")
    assert "not available yet" in answer
