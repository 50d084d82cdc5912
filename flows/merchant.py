"""Acceptance points: redeem a voucher (code or QR deep link -> balance -> amount -> confirm ->
receipt), undo within minutes, the day's turnover."""

from __future__ import annotations

import secrets

from flows.confirm import ask_confirmation
from flows.context import Ctx
from flows.menu import back_to_menu
from flows.registry import Router
from services import codes
from services.errors import DomainError
from services.i18n import N_
from services.money import parse_amount
from services.numbers import ID_MAX, id_or_zero, parse_id, parse_int
from services.wallet import merchants, redemption, vouchers
from services.wallet.vouchers import Voucher, VoucherEntry

router = Router("merchant")
router.menu(
    N_("Redeem a voucher"),
    "merchant.redeem",
    order=5,
    roles=["merchant"],
    keywords=["einlösen", "redeem", "kasse"],
)
router.menu(N_("Today's turnover"), "merchant.turnover", order=6, roles=["merchant"])

SEP = "|"


def _parts(arg: str, count: int) -> list[str] | None:
    parts = arg.split(SEP)
    return parts if len(parts) == count else None


async def _point(ctx: Ctx, key: str, then: str) -> str | None:
    """The acceptance point this merchant acts for; asks when they serve several."""
    scopes = ctx.scopes("merchant")
    if key and key in scopes:
        return key
    if len(scopes) == 1:
        return scopes[0]
    buttons = [
        ctx.button(await merchants.name_of(ctx.uow, ctx.city, scope), then, scope)
        for scope in scopes
    ]
    ctx.say(ctx.t("For which acceptance point?"), [*buttons, back_to_menu(ctx)])
    return None


@router.command(
    "redeem", "einloesen", roles=["merchant"], help=N_("redeem a city voucher (merchants)")
)
async def redeem_command(ctx: Ctx, args: str) -> None:
    if args.strip():
        await begin_with_code(ctx, args)
    else:
        await redeem_start(ctx, "")


@router.action("merchant.redeem", roles=["merchant"])
async def redeem_start(ctx: Ctx, arg: str) -> None:
    key = await _point(ctx, arg, "merchant.redeem")
    if key is None:
        return
    ctx.ask(
        "merchant.code",
        ctx.t(
            "{merchant}: please type the voucher code or scan the customer's QR code.",
            merchant=await merchants.name_of(ctx.uow, ctx.city, key),
        ),
        [back_to_menu(ctx)],
        merchant=key,
    )


async def begin_with_code(ctx: Ctx, text: str) -> None:
    """From the QR code's deep link or `/redeem CODE`."""
    key = await _point(ctx, "", "merchant.redeem")
    if key is None:
        return
    ctx.goto("merchant.code", merchant=key)
    await _code_entered(ctx, text)


@router.step("merchant.code", free_text=False)  # codes are never a bare number
async def code_typed(ctx: Ctx) -> None:
    await _code_entered(ctx, ctx.inbound.text)


async def _code_entered(ctx: Ctx, text: str) -> None:
    key = str(ctx.data.get("merchant", ""))
    if not ctx.has_role("merchant", key):
        ctx.done()
        ctx.say(ctx.t("Sorry, only authorised staff can do this. Nothing was changed."))
        return
    try:
        voucher = await redemption.lookup(ctx.uow, ctx.city, text, ctx.now)
    except DomainError as error:
        ctx.say(
            ctx.t(error.message, **error.params) + "\n" + ctx.t("Please type the code again."),
            [back_to_menu(ctx)],
        )
        return
    await ask_amount(ctx, key, voucher)


async def ask_amount(ctx: Ctx, key: str, voucher: Voucher) -> None:
    assert voucher.id is not None
    ctx.ask(
        "merchant.amount",
        ctx.t(
            "Voucher {code}: balance {balance}, valid until {until}.\nWhich amount do you "
            "redeem? For example 12,50.",
            code=codes.display(voucher.code),
            balance=ctx.money(voucher.balance_cents),
            until=ctx.date(voucher.valid_until),
        ),
        [
            ctx.button(
                ctx.t("Whole balance ({balance})", balance=ctx.money(voucher.balance_cents)),
                "merchant.amount_all",
                SEP.join([key, str(voucher.id)]),
            ),
            ctx.button("Cancel", "merchant.cancel"),
        ],
        merchant=key,
        voucher=voucher.id,
    )


