"""Digital keys in chat, booking: choose a facility (bike boxes, the community room), a day and
a slot; free slots are confirmed at once with the key in the wallet, paid ones go through the
one checkout. What follows (the key, history, cancel, passing on) is in flows/key_views.py."""

from __future__ import annotations

from datetime import UTC, date, datetime

from flows.context import Ctx
from flows.key_views import details, key_name, local, price_text, rules_of, show_payment, slot_text
from flows.menu import back_to_menu
from flows.registry import Router
from flows.types import Button
from services.errors import InvalidInput
from services.i18n import N_
from services.keys import booking as svc
from services.numbers import parse_int

DAYS_SHOWN = 7

router = Router("keys")
router.menu(
    N_("Digital keys"),
    "keys.start",
    order=32,
    keywords=["schlüssel", "schluessel", "keys", "digital key", "digitaler schlüssel"],
)
for word in (
    "fahrradbox",
    "bikebox",
    "bike box",
    "fahrradbox buchen",
    "book a bike box",
    "radbox",
    "fahrradgarage",
    "bike locker",
):
    router.add_keywords("keys.start", [word], "fahrradbox")
for word in (
    "gemeinschaftsraum",
    "community room",
    "gemeinschaftsraum buchen",
    "wüllen",
    "wuellen",
    "raum mieten",
    "raum buchen",
    "book a room",
    "rent a room",
):
    router.add_keywords("keys.start", [word], "gemeinschaftsraum")


# ---------------------------------------------------------------- choosing
@router.command("schluessel", "keys", help=N_("book a bike box or a room; your digital keys"))
async def keys_command(ctx: Ctx, args: str) -> None:
    await start(ctx, args.strip().casefold())


@router.action("keys.start")
async def start(ctx: Ctx, arg: str) -> None:
    rules = rules_of(ctx)
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
    rules = rules_of(ctx)
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
    facility = svc.facility_or_error(rules_of(ctx), facility_key)
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


LAST_SLOT = 4_102_444_800  # 2100-01-01 UTC: no slot lies later, no timestamp overflows


def _slot_start(stamp: str) -> datetime:
    seconds = parse_int(stamp, high=LAST_SLOT)
    if seconds is None:
        raise InvalidInput("This option is no longer available.")
    return datetime.fromtimestamp(seconds, UTC)


@router.action("keys.slot")
async def confirm_slot(ctx: Ctx, arg: str) -> None:
    facility_key, stamp = _split(arg)
    facility = svc.facility_or_error(rules_of(ctx), facility_key)
    slot = svc.find_slot(facility, ctx.city, _slot_start(stamp))
    day_arg = "|".join((facility.key, local(ctx, slot.starts_at).date().isoformat()))
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
