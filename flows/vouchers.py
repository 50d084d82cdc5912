"""City vouchers for residents: buy, show (code and QR code), history, gift, claim, refund."""

from __future__ import annotations

from flows.checkout import offer_checkout
from flows.context import Ctx
from flows.menu import back_to_menu
from flows.registry import Router
from flows.types import Button
from flows.wallet import deep_link, qr_media, status_word
from services import codes
from services.errors import DomainError
from services.i18n import N_
from services.numbers import ID_MAX, id_or_zero, parse_int
from services.payments import checkout
from services.wallet import gifts, refunds, vouchers
from services.wallet.vouchers import Voucher, VoucherEntry

router = Router("vouchers")
router.menu(
    N_("Buy a city voucher"),
    "voucher.buy",
    order=20,
    keywords=["voucher", "gutschein", "stadtgutschein", "kaufen", "buy"],
)
router.add_keywords("gift.enter", ["geschenk", "gift", "einlösen gift"])

ENTRY_WORDS = {
    "issue": N_("issued"),
    "redeem": N_("redeemed"),
    "undo": N_("redemption cancelled"),
    "expire": N_("expired"),
    "refund": N_("refunded"),
}


# ---------------------------------------------------------------- buying
@router.command("voucher", "gutschein", help=N_("buy a city voucher"))
async def voucher_command(ctx: Ctx, args: str) -> None:
    await buy_menu(ctx, "")


@router.action("voucher.buy")
async def buy_menu(ctx: Ctx, arg: str) -> None:
    rules = vouchers.rules_of(ctx.city)
    buttons = [
        Button(ctx.money(cents), "voucher.amount", str(cents)) for cents in rules.amounts_cents
    ]
    buttons.append(ctx.button("Other amount", "voucher.custom"))
    lines = [
        ctx.t(
            "The city voucher of {city} is accepted by shops and restaurants all over town. "
            "How much should it be worth?",
            city=ctx.city.name,
        )
    ]
    for offer in rules.offers:
        if offer.running(ctx.today()):
            lines.append(
                ctx.t(
                    "Special offer “{name}”: a voucher worth {value} for only {price} "
                    "(until {until}, at most {max} per person).",
                    name=offer.name(ctx.lang),
                    value=ctx.money(offer.value_cents),
                    price=ctx.money(offer.price_cents),
                    until=ctx.date(offer.ends),
                    max=offer.max_per_resident,
                )
            )
            buttons.append(
                Button(
                    ctx.t(
                        "{name}: {value} for {price}",
                        name=offer.name(ctx.lang),
                        value=ctx.money(offer.value_cents),
                        price=ctx.money(offer.price_cents),
                    ),
                    "voucher.offer",
                    offer.key,
                )
            )
    buttons.append(back_to_menu(ctx))
    ctx.say("\n".join(lines), buttons)


@router.action("voucher.custom")
async def custom_amount(ctx: Ctx, arg: str) -> None:
    rules = vouchers.rules_of(ctx.city)
    ctx.ask(
        "voucher.custom_amount",
        ctx.t(
            "Which amount? Anything from {min} to {max}, for example 12,50.",
            min=ctx.money(rules.custom_min_cents),
            max=ctx.money(rules.custom_max_cents),
        ),
        [ctx.button("Cancel", "voucher.buy")],
    )


@router.step("voucher.custom_amount")
async def custom_amount_typed(ctx: Ctx) -> None:
    try:
        cents = vouchers.parse_custom_amount(ctx.inbound.text, vouchers.rules_of(ctx.city))
    except DomainError as error:
        ctx.say(ctx.t(error.message, **error.params))
        await custom_amount(ctx, "")
        return
    ctx.done()
    await start_purchase(ctx, value_cents=cents)


@router.action("voucher.amount")
async def amount_chosen(ctx: Ctx, arg: str) -> None:
    await start_purchase(ctx, value_cents=parse_int(arg, high=ID_MAX) or 0)


@router.action("voucher.offer")
async def offer_chosen(ctx: Ctx, arg: str) -> None:
    await start_purchase(ctx, offer_key=arg)


async def start_purchase(ctx: Ctx, *, value_cents: int | None = None, offer_key: str = "") -> None:
    if ctx.env.payments is None:
        ctx.say(ctx.t("Payments are not available right now. Please try again later."))
        return
    purchase = await vouchers.buy(
        ctx.uow,
        ctx.env,
        ctx.citizen_id,
        now=ctx.now,
        value_cents=value_cents,
        offer_key=offer_key,
    )
    voucher = purchase.voucher
    offer_checkout(
        ctx,
        purchase.payment,
        ctx.t(
            "Your city voucher worth {value}, valid until {until}.",
            value=ctx.money(voucher.value_cents),
            until=ctx.date(voucher.valid_until),
        ),
    )


