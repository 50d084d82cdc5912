"""`stadtlotse demo-data` adds vouchers for the demo people."""

from __future__ import annotations

from sqlalchemy import select

from bot.bootstrap import build_app
from bot.demo import fill_demo_data
from bot.settings import Settings
from services.city import City
from services.clock import FrozenClock
from services.wallet import vouchers
from storage.db import Database
from storage.models.vouchers import Voucher


async def test_demo_vouchers(db: Database, city: City, clock: FrozenClock) -> None:
    settings = Settings(stripe_secret_key=None, _env_file=None)  # type: ignore[call-arg]
    app = build_app(settings, clock=clock, db=db, city=city)
    report = await fill_demo_data(app)
    assert "3 city vouchers" in report
    async with db.uow() as uow:
        found = list((await uow.session.execute(select(Voucher))).scalars())
        assert sorted(v.balance_cents for v in found) == [2500, 3750, 10000]
        for voucher in found:
            assert await vouchers.ledger_balance(uow, voucher.id or 0) == voucher.balance_cents
