"""Digital keys in chat: book a slot of a bike box or a room (free at once, paid through the one
checkout), see the key with its QR code, the booking's history (what the lock reported), cancel,
and pass the key on to another resident with a hand-over code."""

from __future__ import annotations

from datetime import UTC, date, datetime

from flows.checkout import offer_checkout
from flows.context import Ctx
from flows.menu import back_to_menu
from flows.registry import Router
from flows.types import Button
from flows.wallet import deep_link, qr_media
from services import codes
from services.errors import InvalidInput
from services.i18n import N_, NC_
from services.keys import booking as svc
from services.keys.booking import CONFIRMED, HELD, KeyBooking
from services.keys.config import Facility, KeyRules, key_window, refund_cents
from services.keys.config import rules as key_rules
from services.payments import checkout

router = Router("keys")
router.menu(
    N_("Digital keys"),
    "keys.start",
    order=32,
    keywords=["schlüssel", "schluessel", "keys", "digital key", "digitaler schlüssel"],
)
for word in ("fahrradbox", "bikebox", "bike box", "fahrradbox buchen", "book a bike box"):
    router.add_keywords("keys.start", [word], "fahrradbox")
for word in ("gemeinschaftsraum", "community room", "gemeinschaftsraum buchen"):
    router.add_keywords("keys.start", [word], "gemeinschaftsraum")

DAYS_SHOWN = 7
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


def _rules(ctx: Ctx) -> KeyRules:
    return key_rules(ctx.city)


def _local(ctx: Ctx, moment: datetime) -> datetime:
    return moment.astimezone(ctx.city.tz)


def slot_text(ctx: Ctx, starts_at: datetime, ends_at: datetime) -> str:
    start, end = _local(ctx, starts_at), _local(ctx, ends_at)
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
    title, params = svc.title_of(facility, booking)
    return ctx.t(title, **dict(params))


# ---------------------------------------------------------------- choosing
@router.command("schluessel", "keys", help=N_("book a bike box or a room; your digital keys"))
async def keys_command(ctx: Ctx, args: str) -> None:
    await start(ctx, args.strip().casefold())


@router.action("keys.start")
async def start(ctx: Ctx, arg: str) -> None:
    rules = _rules(ctx)
    if arg:
        matching = [f for f in rules.facilities if any(arg in k or k in arg for k in f.keywords)]
        if len(matching) == 1:
            await show_facility(ctx, matching[0].key)
            return
    buttons: list[Button] = [
        Button(f"{f.name} ({price_text(ctx, f)})", "keys.facility", f.key) for f in rules.facilities
    ]
    text = (
        ctx.t("What would you like to book? The key comes to your wallet.")
        if rules.facilities
        else ctx.t("There is nothing to book with a digital key at the moment.")
    )
    buttons += [
        ctx.button("My bookings", "keys.mine"),
        ctx.button("Receive a key", "keys.receive"),
        back_to_menu(ctx),
    ]
    ctx.say(text, buttons)


@router.action("keys.facility")
async def show_facility(ctx: Ctx, arg: str) -> None:
    rules = _rules(ctx)
    facility = svc.facility_or_error(rules, arg)
    lines = [facility.name]
    if facility.place:
        lines.append(ctx.t("Place: {place}", place=facility.place))
    lines.append(ctx.t("Price: {price}", price=price_text(ctx, facility)))
    lines.append(ctx.t("Which day?"))
    days = svc.bookable_days(rules, ctx.city, ctx.now)[:DAYS_SHOWN]
    buttons = [
        Button(_day_label(ctx, d), "keys.day", f"{facility.key}|{d.isoformat()}") for d in days
    ]
    buttons += [ctx.button("Back", "keys.start"), back_to_menu(ctx)]
    ctx.say("\n".join(lines), buttons)


def _day_label(ctx: Ctx, day: date) -> str:
    offset = (day - ctx.today()).days
    if offset == 0:
        return ctx.t("Today, {day}", day=ctx.date(day))
    if offset == 1:
        return ctx.t("Tomorrow, {day}", day=ctx.date(day))
    return ctx.date(day)


def _split(arg: str) -> tuple[str, str]:
    facility, sep, rest = arg.partition("|")
    if not sep or not rest or len(arg) > 80:
        raise InvalidInput("This option is no longer available.")
    return facility, rest


@router.action("keys.day")
async def show_day(ctx: Ctx, arg: str) -> None:
    facility_key, day_text = _split(arg)
    facility = svc.facility_or_error(_rules(ctx), facility_key)
    try:
        day = date.fromisoformat(day_text)
    except ValueError:
        raise InvalidInput("This option is no longer available.") from None
    found = await svc.slots(ctx.uow, ctx.city, facility, day, ctx.now)
    buttons: list[Button] = []
    for view in found:
        if view.free == 0:
            continue
        label = ctx.tn(
            "{slot} ({n} free)",
            "{slot} ({n} free)",
            view.free,
            slot=slot_text(ctx, view.slot.starts_at, view.slot.ends_at),
        )
        stamp = str(int(view.slot.starts_at.timestamp()))
        buttons.append(Button(label, "keys.slot", f"{facility.key}|{stamp}"))
    if buttons:
        text = ctx.t(
            "{facility} on {day}: please choose a slot.", facility=facility.name, day=ctx.date(day)
        )
    else:
        text = ctx.t(
            "{facility} is fully booked on {day}.", facility=facility.name, day=ctx.date(day)
        )
    buttons += [ctx.button("Other day", "keys.facility", facility.key), back_to_menu(ctx)]
    ctx.say(text, buttons)