# ---------------------------------------------------------------- showing
def entry_line(ctx: Ctx, entry: VoucherEntry, merchant_names: dict[str, str]) -> str:
    amount = ctx.money(abs(entry.amount_cents))
    sign = "+" if entry.amount_cents > 0 else "−"
    where = (
        f" ({merchant_names.get(entry.merchant_key, entry.merchant_key)})"
        if entry.merchant_key
        else ""
    )
    what = ctx.t(ENTRY_WORDS.get(entry.kind, entry.kind))
    return f"{ctx.datetime(entry.at)}: {what} {sign}{amount}{where}"


async def show_voucher(ctx: Ctx, voucher: Voucher, *, with_history: bool = False) -> None:
    assert voucher.id is not None
    current = vouchers.state(voucher, ctx.today())
    lines = [
        ctx.t("City voucher worth {value}", value=ctx.money(voucher.value_cents)),
        ctx.t("Balance: {balance}", balance=ctx.money(voucher.balance_cents)),
        ctx.t("Status: {status}", status=status_word(ctx, current)),
        ctx.t("Valid until {date}", date=ctx.date(voucher.valid_until)),
    ]
    buttons: list[Button] = []
    media = None
    if current in ("valid", "used"):
        lines.append(ctx.t("Code: {code}", code=codes.display(voucher.code)))
    if current == "valid":
        lines.append(
            ctx.t("Show the QR code or tell the code at the checkout of an acceptance point.")
        )
        media = qr_media(f"voucher-{voucher.code}", deep_link(ctx, f"v-{voucher.code}"))
        buttons.append(ctx.button("Gift this voucher", "gift.create", str(voucher.id)))
    if current == "gift" and voucher.gift_code:
        lines.append(gift_text(ctx, voucher.gift_code))
        buttons.append(ctx.button("Take the gift back", "gift.cancel", str(voucher.id)))
    if current == "pending":
        payment = await checkout.open_payment(ctx.uow, voucher.payment_id, ctx.now)
        if payment is not None:
            offer_checkout(ctx, payment, "\n".join(lines))
            return
        lines.append(ctx.t("We are waiting for the payment."))
    if refunds.can_refund(voucher, ctx.citizen_id, vouchers.rules_of(ctx.city), ctx.now):
        buttons.append(ctx.button("Refund", "voucher.refund", str(voucher.id)))
    if with_history:
        entries = await vouchers.history(ctx.uow, voucher.id)
        names = {m.key: m.name for m in ctx.city.merchants}
        if any(e.merchant_key and e.merchant_key not in names for e in entries):
            from services.wallet import merchants

            names = {m.key: m.name for m in await merchants.all_merchants(ctx.uow, ctx.city)}
        lines.append(ctx.t("History:"))
        lines += [entry_line(ctx, e, names) for e in reversed(entries)]
    else:
        buttons.append(ctx.button("History", "voucher.history", str(voucher.id)))
    buttons += [ctx.button("Wallet", "wallet.show"), back_to_menu(ctx)]
    ctx.say("\n".join(lines), buttons, media=media, private=True)


async def _own(ctx: Ctx, arg: str) -> Voucher | None:
    try:
        return await vouchers.get_own(ctx.uow, ctx.citizen_id, id_or_zero(arg))
    except DomainError as error:
        ctx.say(ctx.t(error.message, **error.params), [ctx.button("Wallet", "wallet.show")])
        return None


@router.action("voucher.show")
async def show(ctx: Ctx, arg: str) -> None:
    voucher = await _own(ctx, arg)
    if voucher is not None:
        await show_voucher(ctx, voucher)


@router.action("voucher.history")
async def show_history(ctx: Ctx, arg: str) -> None:
    voucher = await _own(ctx, arg)
    if voucher is not None:
        await show_voucher(ctx, voucher, with_history=True)


@router.command("balance", "guthaben", help=N_("balance of your city vouchers"))
async def balance_command(ctx: Ctx, args: str) -> None:
    from flows.wallet import show as show_wallet

    await show_wallet(ctx, "")


