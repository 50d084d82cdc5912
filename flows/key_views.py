"""Digital keys, after booking: the resident's bookings, the key with its QR code and the
booking's history (what the lock reported), paying a held slot, cancelling, and passing the key
on with a hand-over code (the receiving side too). Booking itself is in flows/keys.py."""

from __future__ import annotations

from datetime import datetime

from flows.checkout import offer_checkout
from flows.context import Ctx
from flows.menu import back_to_menu
from flows.registry import Router
from flows.types import Button
from flows.wallet import deep_link, qr_media
from services import codes
from services.errors import InvalidInput
from services.i18n import N_, NC_
from services.keys import changes, holdings, records
from services.keys.config import Facility, KeyRules, key_window, refund_cents
from services.keys.config import rules as key_rules
from services.keys.records import CONFIRMED, HELD, KeyBooking
from services.numbers import parse_id
from services.payments import checkout

router = Router("key_views")
STATE_WORDS = {
    "pending": N_("awaiting payment"),
    "upcoming": N_("booked, the key opens from {time}"),
    "valid": N_("valid now"),
    "expired": N_("over"),
    "cancelled": NC_("payment", "cancelled"),
}
EVENT_WORDS = {
    "booked": N_("booked"),
    "paid": N_("paid"),
    "issued": N_("key issued"),
    "passed_on": N_("key passed on"),
    "cancelled": N_("cancelled, key revoked"),
    "opened": N_("opened at the lock"),
    "refused": N_("refused at the lock"),
}


def rules_of(ctx: Ctx) -> KeyRules:
    return key_rules(ctx.city)


def local(ctx: Ctx, moment: datetime) -> datetime:
    return moment.astimezone(ctx.city.tz)


def slot_text(ctx: Ctx, starts_at: datetime, ends_at: datetime) -> str:
    start, end = local(ctx, starts_at), local(ctx, ends_at)
    if start.time() == end.time() and (end.date() - start.date()).days == 1:
        return ctx.t("{day}, whole day", day=ctx.date(start.date()))
    return ctx.t(
        "{day}, {start}–{end}",
        day=ctx.date(start.date()),
        start=start.strftime("%H:%M"),
        end=end.strftime("%H:%M"),
    )


def price_text(ctx: Ctx, facility: Facility) -> str:
    if facility.price_cents == 0:
        return ctx.t("free")
    return ctx.t("{price} per slot", price=ctx.money(facility.price_cents))


def key_name(ctx: Ctx, facility: Facility | None, booking: KeyBooking) -> str:
    title, params = holdings.title_of(facility, booking)
    return ctx.t(title, **dict(params))


async def show_payment(ctx: Ctx, booking: KeyBooking) -> None:
    payment = await checkout.open_payment(ctx.uow, booking.payment_id, ctx.now)
    if payment is None:
        await my_bookings(ctx, "")
        return
    facility = rules_of(ctx).facility(booking.facility)
    offer_checkout(
        ctx,
        payment,
        ctx.t(
            "I am holding {key}, {slot} for you. Once it is paid, the key comes to your wallet; "
            "if it is not paid in time, the slot is released.",
            key=key_name(ctx, facility, booking),
            slot=slot_text(ctx, booking.starts_at, booking.ends_at),
        ),
        [ctx.button("My bookings", "keys.mine")],
    )


# ---------------------------------------------------------------- my bookings, the key
@router.action("keys.mine")
async def my_bookings(ctx: Ctx, arg: str) -> None:
    rules = rules_of(ctx)
    found = await records.bookings_of(ctx.uow, ctx.citizen_id, ctx.now)
    if not found:
        ctx.say(
            ctx.t("You have no bookings with a digital key."),
            [
                ctx.button("Book", "keys.start"),
                ctx.button("Receive a key", "keys.receive"),
                back_to_menu(ctx),
            ],
        )
        return
    lines = [ctx.t("Your bookings:")]
    buttons: list[Button] = []
    for number, booking in enumerate(found, start=1):
        facility = rules.facility(booking.facility)
        state = _state_word(ctx, booking, rules)
        name = key_name(ctx, facility, booking)
        lines.append(
            f"{number}. {name} – {slot_text(ctx, booking.starts_at, booking.ends_at)} – {state}"
        )
        if len(buttons) < 20:
            buttons.append(Button(f"{number}. {name}", "keys.show", str(booking.id)))
    buttons += [ctx.button("Book", "keys.start"), back_to_menu(ctx)]
    ctx.say("\n".join(lines), buttons)


def _state_word(ctx: Ctx, booking: KeyBooking, rules: KeyRules) -> str:
    state = records.key_state(booking, rules, ctx.now)
    opens = local(ctx, booking.starts_at - rules.grace_before)
    return ctx.t(STATE_WORDS[state], time=ctx.datetime(opens))


@router.action("keys.show")
async def show_key(ctx: Ctx, arg: str) -> None:
    booking = await records.own_booking(ctx.uow, ctx.citizen_id, arg_id(arg))
    if (
        booking.status == HELD
        and booking.citizen_id == ctx.citizen_id
        and await checkout.open_payment(ctx.uow, booking.payment_id, ctx.now) is not None
    ):
        await show_payment(ctx, booking)
        return
    await details(ctx, booking)


