"""After payment every kind of wallet entry reads as paid: a voucher, event tickets, the transit
pass (also one for a month still ahead) and an auction pickup code — never "awaiting payment"."""

from __future__ import annotations

from datetime import datetime, timedelta

from flows.wallet import STATUS_WORDS
from services.auction import buying
from services.cases import actions, transit
from services.cases import records as cases
from services.city import City
from services.events import booking
from services.payments import lifecycle as payments
from services.wallet import sources as wallet
from services.wallet import vouchers
from storage.db import Database
from storage.models.payments import PAID
from tests.auction.support import FakeProvider, list_item, person
from tests.conftest import BERLIN
from tests.events.conftest import make_event
from tests.support.env import env_with


async def test_every_entry_kind_is_paid_after_payment(db: Database, city: City) -> None:
    now = datetime(2026, 11, 25, 10, 0, tzinfo=BERLIN)  # from the 20th: December is on offer
    provider = FakeProvider()
    anna = await person(db, "anna", now)
    olaf = await person(db, "olaf", now, "organiser")
    frank = await person(db, "frank", now, "staff", "fundbuero")
    petra = await person(db, "petra", now, "staff", "buergerbuero")
    event_id = await make_event(db, olaf, now, title="Adventskonzert", price=1200)
    item_id = await list_item(db, city, frank, now)
    paid: list[int] = []
    env = env_with(provider, city=city)
    async with db.uow() as uow:
        purchase = await vouchers.buy(uow, env, anna, now=now, value_cents=2500)
        paid.append(purchase.payment.id or 0)
        booked = await booking.book(
            uow,
            env,
            citizen_id=anna,
            event_id=event_id,
            quantity=2,
            rules=city.section("events", booking.EventRules),
            now=now,
        )
        assert booked.payment is not None
        paid.append(booked.payment.id or 0)
        reservation = await buying.buy(uow, city, anna, item_id, now)
        payment = await buying.start_payment(uow, env, anna, reservation.id or 0, now)
        paid.append(payment.id or 0)
        case = await cases.submit(
            uow,
            city,
            citizen_id=anna,
            form="transit",
            department="buergerbuero",
            answers={"basis": "buergergeld", "proof_until": "2027-06-30"},
            summary="Sozialticket",
            now=now,
        )
        staff = cases.Actor(petra, "Petra", frozenset({("staff", "buergerbuero")}))
        await actions.approve(uow, city, staff, case.reference, now)
        months = await transit.months_to_buy(uow, city, anna, case.reference, now)
        assert months == ["2026-12"]  # six days of November left: not worth a pass
        pass_payment, _month = await transit.start_purchase(uow, env, anna, case.reference, now)
        paid.append(pass_payment.id or 0)
        await uow.commit()
    async with db.uow() as uow:
        before = {e.kind: e.status for e in await wallet.entries(uow, city, anna, now)}
    assert before["voucher"] == "pending" and before["ticket"] == "pending"
    later = now + timedelta(minutes=5)
    async with db.uow() as uow:
        for payment_id in paid:
            assert await payments.settle(uow, env, payment_id, PAID, later)
        await uow.commit()
    async with db.uow() as uow:
        entries = await wallet.entries(uow, city, anna, later)
    states = sorted((e.kind, e.status) for e in entries)
    assert states == [
        ("pickup", "valid"),
        ("ticket", "valid"),
        ("ticket", "valid"),
        ("transit_pass", "upcoming"),  # paid for December: "valid from 1 Dec", not "pending"
        ("voucher", "valid"),
    ]
    assert all(e.status != "pending" for e in entries)
    assert STATUS_WORDS["upcoming"] != STATUS_WORDS["pending"]
    # on the first of the month the pass is simply valid
    december = datetime(2026, 12, 1, 0, 5, tzinfo=BERLIN)
    async with db.uow() as uow:
        passes = [
            e for e in await wallet.entries(uow, city, anna, december) if e.kind == "transit_pass"
        ]
    assert [(p.status, str(p.valid_until)) for p in passes] == [("valid", "2026-12-31")]
