"""The wallet's done-when on Matrix (real Synapse, matrix-nio resident): a new resident buys a
city voucher with the demo provider by typing numbers and labels, pays in the chat, gets the
payment notification through the outbox and finds the voucher with its QR code in the wallet."""

from __future__ import annotations

from tests.matrix.support import BotRunner, Resident, options_of


async def test_buy_and_pay_a_voucher_on_matrix(bot: BotRunner, resident: Resident) -> None:
    await bot.start()
    room = await resident.open_dm(bot.user_id)
    await resident.next_answer(room, 0, contains="What would you like to do?")

    count = len(resident.from_bot(room))
    await resident.send(room, "voucher")
    amounts = await resident.next_answer(room, count, contains="How much should it be worth?")
    options = options_of(amounts[-1])
    assert options[0].startswith("€10.00")

    count = len(resident.from_bot(room))
    await resident.send(room, "1")  # the first amount, by its number
    checkout = await resident.next_answer(room, count, contains="Please pay")
    assert "Pay (demo)" in options_of(checkout[-1])

    count = len(resident.from_bot(room))
    await resident.send(room, "pay (demo)")  # by its label
    await resident.next_answer(room, count, contains="Paid (demo")

    count = len(resident.from_bot(room))
    await bot.drain()  # the outbox delivers the payment notification
    paid = await resident.next_answer(room, count, contains="Payment received")
    assert "€10.00" in paid[-1].body

    count = len(resident.from_bot(room))
    await resident.send(room, "/wallet")
    wallet = await resident.next_answer(room, count, contains="wallet")
    voucher = next(o for o in options_of(wallet[-1]) if "voucher" in o.lower())

    count = len(resident.from_bot(room))
    await resident.send(room, voucher)
    details = await resident.next_answer(room, count, contains="Balance")
    assert any(s.content.get("msgtype") == "m.image" for s in details)