def _slot_start(stamp: str) -> datetime:
    if not stamp.isdigit() or len(stamp) > 12:
        raise InvalidInput("This option is no longer available.")
    return datetime.fromtimestamp(int(stamp), UTC)


@router.action("keys.slot")
async def confirm_slot(ctx: Ctx, arg: str) -> None:
    facility_key, stamp = _split(arg)
    facility = svc.facility_or_error(_rules(ctx), facility_key)
    slot = svc.find_slot(facility, ctx.city, _slot_start(stamp))
    day_arg = "|".join((facility.key, _local(ctx, slot.starts_at).date().isoformat()))
    ctx.say(
        ctx.t(
            "Book {facility}, {slot}? Price: {price}.",
            facility=facility.name,
            slot=slot_text(ctx, slot.starts_at, slot.ends_at),
            price=price_text(ctx, facility),
        ),
        [
            ctx.button("Yes, book it", "keys.book", arg),
            ctx.button("Other slot", "keys.day", day_arg),
            back_to_menu(ctx),
        ],
    )


@router.action("keys.book")
async def book(ctx: Ctx, arg: str) -> None:
    facility_key, stamp = _split(arg)
    result = await svc.book(
        ctx.uow,
        ctx.env,
        citizen_id=ctx.citizen_id,
        facility_key=facility_key,
        starts_at=_slot_start(stamp),
        now=ctx.now,
    )
    if result.payment is None:
        ctx.say(
            ctx.t(
                "Booked: {key}, {slot}. Your key is in your wallet.",
                key=key_name(ctx, result.facility, result.booking),
                slot=slot_text(ctx, result.booking.starts_at, result.booking.ends_at),
            )
        )
        await details(ctx, result.booking)
        return
    await show_payment(ctx, result.booking)


async def show_payment(ctx: Ctx, booking: KeyBooking) -> None:
    payment = await checkout.open_payment(ctx.uow, booking.payment_id, ctx.now)
    if payment is None:
        await my_bookings(ctx, "")
        return
    facility = _rules(ctx).facility(booking.facility)
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
    rules = _rules(ctx)
    found = await svc.bookings_of(ctx.uow, ctx.citizen_id, ctx.now)
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
    state = svc.key_state(booking, rules, ctx.now)
    opens = _local(ctx, booking.starts_at - rules.grace_before)
    return ctx.t(STATE_WORDS[state], time=ctx.datetime(opens))


@router.action("keys.show")
async def show_key(ctx: Ctx, arg: str) -> None:
    booking = await svc.own_booking(ctx.uow, ctx.citizen_id, _id(arg))
    if (
        booking.status == HELD
        and booking.citizen_id == ctx.citizen_id
        and await checkout.open_payment(ctx.uow, booking.payment_id, ctx.now) is not None
    ):
        await show_payment(ctx, booking)
        return
    await details(ctx, booking)


async def details(ctx: Ctx, booking: KeyBooking) -> None:
    rules = _rules(ctx)
    facility = rules.facility(booking.facility)
    state = svc.key_state(booking, rules, ctx.now)
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
    events = await svc.history(ctx.uow, booking.id or 0)
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
    rules = _rules(ctx)
    booking = await svc.own_booking(ctx.uow, ctx.citizen_id, _id(arg))
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
    refunded = await svc.cancel(
        ctx.uow, ctx.env, citizen_id=ctx.citizen_id, booking_id=_id(arg), now=ctx.now
    )
    text = ctx.t("The booking is cancelled and the key revoked.")
    if refunded:
        text += " " + ctx.t("{amount} will be refunded.", amount=ctx.money(refunded))
    ctx.say(text, [ctx.button("My bookings", "keys.mine"), back_to_menu(ctx)])


# ---------------------------------------------------------------- passing the key on
@router.action("keys.pass")
async def pass_on(ctx: Ctx, arg: str) -> None:
    code = await svc.start_handover(
        ctx.uow, ctx.city, citizen_id=ctx.citizen_id, booking_id=_id(arg), now=ctx.now
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
    await svc.stop_handover(ctx.uow, citizen_id=ctx.citizen_id, booking_id=_id(arg))
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
    code = svc.read_code(ctx.inbound.text)
    await _take_over(ctx, code)


@router.deeplink("k")
async def handover_link(ctx: Ctx, rest: str) -> None:
    await _take_over(ctx, svc.read_code(rest))


async def _take_over(ctx: Ctx, code: str) -> None:
    booking = await svc.take_over(
        ctx.uow, ctx.city, citizen_id=ctx.citizen_id, code=code, now=ctx.now
    )
    ctx.done()
    ctx.say(ctx.t("The key is yours now. It is in your wallet."))
    await details(ctx, booking)


def _id(arg: str) -> int:
    if not arg.isdigit() or len(arg) > 12:
        raise InvalidInput("This option is no longer available.")
    return int(arg)
