"""Item 4: new bearer codes use only the 32 symbols of the alphabet and fit a Telegram start
parameter; two check symbols catch every single wrong symbol and every adjacent swap; codes
issued before (one check character from 0-9A-Z*~$=U) keep working when typed or scanned."""

from __future__ import annotations

import re
import secrets
from datetime import datetime

import pytest
from sqlalchemy import select, update

from bot.payments.demo import DemoProvider
from services import codes
from services.city import City
from services.clock import FrozenClock
from services.errors import NotFound
from services.events import booking
from services.payments import lifecycle as payments
from services.wallet import redemption, vouchers
from storage.db import Database
from storage.models.payments import PAID
from storage.models.vouchers import Voucher
from tests.support.env import env_with
from tests.wallet.conftest import PUBLIC_URL, resident

START_PARAMETER = re.compile(r"[A-Za-z0-9_-]{1,64}")
LENGTHS = (7, 12, 16)  # link codes, vouchers/tickets/gifts/pickup/transit, defect tokens


def legacy_code(length: int = 12, *, check_in: str = codes.LEGACY_CHECK_ALPHABET) -> str:
    """A code as issued before, with its check character from `check_in`."""
    while True:
        body = "".join(secrets.choice(codes.ALPHABET) for _ in range(length))
        check = codes.legacy_check_char(body)
        if check in check_in:
            return body + check


def test_new_codes_fit_a_telegram_start_parameter() -> None:
    for length in LENGTHS:
        for _ in range(3000):
            code = codes.new_code(length)
            assert len(code) == length + 2 and set(code) <= set(codes.ALPHABET)
            for prefix in ("v-", "g-", "t-", "link-", ""):
                assert START_PARAMETER.fullmatch(prefix + code)
            assert codes.parse_code(code, length) == code


def test_every_wrong_symbol_and_adjacent_swap_is_a_typo() -> None:
    for length in LENGTHS:
        for _ in range(20):
            code = codes.new_code(length)
            for position in range(len(code)):
                for symbol in codes.ALPHABET:
                    if symbol != code[position]:
                        with pytest.raises(codes.CodeTypo):
                            codes.parse_code(
                                code[:position] + symbol + code[position + 1 :], length
                            )
            for position in range(len(code) - 1):
                a, b = code[position], code[position + 1]
                if a != b:
                    swapped = code[:position] + b + a + code[position + 2 :]
                    with pytest.raises(codes.CodeTypo):
                        codes.parse_code(swapped, length)


def test_typing_is_forgiving() -> None:
    code = codes.new_code(12)
    typed = codes.display(code).lower().replace("0", "o").replace("1", "l")
    assert codes.parse_code(f"  {typed} ") == code
    for garbage in ("hello", "", "²" * 14, "ABCD-EFGH-JKMN-P*~", code + "X" * 3):
        with pytest.raises(ValueError):
            codes.parse_code(garbage)


@pytest.mark.parametrize("check_in", ["*~$=U", codes.ALPHABET])
def test_codes_issued_before_still_parse(check_in: str) -> None:
    for _ in range(50):
        old = legacy_code(check_in=check_in)
        assert codes.parse_code(codes.display(old).lower()) == old
        wrong = codes.ALPHABET[(codes.ALPHABET.index(old[3]) + 1) % 32]
        with pytest.raises(codes.CodeTypo):
            codes.parse_code(old[:3] + wrong + old[4:])


async def _make_voucher(db: Database, city: City, clock: FrozenClock, code: str) -> int:
    anna = await resident(db, clock, "anna")
    env = env_with(DemoProvider(PUBLIC_URL), city=city, clock=clock)
    async with db.uow() as uow:
        purchase = await vouchers.buy(uow, env, anna, now=clock.now(), value_cents=2500)
        await uow.commit()
    voucher_id, payment_id = purchase.voucher.id, purchase.payment.id
    assert payment_id is not None
    async with db.uow() as uow:
        await payments.settle(uow, env, payment_id, PAID, clock.now())
        await uow.session.execute(update(Voucher).where(Voucher.id == voucher_id).values(code=code))
        await uow.commit()
    assert voucher_id is not None
    return voucher_id


async def test_a_voucher_issued_before_is_found_typed_or_scanned(
    db: Database, city: City, clock: FrozenClock
) -> None:
    old = legacy_code(check_in="*~$=U")
    voucher_id = await _make_voucher(db, city, clock, old)
    now: datetime = clock.now()
    async with db.uow() as uow:
        for typed in (old, codes.display(old).lower(), f"v-{old}"[2:]):
            assert (await redemption.lookup(uow, city, typed, now)).id == voucher_id
    async with db.uow() as uow:
        found = (await uow.session.execute(select(Voucher.code))).scalars().all()
    assert found == [old]


async def test_a_new_ticket_code_is_read_at_the_door(db: Database) -> None:
    async with db.uow() as uow:
        code = codes.new_code(booking.CODE_LENGTH)
        with pytest.raises(NotFound):  # read as a code (not "not a ticket code"), unknown
            await booking.ticket_by_code(uow, f"t-{code}")
        with pytest.raises(NotFound):
            await booking.ticket_by_code(uow, f"t-{legacy_code(booking.CODE_LENGTH)}")