@router.step("merchant.amount")
async def amount_typed(ctx: Ctx) -> None:
    key = str(ctx.data.get("merchant", ""))
    voucher = await redemption.voucher(ctx.uow, int(ctx.data.get("voucher", 0)))
    if voucher is None:
        ctx.done()
        await redeem_start(ctx, key)
        return
    try:
        cents = parse_amount(ctx.inbound.text)
    except DomainError as error:
        ctx.say(ctx.t(error.message, **error.params))
        await ask_amount(ctx, key, voucher)
        return
    if cents > voucher.balance_cents:
        ctx.say(
            ctx.t(
                "The voucher only holds {balance}. Please enter at most that amount; the "
                "customer can pay the rest another way.",
                balance=ctx.money(voucher.balance_cents),
            )
        )
        await ask_amount(ctx, key, voucher)
        return
    confirm(ctx, key, voucher, cents)


@router.action("merchant.amount_all", roles=["merchant"])
async def amount_all(ctx: Ctx, arg: str) -> None:
    parts = _parts(arg, 2)
    voucher = await redemption.voucher(ctx.uow, id_or_zero(parts[1])) if parts else None
    if parts is None or voucher is None:
        await redeem_start(ctx, "")
        return
    if voucher.balance_cents <= 0:
        ctx.say(ctx.t("This voucher is used up: its balance is 0 €."), [back_to_menu(ctx)])
        return
    confirm(ctx, parts[0], voucher, voucher.balance_cents)


def confirm(ctx: Ctx, key: str, voucher: Voucher, cents: int) -> None:
    ctx.done()
    token = secrets.token_hex(8)  # the idempotency key: this confirmation books once
    ctx.say(
        ctx.t(
            "Redeem {amount} from voucher {code}?",
            amount=ctx.money(cents),
            code=codes.display(voucher.code),
        ),
        [
            ctx.button(
                "Confirm",
                "merchant.confirm",
                SEP.join([key, str(voucher.id), str(cents), token, voucher.code]),
            ),
            ctx.button("Cancel", "merchant.cancel"),
        ],
    )


@router.action("merchant.cancel", roles=["merchant"])
async def cancel(ctx: Ctx, arg: str) -> None:
    ctx.say(
        ctx.t("Cancelled. Nothing was booked."),
        [ctx.button("Redeem a voucher", "merchant.redeem"), back_to_menu(ctx)],
    )


@router.action("merchant.confirm", roles=["merchant"])
async def confirmed(ctx: Ctx, arg: str) -> None:
    parts = _parts(arg, 5)
    numbers = (parse_id(parts[1]), parse_int(parts[2], high=ID_MAX)) if parts else (None, None)
    if parts is None or numbers[0] is None or numbers[1] is None:
        await redeem_start(ctx, "")
        return
    key, token, code = parts[0], parts[3], parts[4]
    voucher_id, cents = numbers[0], numbers[1]
    if not ctx.has_role("merchant", key):
        ctx.say(ctx.t("Sorry, only authorised staff can do this. Nothing was changed."))
        return
    entry = await redemption.redeem(
        ctx.uow,
        ctx.city,
        merchant_key=key,
        actor_citizen_id=ctx.citizen_id,
        voucher_id=voucher_id,
        amount_cents=cents,
        idempotency_key=f"chat-{voucher_id}-{token}",
        now=ctx.now,
        code=code,
    )
    voucher = await redemption.voucher(ctx.uow, voucher_id)
    assert voucher is not None and entry.id is not None
    rules = vouchers.rules_of(ctx.city)
    ctx.say(
        ctx.t(
            "Receipt no. {number} – {merchant}\n{when}\nVoucher {code}\nRedeemed: {amount}\n"
            "Remaining balance: {balance}",
            number=entry.id,
            merchant=await merchants.name_of(ctx.uow, ctx.city, key),
            when=ctx.datetime(entry.at),
            code=codes.display(voucher.code),
            amount=ctx.money(-entry.amount_cents),
            balance=ctx.money(voucher.balance_cents),
        )
        + "\n"
        + ctx.t("You can undo this within {minutes} minutes.", minutes=rules.undo_minutes),
        [
            ctx.button("Undo", "merchant.undo", SEP.join([key, str(entry.id)])),
            ctx.button("Next voucher", "merchant.redeem", key),
            ctx.button("Today's turnover", "merchant.turnover", key),
        ],
    )


