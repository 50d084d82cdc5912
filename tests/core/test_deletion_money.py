"""/deleteme and money: vouchers and tickets with money left are named, gift and refund are
offered first; deleting anyway closes them (ledger kept, codes no longer usable); every table's
retention is stated in docs/privacy.md."""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import select
from sqlmodel import SQLModel

from services.city import City
from services.events import booking
from services.identity import accounts as identity
from services.identity import privacy
from services.wallet import redemption, vouchers
from storage.models.events import CANCELLED, Ticket
from storage.models.vouchers import Voucher, VoucherEntry
from tests.events.conftest import make_event
from tests.support.chat import Transcript

PRIVACY_DOC = Path(__file__).parents[2] / "docs" / "privacy.md"


async def _anna_with_money(chat: Transcript, city: City) -> tuple[int, int, int]:
    await chat.send("anna", "/start")
    await chat.send("anna", "/language en")
    now = chat.clock.now()
    async with chat.db.uow() as uow:
        account = await identity.find_account(uow, "console", "anna")
        assert account is not None
        anna = account.citizen_id
        olaf, _ = await identity.contact(
            uow, channel="console", external_id="olaf", chat_id="olaf", now=now
        )
        await uow.commit()
    event_id = await make_event(chat.db, olaf.id or 0, now, title="Lichterfest", capacity=5)
    async with chat.db.uow() as uow:
        voucher = await vouchers.issue(uow, city, anna, 5000, now=now)
        await redemption.redeem(
            uow,
            city,
            merchant_key="cafe-am-schloss",
            actor_citizen_id=None,
            voucher_id=voucher.id or 0,
            amount_cents=2600,
            idempotency_key="coffee",
            now=now,
        )
        await booking.book(
            uow,
            chat.env,
            citizen_id=anna,
            event_id=event_id,
            quantity=1,
            rules=city.section("events", booking.EventRules),
            now=now,
        )
        await uow.commit()
        return anna, voucher.id or 0, event_id


async def test_deleteme_names_the_money_and_offers_gift_or_refund_first(
    chat: Transcript, city: City
) -> None:
    anna, voucher_id, _event = await _anna_with_money(chat, city)
    asked = await chat.send("anna", "/deleteme")
    assert "Before you delete your data: you still hold €24.00" in asked
    assert "City voucher" in asked and "€24.00 left" in asked
    assert "Ticket for Lichterfest" in asked
    assert "Gift " in asked and "Cancel the ticket for Lichterfest" in asked
    assert "Delete anyway and give up €24.00" in asked
    # the gift button leads to the existing gift flow: nothing is deleted
    gift = await chat.press("anna", next(b for b in _labels(chat) if b.startswith("Gift ")))
    assert "gift" in gift.lower()
    async with chat.db.uow() as uow:
        assert (await uow.session.get(Voucher, voucher_id)) is not None
        assert await privacy.holdings(uow, chat.city, anna, chat.clock.now())


async def test_deleting_anyway_closes_vouchers_and_tickets_and_keeps_the_ledger(
    chat: Transcript, city: City
) -> None:
    anna, voucher_id, event_id = await _anna_with_money(chat, city)
    await chat.send("anna", "/deleteme")
    done = await chat.press("anna", "Delete anyway and give up €24.00")
    assert "Your data has been deleted" in done
    async with chat.db.uow() as uow:
        voucher = await uow.session.get(Voucher, voucher_id)
        assert voucher is not None
        assert voucher.status == "closed" and voucher.balance_cents == 0
        entries = (
            await uow.session.execute(
                select(VoucherEntry.kind, VoucherEntry.amount_cents)
                .where(VoucherEntry.voucher_id == voucher_id)
                .order_by(VoucherEntry.id)
            )
        ).all()
        # the ledger stays whole: issue, redemption, and the balance booked out
        assert [tuple(e) for e in entries][-1] == ("forfeit", -2400)
        assert sum(amount for _kind, amount in entries) == 0
        tickets = (
            await uow.session.execute(select(Ticket.status).where(Ticket.event_id == event_id))
        ).scalars()
        assert list(tickets) == [CANCELLED]
        assert await privacy.holdings(uow, chat.city, anna, chat.clock.now()) == []
        # the code of the closed voucher no longer pays
        refused = redemption.refuse_reason(voucher, chat.clock.now().date())
        assert refused == "This voucher was closed and is no longer valid."


def _labels(chat: Transcript) -> list[str]:
    return [b.label for r in chat.last["anna"] for b in r.buttons]


def test_privacy_doc_states_every_table_with_its_deletion_rule() -> None:
    text = PRIVACY_DOC.read_text(encoding="utf-8")
    documented = set(re.findall(r"`([a-z_]+)`", text))
    tables = {t.name for t in SQLModel.metadata.sorted_tables}
    assert tables <= documented, f"not in docs/privacy.md: {sorted(tables - documented)}"
    for table, _columns in privacy.tables_referring_to_citizen():
        rule = table.info.get("erase", "delete")
        row = next(
            (line for line in text.splitlines() if f"`{table.name}`" in line and "|" in line),
            "",
        )
        assert rule in row, f"{table.name}: docs/privacy.md must say '{rule}'"