# ---------------------------------------------------------------- refunds
@router.action("voucher.refund")
async def refund_ask(ctx: Ctx, arg: str) -> None:
    voucher = await _own(ctx, arg)
    if voucher is None:
        return
    ctx.say(
        ctx.t(
            "Refund this voucher? You get {price} back on the way you paid; the voucher "
            "becomes invalid.",
            price=ctx.money(voucher.price_cents),
        ),
        [
            ctx.button("Yes, refund", "voucher.refund_confirm", arg),
            ctx.button("No", "voucher.show", arg),
        ],
    )


@router.action("voucher.refund_confirm")
async def refund_confirm(ctx: Ctx, arg: str) -> None:
    voucher = await refunds.refund(
        ctx.uow,
        ctx.env,
        ctx.citizen_id,
        id_or_zero(arg),
        ctx.now,
    )
    ctx.say(
        ctx.t(
            "Done: {price} will be refunded. The voucher is no longer valid.",
            price=ctx.money(voucher.price_cents),
        ),
        [ctx.button("Wallet", "wallet.show"), back_to_menu(ctx)],
    )


# ---------------------------------------------------------------- gifts
def gift_text(ctx: Ctx, gift_code: str) -> str:
    return ctx.t(
        "Gift code: {code}\nThe recipient sends this to Stadtlotse: {link}\n"
        'or chooses "Claim a gift" in the wallet and types the code. It works once. Until '
        "then the voucher is reserved and cannot be redeemed.",
        code=codes.display(gift_code),
        link=deep_link(ctx, f"g-{gift_code}"),
    )


@router.action("gift.create")
async def gift_create(ctx: Ctx, arg: str) -> None:
    voucher_id = id_or_zero(arg)
    gift_code = await gifts.create(ctx.uow, ctx.city, ctx.citizen_id, voucher_id, ctx.now)
    ctx.say(
        ctx.t("Your voucher is ready to be gifted.") + "\n" + gift_text(ctx, gift_code),
        [
            ctx.button("Take the gift back", "gift.cancel", arg),
            ctx.button("Wallet", "wallet.show"),
        ],
        private=True,
    )


@router.action("gift.cancel")
async def gift_cancel(ctx: Ctx, arg: str) -> None:
    voucher_id = id_or_zero(arg)
    await gifts.cancel(ctx.uow, ctx.citizen_id, voucher_id)
    ctx.say(ctx.t("The gift is taken back; the voucher is yours to use again."))
    voucher = await _own(ctx, arg)
    if voucher is not None:
        await show_voucher(ctx, voucher)


@router.action("gift.enter")
async def gift_enter(ctx: Ctx, arg: str) -> None:
    ctx.ask(
        "gift.code",
        ctx.t("Please type the gift code you received."),
        [ctx.button("Cancel", "wallet.show")],
    )


@router.step("gift.code", free_text=False)  # codes are never a bare number
async def gift_code_typed(ctx: Ctx) -> None:
    try:
        await claim(ctx, ctx.inbound.text)
    except DomainError as error:
        ctx.say(ctx.t(error.message, **error.params))
        await gift_enter(ctx, "")


@router.deeplink("g")
async def gift_link(ctx: Ctx, rest: str) -> None:
    await claim(ctx, rest)


async def claim(ctx: Ctx, text: str) -> None:
    voucher = await gifts.claim(ctx.uow, ctx.city, ctx.citizen_id, text, ctx.now)
    ctx.done()
    ctx.say(
        ctx.t(
            "A gift for you: a city voucher with {balance} is now in your wallet.",
            balance=ctx.money(voucher.balance_cents),
        )
    )
    await show_voucher(ctx, voucher)


# ---------------------------------------------------------------- the QR code's deep link
@router.deeplink("v")
async def voucher_link(ctx: Ctx, rest: str) -> None:
    """A merchant scanning a voucher gets the redemption; the holder sees their voucher."""
    if ctx.has_role("merchant"):
        from flows.merchant import begin_with_code

        await begin_with_code(ctx, rest)
        return
    try:
        code = vouchers.read_code(rest)
    except DomainError as error:
        ctx.say(ctx.t(error.message, **error.params), [back_to_menu(ctx)])
        return
    voucher = await vouchers.by_code(ctx.uow, code)
    if voucher is not None and voucher.citizen_id == ctx.citizen_id:
        await show_voucher(ctx, voucher)
        return
    ctx.say(
        ctx.t(
            "This is a city voucher of {city}. Only acceptance points can redeem it. "
            "If someone wants to give it to you, ask them for a gift code.",
            city=ctx.city.name,
        ),
        [ctx.button("Buy a voucher", "voucher.buy"), back_to_menu(ctx)],
    )
