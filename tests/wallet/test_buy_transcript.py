"""Buying a voucher with the demo provider, in the console chat."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from services.wallet import vouchers
from storage.db import Database
from storage.models.payments import Payment
from storage.models.vouchers import Voucher, VoucherEntry
from tests.support.chat import Transcript


async def only_voucher(db: Database) -> Voucher:
    async with db.uow() as uow:
        voucher = (await uow.session.execute(select(Voucher))).scalar_one()
        await uow.commit()  # keeps the loaded values readable after the session closes
        return voucher


async def test_buy_pay_in_chat_and_see_it_in_the_wallet(chat: Transcript, db: Database) -> None:
    await chat.send("anna", "/start")
    out = await chat.press("anna", "Buy a city voucher")
    assert "How much should it be worth?" in out
    assert "Winter offer" in out
    out = await chat.press("anna", "€25.00")
    assert "Your city voucher worth €25.00, valid until 31 Dec 2029." in out
    assert "Pay now: http://127.0.0.1:8080/pay/1-" in out
    assert "DEMO" in out and "Pay (demo)" in out and "Cancel (demo)" in out
    voucher = await only_voucher(db)
    assert voucher.status == "pending" and voucher.balance_cents == 0

    out = await chat.press("anna", "Pay (demo)")
    assert "Paid (demo – no money moved)" in out
    shown = await chat.notifications("anna")
    assert "Your city voucher worth €25.00 is in your wallet" in shown
    out = await chat.press("anna", "Show voucher")
    assert "Balance: €25.00" in out and "Status: valid" in out
    assert "[image:" in out and "voucher-" in out
    out = await chat.send("anna", "/wallet")
    assert "1 entry (1 active)" in out
    assert "City voucher · €25.00 · until 31 Dec 2029" in out

    voucher = await only_voucher(db)
    assert voucher.status == "active" and voucher.balance_cents == 2500
    async with db.uow() as uow:
        assert await vouchers.ledger_balance(uow, voucher.id or 0) == 2500
        entries = (await uow.session.execute(select(VoucherEntry))).scalars().all()
        assert [(e.kind, e.amount_cents) for e in entries] == [("issue", 2500)]


async def test_custom_amounts_are_parsed_and_checked(chat: Transcript, db: Database) -> None:
    await chat.send("ben", "/voucher")
    await chat.press("ben", "Other amount")
    for typed, answer in [
        ("-5", "Please enter a positive amount"),
        ("0", "The amount must be more than 0 €."),
        ("12,505", "at most two decimal places"),
        ("zwölf", "Please enter an amount in euros"),
        ("4,99", "Please choose an amount between €5.00 and €250.00."),
        ("1000", "Please choose an amount between €5.00 and €250.00."),
    ]:
        out = await chat.send("ben", typed)
        assert answer in out, (typed, out)
        assert "Which amount?" in out
    async with db.uow() as uow:
        assert (await uow.session.execute(select(Voucher))).first() is None
    out = await chat.send("ben", "12.50 €")
    assert "worth €12.50" in out
    out = await chat.send("ben", "/voucher")
    await chat.press("ben", "Other amount")
    out = await chat.send("ben", "12,50")
    assert "worth €12.50" in out


async def test_paying_twice_or_cancelling_after_paying_books_once(
    chat: Transcript, db: Database
) -> None:
    await chat.send("anna", "/voucher")
    await chat.press("anna", "€50.00")
    menu = chat.last["anna"]
    await chat.press("anna", "Pay (demo)")
    # the old menu again, as a second tap on a slow phone: outdated, nothing happens
    chat.last["anna"] = menu
    out = await chat.press("anna", "Pay (demo)")
    assert "outdated" in out
    chat.last["anna"] = menu
    out = await chat.press("anna", "Cancel (demo)")
    assert "outdated" in out
    # typing the old button label finds nothing to run twice either
    out = await chat.send("anna", "Cancel (demo)")
    voucher = await only_voucher(db)
    assert voucher.status == "active" and voucher.balance_cents == 5000
    async with db.uow() as uow:
        payment = (await uow.session.execute(select(Payment))).scalar_one()
        assert payment.status == "paid"
        assert await vouchers.ledger_balance(uow, voucher.id or 0) == 5000


async def test_cancel_and_expiry_release_the_voucher(chat: Transcript, db: Database) -> None:
    await chat.send("anna", "/voucher")
    await chat.press("anna", "€10.00")
    out = await chat.press("anna", "Cancel (demo)")
    assert "Cancelled. Nothing was charged." in out
    assert (await only_voucher(db)).status == "cancelled"

    await chat.send("anna", "/voucher")
    await chat.press("anna", "€10.00")
    chat.clock.advance(timedelta(minutes=31))
    out = await chat.press("anna", "Pay (demo)")
    assert "This payment link has expired" in out
    out = await chat.send("anna", "/wallet")
    assert "Your wallet is empty" in out


async def test_subsidised_offer_limit_per_resident(chat: Transcript, db: Database) -> None:
    for _ in range(2):
        await chat.send("anna", "/voucher")
        out = await chat.press("anna", "Winter offer")
        assert "worth €100.00" in out and "Please pay €85.00" in out
        await chat.press("anna", "Pay (demo)")
    await chat.send("anna", "/voucher")
    out = await chat.press("anna", "Winter offer")
    assert "You already have 2 vouchers from this offer" in out
    async with db.uow() as uow:
        usage = await vouchers.offer_usage(uow, "winteraktion")
        assert usage is not None and usage.count == 2 and usage.subsidy_cents == 3000
        held = (await uow.session.execute(select(Voucher))).scalars().all()
        assert sorted((v.value_cents, v.price_cents, v.status) for v in held) == [
            (10000, 8500, "active"),
            (10000, 8500, "active"),
        ]