@router.action("merchant.undo", roles=["merchant"])
async def undo(ctx: Ctx, arg: str) -> None:
    parts = _parts(arg, 2)
    entry_id = parse_id(parts[1]) if parts else None
    if parts is None or entry_id is None:
        await redeem_start(ctx, "")
        return
    key = parts[0]
    if not ctx.has_role("merchant", key):
        ctx.say(ctx.t("Sorry, only authorised staff can do this. Nothing was changed."))
        return
    entry = await ctx.uow.session.get(VoucherEntry, entry_id)
    voucher = await ctx.uow.session.get(Voucher, entry.voucher_id) if entry else None
    if entry is None or voucher is None or entry.merchant_key != key:
        await redeem_start(ctx, key)
        return
    ask_confirmation(
        ctx,
        ctx.t(
            "Undo receipt no. {number}? {amount} goes back on voucher {code}.",
            number=entry.id,
            amount=ctx.money(-entry.amount_cents),
            code=codes.display(voucher.code),
        ),
        ctx.button(
            ctx.t("Yes, undo receipt no. {number}", number=entry.id), "merchant.undo_yes", arg
        ),
        ctx.button("No, keep it", "merchant.redeem", key),
    )


@router.action("merchant.undo_yes", roles=["merchant"])
async def undo_confirmed(ctx: Ctx, arg: str) -> None:
    parts = _parts(arg, 2)
    entry_id = parse_id(parts[1]) if parts else None
    if parts is None or entry_id is None:
        await redeem_start(ctx, "")
        return
    key = parts[0]
    if not ctx.has_role("merchant", key):
        ctx.say(ctx.t("Sorry, only authorised staff can do this. Nothing was changed."))
        return
    ctx.done()
    reversal = await redemption.undo(
        ctx.uow,
        ctx.city,
        merchant_key=key,
        actor_citizen_id=ctx.citizen_id,
        entry_id=entry_id,
        now=ctx.now,
    )
    voucher = await redemption.voucher(ctx.uow, reversal.voucher_id)
    assert voucher is not None
    ctx.say(
        ctx.t(
            "Undone: {amount} is back on voucher {code}. Balance: {balance}.",
            amount=ctx.money(reversal.amount_cents),
            code=codes.display(voucher.code),
            balance=ctx.money(voucher.balance_cents),
        ),
        [ctx.button("Next voucher", "merchant.redeem", key), back_to_menu(ctx)],
    )


@router.command(
    "turnover", "umsatz", roles=["merchant"], help=N_("today's voucher turnover (merchants)")
)
async def turnover_command(ctx: Ctx, args: str) -> None:
    await turnover(ctx, "")


@router.action("merchant.turnover", roles=["merchant"])
async def turnover(ctx: Ctx, arg: str) -> None:
    start, end = redemption.day_bounds(ctx.today(), ctx.city)
    scopes = [arg] if arg in ctx.scopes("merchant") else ctx.scopes("merchant")
    lines = [ctx.t("Voucher turnover today, {day}:", day=ctx.date(ctx.today()))]
    for key in scopes:
        figures = await redemption.turnover(ctx.uow, ctx.city, key, start, end)
        lines.append(
            ctx.tn(
                "{merchant}: {n} redemption, {total} in total ({undone} undone).",
                "{merchant}: {n} redemptions, {total} in total ({undone} undone).",
                figures.redemptions,
                merchant=await merchants.name_of(ctx.uow, ctx.city, key),
                total=ctx.money(figures.total_cents),
                undone=figures.undone,
            )
        )
        for entry, code in await redemption.bookings(ctx.uow, key, start, end):
            what = ctx.t("Receipt no. {number}", number=entry.id)
            if entry.kind == "undo":
                what = ctx.t("Undo of receipt no. {number}", number=entry.undoes_entry_id)
            when = ctx.datetime(entry.at).split(", ")[-1]
            lines.append(f"  {when} {what} {code}: {ctx.money(-entry.amount_cents)}")
    ctx.say(
        "\n".join(lines), [ctx.button("Redeem a voucher", "merchant.redeem"), back_to_menu(ctx)]
    )
