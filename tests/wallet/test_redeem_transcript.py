"""Gifting, redeeming, undo, refund and expiry as console transcripts."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from services import codes
from services.clock import FrozenClock
from services.errors import Conflict
from services.wallet import gifts, refunds, vouchers
from storage.db import Database
from storage.models.outbox import AuditEntry
from storage.models.vouchers import Voucher, VoucherEntry
from tests.support.chat import Transcript
from tests.wallet.conftest import resident


async def buy(chat: Transcript, user: str, amount: str) -> None:
    await chat.send(user, "/voucher")
    await chat.press(user, amount)
    await chat.press(user, "Pay (demo)")
    await chat.notifications(user)


async def vouchers_of(db: Database, citizen_id: int) -> list[Voucher]:
    async with db.uow() as uow:
        found = list(
            (
                await uow.session.execute(
                    select(Voucher).where(Voucher.citizen_id == citizen_id).order_by(Voucher.id)
                )
            ).scalars()
        )
        await uow.commit()
        return found


async def assert_ledger_consistent(db: Database) -> None:
    async with db.uow() as uow:
        for voucher in (await uow.session.execute(select(Voucher))).scalars():
            assert await vouchers.ledger_balance(uow, voucher.id or 0) == voucher.balance_cents


def code_in(text: str, label: str) -> str:
    match = re.search(label + r": ([0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{2})", text)
    assert match, text
    return match.group(1)


async def test_buy_two_gift_one_and_a_merchant_redeems_part(
    chat: Transcript, db: Database, clock: FrozenClock
) -> None:
    anna = await resident(db, clock, "anna")
    ben = await resident(db, clock, "ben")
    await resident(db, clock, "carla", "merchant", "cafe-am-schloss")
    await buy(chat, "anna", "€25.00")
    await buy(chat, "anna", "€50.00")
    out = await chat.send("anna", "/wallet")
    assert "2 entries (2 active)" in out

    # anna gifts the 50 € voucher to ben
    out = await chat.press("anna", "€50.00")
    old_code = code_in(out, "Code")
    out = await chat.press("anna", "Gift this voucher")
    gift = code_in(out, "Gift code")
    assert f"/start g-{gift.replace('-', '')}" in out
    out = await chat.send("anna", f"/start g-{gift}")
    assert "This is your own gift" in out
    out = await chat.send("ben", f"/start g-{gift.replace('-', '')}")
    assert "A gift for you: a city voucher with €50.00 is now in your wallet." in out
    new_code = code_in(out, "Code")
    assert new_code != old_code
    assert "Your gift was received" in await chat.notifications("anna")
    out = await chat.send("ben", f"/start g-{gift}")
    assert "unknown or was already claimed" in out
    assert [v.value_cents for v in await vouchers_of(db, ben)] == [5000]
    assert [v.value_cents for v in await vouchers_of(db, anna)] == [2500]

    # carla redeems €12.50 of ben's voucher; the old code is worthless now
    out = await chat.send("carla", "/menu")
    out = await chat.press("carla", "Redeem a voucher")
    assert "Café am Schloss: please type the voucher code" in out
    out = await chat.send("carla", old_code)
    assert "No voucher has this code" in out
    out = await chat.send("carla", new_code.lower())
    assert "balance €50.00" in out
    for typed, answer in [
        ("abc", "Please enter an amount in euros"),
        ("-3", "Please enter a positive amount"),
        ("0", "more than 0 €"),
        ("1,234", "at most two decimal places"),
        ("60", "The voucher only holds €50.00"),
    ]:
        out = await chat.send("carla", typed)
        assert answer in out, (typed, out)
    out = await chat.send("carla", "12,50")
    assert "Redeem €12.50 from voucher" in out
    confirm_menu = chat.last["carla"]
    out = await chat.press("carla", "Confirm")
    assert "Redeemed: €12.50" in out and "Remaining balance: €37.50" in out
    # the same confirmation pressed again (a double tap): outdated menu, nothing booked twice
    chat.last["carla"] = confirm_menu
    out = await chat.press("carla", "Confirm")
    assert "outdated" in out
    shown = await chat.notifications("ben")
    assert "€12.50 of your city voucher were redeemed at Café am Schloss" in shown
    assert "Remaining balance: €37.50" in shown

    out = await chat.send("carla", "/turnover")
    assert "Café am Schloss: 1 redemption, €12.50 in total (0 undone)." in out

    # a resident cannot redeem
    out = await chat.send("anna", "/redeem")
    assert "only authorised staff" in out
    out = await chat.send("anna", f"/start v-{new_code}")
    assert "Only acceptance points can redeem it" in out

    (voucher,) = await vouchers_of(db, ben)
    assert voucher.balance_cents == 3750
    await assert_ledger_consistent(db)
    async with db.uow() as uow:
        actions = (await uow.session.execute(select(AuditEntry.action))).scalars().all()
        assert "voucher.redeem" in actions and "voucher.gift" in actions


async def test_deep_link_undo_and_its_time_limit(
    chat: Transcript, db: Database, clock: FrozenClock
) -> None:
    ben = await resident(db, clock, "ben")
    await resident(db, clock, "carla", "merchant", "cafe-am-schloss")
    await resident(db, clock, "bernd", "merchant", "buchhandlung-schmitz")
    await buy(chat, "ben", "€25.00")
    (voucher,) = await vouchers_of(db, ben)
    # the QR code carries /start v-<code>; the holder opening it sees the voucher
    out = await chat.send("ben", f"/start v-{voucher.code}")
    assert "Balance: €25.00" in out
    # a typo in the code is caught by the check character
    typo = ("1" if voucher.code[3] != "1" else "2").join([voucher.code[:3], voucher.code[4:]])
    out = await chat.send("carla", f"/start v-{typo}")
    assert "typo" in out
    out = await chat.send("carla", f"/start v-{voucher.code}")
    assert "balance €25.00" in out
    await chat.press("carla", "Whole balance")
    out = await chat.press("carla", "Confirm")
    assert "Remaining balance: €0.00" in out
    undo_menu = chat.last["carla"]
    out = await chat.send("bernd", f"/redeem {voucher.code}")
    assert "used up" in out
    out = await chat.press("carla", "Undo")
    assert re.search(r"Undo receipt no\. \d+\? €25\.00 goes back on voucher", out), out
    out = await chat.press("carla", "Yes, undo")
    assert "Undone: €25.00 is back on voucher" in out
    chat.last["carla"] = undo_menu
    out = await chat.press("carla", "Undo")
    assert "outdated" in out
    assert "cancelled a redemption of €25.00" in await chat.notifications("ben")

    out = await chat.send("bernd", f"/redeem {voucher.code}")
    await chat.send("bernd", "5")
    out = await chat.press("bernd", "Confirm")
    assert "Remaining balance: €20.00" in out
    clock.advance(timedelta(minutes=16))
    out = await chat.press("bernd", "Undo")
    out = await chat.press("bernd", "Yes, undo")
    assert "only be undone within 15 minutes" in out
    (voucher,) = await vouchers_of(db, ben)
    assert voucher.balance_cents == 2000
    out = await chat.send("bernd", "/turnover")
    assert "Buchhandlung Schmitz: 1 redemption, €5.00 in total" in out
    assert re.search(r"\d\d:\d\d:\d\d Receipt no\. \d+ …[0-9A-Z-]+.: €5\.00", out), out
    out = await chat.send("carla", "/turnover")
    assert "Café am Schloss: 1 redemption, €0.00 in total (1 undone)." in out
    assert "Undo of receipt no." in out and ": -€25.00" in out
    await assert_ledger_consistent(db)


async def test_refund_within_14_days_only_unused(
    chat: Transcript, db: Database, clock: FrozenClock
) -> None:
    anna = await resident(db, clock, "anna")
    await resident(db, clock, "carla", "merchant", "cafe-am-schloss")
    await buy(chat, "anna", "€25.00")
    await buy(chat, "anna", "€10.00")
    first, second = await vouchers_of(db, anna)
    out = await chat.send("anna", "/wallet")
    out = await chat.press("anna", "€25.00")
    out = await chat.press("anna", "Refund")
    assert "You get €25.00 back" in out
    out = await chat.press("anna", "Yes, refund")
    assert "Done: €25.00 will be refunded." in out
    # pressing again later: already refunded
    out = await chat.send("anna", "/wallet")
    assert "25,00" not in out

    # a used voucher has no refund button; the action itself refuses too
    await chat.send("carla", f"/redeem {second.code}")
    await chat.send("carla", "1")
    await chat.press("carla", "Confirm")
    out = await chat.send("anna", "/wallet")
    out = await chat.press("anna", "€9.00")
    assert "Refund" not in out
    async with db.uow() as uow:
        with pytest.raises(Conflict) as refused:
            await refunds.refund(uow, chat.env, anna, second.id or 0, clock.now())
        assert "Only an unused voucher" in refused.value.message

    await buy(chat, "anna", "€50.00")
    clock.advance(timedelta(days=15))
    third = (await vouchers_of(db, anna))[-1]
    async with db.uow() as uow:
        with pytest.raises(Conflict) as refused:
            await refunds.refund(uow, chat.env, anna, third.id or 0, clock.now())
        assert "within {days} days" in refused.value.message
    statuses = [v.status for v in await vouchers_of(db, anna)]
    assert statuses == ["refunded", "active", "active"]
    async with db.uow() as uow:
        kinds = (
            await uow.session.execute(
                select(VoucherEntry.kind, VoucherEntry.amount_cents).where(
                    VoucherEntry.voucher_id == first.id
                )
            )
        ).all()
        assert sorted(kinds) == [("issue", 2500), ("refund", -2500)]
    await assert_ledger_consistent(db)


async def test_expiry_books_the_rest_and_reminds_once(
    chat: Transcript, db: Database, clock: FrozenClock
) -> None:
    anna = await resident(db, clock, "anna")
    await resident(db, clock, "carla", "merchant", "cafe-am-schloss")
    await buy(chat, "anna", "€25.00")
    (voucher,) = await vouchers_of(db, anna)
    assert voucher.valid_until.isoformat() == "2029-12-31"

    clock.set(clock.now().replace(year=2029, month=11, day=15))
    for _ in range(2):
        async with db.uow() as uow:
            await vouchers.remind_expiring(uow, clock.now(), chat.city)
            await uow.commit()
    shown = await chat.notifications("anna")
    assert shown.count("Reminder: your city voucher still holds €25.00") == 1

    clock.set(clock.now().replace(year=2030, month=1, day=1))
    out = await chat.send("carla", f"/redeem {voucher.code}")
    assert "This voucher expired on 31 Dec 2029." in out
    async with db.uow() as uow:
        assert await vouchers.expire_vouchers(uow, clock.now(), chat.city) == 1
        await uow.commit()
    async with db.uow() as uow:
        assert await vouchers.expire_vouchers(uow, clock.now(), chat.city) == 0
    (voucher,) = await vouchers_of(db, anna)
    assert voucher.status == "expired" and voucher.balance_cents == 0
    out = await chat.send("anna", "/wallet")
    assert "expired" in out
    async with db.uow() as uow:
        count = (
            await uow.session.execute(
                select(func.count()).select_from(VoucherEntry).where(VoucherEntry.kind == "expire")
            )
        ).scalar_one()
        assert count == 1
    await assert_ledger_consistent(db)


async def test_unknown_and_garbage_codes(
    chat: Transcript, db: Database, clock: FrozenClock
) -> None:
    await resident(db, clock, "carla", "merchant", "cafe-am-schloss")
    await chat.send("carla", "/redeem")
    out = await chat.send("carla", "hello")
    assert "This is not a voucher code" in out
    out = await chat.send("carla", codes.new_code(12))
    assert "No voucher has this code" in out
    out = await chat.send("anna", "/wallet")
    await chat.press("anna", "Claim a gift")
    out = await chat.send("anna", codes.new_code(12))
    assert "unknown or was already claimed" in out


async def test_gift_claimed_between_lookup_and_confirm_is_not_redeemed(
    chat: Transcript, db: Database, clock: FrozenClock
) -> None:
    anna = await resident(db, clock, "anna")
    ben = await resident(db, clock, "ben")
    await resident(db, clock, "carla", "merchant", "cafe-am-schloss")
    await buy(chat, "anna", "€25.00")
    (voucher,) = await vouchers_of(db, anna)
    await chat.send("carla", f"/redeem {voucher.code}")
    await chat.send("carla", "10")
    async with db.uow() as uow:
        gift = await gifts.create(uow, chat.city, anna, voucher.id or 0, clock.now())
        await gifts.claim(uow, chat.city, ben, gift, clock.now())
        await uow.commit()
    out = await chat.press("carla", "Confirm")
    assert "gifted meanwhile and has a new code" in out
    (moved,) = await vouchers_of(db, ben)
    assert moved.balance_cents == 2500


async def test_pending_voucher_offers_its_checkout_again(
    chat: Transcript, db: Database, clock: FrozenClock
) -> None:
    await chat.send("anna", "/voucher")
    await chat.press("anna", "€10.00")
    out = await chat.send("anna", "/wallet")
    assert "awaiting payment" in out
    out = await chat.press("anna", "awaiting payment")
    assert "Please pay €10.00 here" in out
    await chat.press("anna", "Pay (demo)")
    assert "is in your wallet" in await chat.notifications("anna")


async def test_merchant_amount_numbers_are_amounts_and_options_go_by_label(
    chat: Transcript, db: Database, clock: FrozenClock
) -> None:
    """ "Which amount? [1] Whole balance" once booked 1,00 € for a typed 1, and a 2 meant as
    Cancel booked 2,00 €: the options are named now, and every booking asks once."""
    ben = await resident(db, clock, "ben")
    await resident(db, clock, "carla", "merchant", "cafe-am-schloss")
    await buy(chat, "ben", "€25.00")
    (voucher,) = await vouchers_of(db, ben)
    out = await chat.send("carla", f"/redeem {voucher.code}")
    assert "balance €25.00" in out
    assert "[1]" not in out and "▸ Whole balance (€25.00)" in out and "▸ Cancel" in out
    assert "a number you type is your answer" in out
    out = await chat.send("carla", "2")  # an amount here, and it is shown before booking
    assert "Redeem €2.00 from voucher" in out
    out = await chat.send("carla", "2")  # yes/no: now the number picks, 2 = Cancel
    assert "Cancelled. Nothing was booked." in out
    out = await chat.send("carla", f"/redeem {voucher.code}")
    out = await chat.send("carla", "whole balance")  # the label, without its detail
    assert "Redeem €25.00 from voucher" in out
    out = await chat.send("carla", "Cancel")
    assert "Nothing was booked" in out
    (voucher,) = await vouchers_of(db, ben)
    assert voucher.balance_cents == 2500