async def details(ctx: Ctx, booking: KeyBooking) -> None:
    rules = rules_of(ctx)
    facility = rules.facility(booking.facility)
    state = records.key_state(booking, rules, ctx.now)
    holder = booking.holder_id == ctx.citizen_id
    lines = [
        key_name(ctx, facility, booking),
        ctx.t("Slot: {slot}", slot=slot_text(ctx, booking.starts_at, booking.ends_at)),
    ]
    if facility is not None and facility.place:
        lines.append(ctx.t("Place: {place}", place=facility.place))
    lines.append(ctx.t("Status: {status}", status=_state_word(ctx, booking, rules)))
    media = None
    if holder and state in ("valid", "upcoming") and booking.token:
        opens, closes = key_window(rules, booking.starts_at, booking.ends_at)
        lines.append(
            ctx.t(
                "The key opens the lock from {opens} to {closes}. Hold the QR code to the "
                "lock's reader. The key as text:",
                opens=ctx.datetime(opens),
                closes=ctx.datetime(closes),
            )
        )
        lines.append(booking.token)
        media = qr_media(f"key-{booking.id}", booking.token)
    elif not holder and booking.status == CONFIRMED:
        lines.append(ctx.t("You passed this key on; it is held by someone else now."))
    if booking.handover_code and holder:
        lines.append(
            ctx.t("Hand-over code waiting: {code}", code=codes.display(booking.handover_code))
        )
    events = await records.history(ctx.uow, booking.id or 0)
    if events:
        lines.append(ctx.t("History:"))
        for event in events:
            word = ctx.t(EVENT_WORDS[event.kind]) if event.kind in EVENT_WORDS else event.kind
            lines.append(f"· {ctx.datetime(event.at)} {word}")
    buttons: list[Button] = []
    if holder and state in ("valid", "upcoming"):
        buttons.append(ctx.button("Pass the key on", "keys.pass", str(booking.id)))
    if (
        booking.citizen_id == ctx.citizen_id
        and booking.status in (HELD, CONFIRMED)
        and booking.ends_at > ctx.now
    ):
        buttons.append(ctx.button("Cancel the booking", "keys.cancel", str(booking.id)))
    buttons += [
        ctx.button("My bookings", "keys.mine"),
        ctx.button("Wallet", "wallet.show"),
        back_to_menu(ctx),
    ]
    ctx.say("\n".join(lines), buttons, media=media, private=True)


# ---------------------------------------------------------------- cancel
@router.action("keys.cancel")
async def confirm_cancel(ctx: Ctx, arg: str) -> None:
    rules = rules_of(ctx)
    booking = await records.own_booking(ctx.uow, ctx.citizen_id, arg_id(arg))
    text = ctx.t(
        "Cancel {key}, {slot}? The key stops working at once.",
        key=key_name(ctx, rules.facility(booking.facility), booking),
        slot=slot_text(ctx, booking.starts_at, booking.ends_at),
    )
    if booking.status == CONFIRMED and booking.price_cents:
        back = refund_cents(rules, booking.price_cents, booking.starts_at, ctx.now)
        text += "\n" + (
            ctx.t("You get {amount} back.", amount=ctx.money(back))
            if back
            else ctx.t("The slot has started, so there is no refund.")
        )
    ctx.say(
        text,
        [
            ctx.button("Yes, cancel", "keys.cancel_yes", str(booking.id)),
            ctx.button("No, keep it", "keys.show", str(booking.id)),
        ],
    )


@router.action("keys.cancel_yes")
async def cancel(ctx: Ctx, arg: str) -> None:
    refunded = await changes.cancel(
        ctx.uow, ctx.env, citizen_id=ctx.citizen_id, booking_id=arg_id(arg), now=ctx.now
    )
    text = ctx.t("The booking is cancelled and the key revoked.")
    if refunded:
        text += " " + ctx.t("{amount} will be refunded.", amount=ctx.money(refunded))
    ctx.say(text, [ctx.button("My bookings", "keys.mine"), back_to_menu(ctx)])


# ---------------------------------------------------------------- passing the key on
@router.action("keys.pass")
async def pass_on(ctx: Ctx, arg: str) -> None:
    code = await changes.start_handover(
        ctx.uow, ctx.city, citizen_id=ctx.citizen_id, booking_id=arg_id(arg), now=ctx.now
    )
    ctx.say(
        ctx.t(
            "Give this hand-over code to the person who should get the key: {code}\n"
            "They choose Digital keys → Receive a key and type it, or open {link}. Then they "
            "get a fresh key and yours stops working.",
            code=codes.display(code),
            link=deep_link(ctx, f"k-{code}"),
        ),
        [
            ctx.button("Keep the key after all", "keys.pass_stop", arg),
            ctx.button("My bookings", "keys.mine"),
        ],
        private=True,
    )


@router.action("keys.pass_stop")
async def pass_stop(ctx: Ctx, arg: str) -> None:
    await changes.stop_handover(ctx.uow, citizen_id=ctx.citizen_id, booking_id=arg_id(arg))
    ctx.say(
        ctx.t("The hand-over code no longer works; the key stays yours."),
        [ctx.button("My bookings", "keys.mine")],
    )


@router.action("keys.receive")
async def receive(ctx: Ctx, arg: str) -> None:
    ctx.ask(
        "keys.code",
        ctx.t("Please type the hand-over code you were given."),
        [ctx.button("Cancel", "keys.start")],
    )


@router.step("keys.code", free_text=False)
async def code_typed(ctx: Ctx) -> None:
    code = changes.read_code(ctx.inbound.text)
    await _take_over(ctx, code)


@router.deeplink("k")
async def handover_link(ctx: Ctx, rest: str) -> None:
    await _take_over(ctx, changes.read_code(rest))


async def _take_over(ctx: Ctx, code: str) -> None:
    booking = await changes.take_over(
        ctx.uow, ctx.city, citizen_id=ctx.citizen_id, code=code, now=ctx.now
    )
    ctx.done()
    ctx.say(ctx.t("The key is yours now. It is in your wallet."))
    await details(ctx, booking)


def arg_id(arg: str) -> int:
    number = parse_id(arg)
    if number is None:
        raise InvalidInput("This option is no longer available.")
    return number
