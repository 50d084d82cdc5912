"""Events for residents: browse, book (and pay), tickets with QR code and calendar file, cancel.
The organiser's side (publish, door check-in, cancel an event) is in flows/organiser.py."""

from __future__ import annotations

from flows.checkout import offer_checkout
from flows.context import Ctx
from flows.event_views import moment, places_line, price, rules, status_text, when
from flows.menu import back_to_menu
from flows.organiser import door_view
from flows.registry import Router
from flows.types import Button, Media
from flows.wallet import qr_media
from services import codes, i18n
from services.errors import InvalidInput, NotFound
from services.events import booking as svc
from services.events import tickets as tickets_svc
from services.events.booking import CANCELLED, HELD, VALID, Booking, Event, Ticket
from services.i18n import N_
from services.numbers import ID_MAX, parse_id, parse_int
from services.payments import checkout

PAGE = 8

router = Router("events")
router.menu(
    N_("Events"),
    "events.list",
    order=30,
    keywords=[
        "event",
        "events",
        "veranstaltung",
        "veranstaltungen",
        "konzert",
        "ticket",
        "tickets",
    ],
)


# ---------------------------------------------------------------- browsing
@router.command("events", "veranstaltungen", help=N_("upcoming events and your tickets"))
async def events_command(ctx: Ctx, args: str) -> None:
    await show_list(ctx, "0")


@router.action("events.list")
async def show_list(ctx: Ctx, arg: str) -> None:
    offset = parse_int(arg, high=ID_MAX) or 0
    found = await svc.upcoming(ctx.uow, ctx.now, offset=offset, limit=PAGE + 1)
    more, shown = len(found) > PAGE, found[:PAGE]
    buttons: list[Button] = []
    if not shown:
        text = ctx.t("There are no upcoming events at the moment.")
    else:
        lines = [ctx.t("Upcoming events in {city}:", city=ctx.city.name)]
        for number, event in enumerate(shown, start=offset + 1):
            lines.append(
                f"{number}. {event.title} – {when(ctx, event)} – {price(ctx, event.price_cents)}"
                f" – {places_line(ctx, event)}"
            )
            buttons.append(Button(event.title, "events.show", str(event.id)))
        text = "\n".join(lines)
    if more:
        buttons.append(ctx.button("More events", "events.list", str(offset + PAGE)))
    buttons += [ctx.button("My tickets", "events.mine"), back_to_menu(ctx)]
    ctx.say(text, buttons)


@router.action("events.show")
async def show_event(ctx: Ctx, arg: str) -> None:
    await svc.get_event(ctx.uow, _id(arg))
    await svc.release_lapsed(ctx.uow, ctx.env, ctx.now, event_id=_id(arg))
    event = await svc.get_event(ctx.uow, _id(arg))
    lines = [f"{event.title}", when(ctx, event), ctx.t("Place: {place}", place=event.place)]
    if event.description:
        lines.append(i18n.content(ctx.lang, event.description))
    lines.append(ctx.t("Price per ticket: {price}", price=price(ctx, event.price_cents)))
    lines.append(places_line(ctx, event))
    buttons: list[Button] = []
    if event.status == CANCELLED:
        lines.append(ctx.t("This event was cancelled."))
    elif event.booking_deadline <= ctx.now:
        lines.append(ctx.t("Booking has closed."))
    else:
        lines.append(ctx.t("Book until {when}.", when=moment(ctx, event.booking_deadline)))
        if svc.free_places(event) > 0:
            buttons.append(ctx.button("Book tickets", "events.book", str(event.id)))
    if event.organiser_id == ctx.citizen_id:
        buttons.append(ctx.button("Manage this event", "events.manage", str(event.id)))
    buttons += [ctx.button("All events", "events.list"), back_to_menu(ctx)]
    ctx.say("\n".join(lines), buttons)


# ---------------------------------------------------------------- booking
@router.action("events.book")
async def ask_quantity(ctx: Ctx, arg: str) -> None:
    event = await svc.get_event(ctx.uow, _id(arg))
    reason = svc.why_not_bookable(event, 1, ctx.now, ctx.city.tz)
    if reason is not None:
        raise InvalidInput(reason[0], **reason[1])
    most = min(rules(ctx).max_tickets_per_booking, svc.free_places(event))
    ctx.ask(
        "events.quantity",
        ctx.t(
            "How many tickets for {event}? Please type a number from 1 to {max}.",
            event=event.title,
            max=most,
        ),
        [ctx.button("Cancel", "events.show", str(event.id))],
        event=event.id,
    )


@router.step("events.quantity")
async def quantity_typed(ctx: Ctx) -> None:
    event_id = int(ctx.data.get("event", 0))
    text = ctx.inbound.text.strip()
    quantity = parse_int(text, high=9999)
    if quantity is None:
        ctx.say(ctx.t("Please type the number of tickets, for example 2."))
        return
    result = await svc.book(
        ctx.uow,
        ctx.env,
        citizen_id=ctx.citizen_id,
        event_id=event_id,
        quantity=quantity,
        rules=rules(ctx),
        now=ctx.now,
    )
    ctx.done()
    if result.payment is None:
        ctx.say(
            ctx.tn(
                "Booked: {n} ticket for {event}, {when}. It is in your wallet.",
                "Booked: {n} tickets for {event}, {when}. They are in your wallet.",
                len(result.tickets),
                event=result.event.title,
                when=when(ctx, result.event),
            ),
            [
                ctx.button("My tickets", "events.mine"),
                ctx.button("Add to calendar", "events.ics", str(result.event.id)),
                back_to_menu(ctx),
            ],
        )
        return
    await show_payment(ctx, result.booking, result.event)


async def show_payment(ctx: Ctx, booking: Booking, event: Event) -> None:
    payment = await checkout.open_payment(ctx.uow, booking.payment_id, ctx.now)
    if payment is None:
        await my_tickets(ctx, "")
        return
    text = ctx.tn(
        "I am holding {n} place for {event} for you. If it is not paid in time, it goes back "
        "on sale.",
        "I am holding {n} places for {event} for you. If they are not paid in time, they go "
        "back on sale.",
        booking.quantity,
        event=event.title,
    )
    offer_checkout(ctx, payment, text, [ctx.button("My tickets", "events.mine")])


@router.action("events.booking")
async def show_booking(ctx: Ctx, arg: str) -> None:
    booking = await svc.held_booking(ctx.uow, ctx.citizen_id, _id(arg))
    if booking.status != HELD or booking.held_until is None or booking.held_until <= ctx.now:
        await my_tickets(ctx, "")
        return
    await show_payment(ctx, booking, await svc.get_event(ctx.uow, booking.event_id))


# ---------------------------------------------------------------- tickets
@router.command("tickets", help=N_("your event tickets"))
async def tickets_command(ctx: Ctx, args: str) -> None:
    await my_tickets(ctx, "")


@router.action("events.mine")
async def my_tickets(ctx: Ctx, arg: str) -> None:
    held = await svc.held_bookings_of(ctx.uow, ctx.citizen_id, ctx.now)
    found = await svc.tickets_of(ctx.uow, ctx.citizen_id, ctx.now)
    buttons: list[Button] = []
    lines: list[str] = []
    for booking in held:
        event = await svc.get_event(ctx.uow, booking.event_id)
        lines.append(
            ctx.tn(
                "{event}: {n} place reserved, waiting for payment",
                "{event}: {n} places reserved, waiting for payment",
                booking.quantity,
                event=event.title,
            )
        )
        buttons.append(
            ctx.button("Pay or cancel the reservation", "events.booking", str(booking.id))
        )
    for number, (ticket, event) in enumerate(found, start=1):
        lines.append(f"{number}. {event.title} – {when(ctx, event)} – {status_text(ctx, ticket)}")
        if len(buttons) < 20:
            buttons.append(Button(f"{number}. {event.title}", "events.ticket", str(ticket.id)))
    if not lines:
        text = ctx.t("You have no event tickets yet.")
    else:
        text = "\n".join([ctx.t("Your event tickets:"), *lines])
    buttons += [ctx.button("All events", "events.list"), back_to_menu(ctx)]
    ctx.say(text, buttons)


@router.action("events.ticket")
async def show_ticket(ctx: Ctx, arg: str) -> None:
    ticket, event = await svc.own_ticket(ctx.uow, ctx.citizen_id, _id(arg))
    await ticket_details(ctx, ticket, event)


async def ticket_details(ctx: Ctx, ticket: Ticket, event: Event) -> None:
    lines = [
        ctx.t("Ticket for {event}", event=event.title),
        ctx.t("When: {when}", when=when(ctx, event)),
        ctx.t("Place: {place}", place=event.place),
        ctx.t("Status: {status}", status=status_text(ctx, ticket)),
        ctx.t("Code: {code}", code=codes.display(ticket.code)),
    ]
    if event.status == CANCELLED:
        lines.append(ctx.t("This event was cancelled."))
    media = None
    if ticket.status == VALID and event.status != CANCELLED:
        lines.append(ctx.t("Show the QR code or the code at the entrance."))
        media = qr_media(f"ticket-{ticket.code}", svc.ticket_link(ticket.code))
    buttons = [ctx.button("Add to calendar", "events.ics", str(event.id))]
    if ticket.status == VALID and event.status != CANCELLED:
        deadline = svc.cancellation_deadline(event, rules(ctx))
        if ctx.now < deadline:
            lines.append(ctx.t("You can cancel until {when}.", when=moment(ctx, deadline)))
            buttons.append(ctx.button("Cancel this ticket", "events.cancel", str(ticket.id)))
    buttons += [ctx.button("My tickets", "events.mine"), back_to_menu(ctx)]
    ctx.say("\n".join(lines), buttons, media=media, private=True)


@router.action("events.ics")
async def calendar_file(ctx: Ctx, arg: str) -> None:
    event = await svc.get_event(ctx.uow, _id(arg))
    first = await tickets_svc.calendar_tickets(ctx.uow, event.id or 0, ctx.citizen_id)
    if ctx.citizen_id not in first:
        raise NotFound("You have no ticket for this event.")
    filename, data = tickets_svc.calendar_file(
        event, first[ctx.citizen_id], ctx.now, ctx.city.tz, ctx.city.name
    )
    ctx.say(
        ctx.t(
            "Calendar entry for {event}: open the file to add it to your calendar.",
            event=event.title,
        ),
        [ctx.button("My tickets", "events.mine"), back_to_menu(ctx)],
        media=Media("document", filename, "text/calendar", data),
    )


@router.action("events.cancel")
async def confirm_cancel(ctx: Ctx, arg: str) -> None:
    ticket, event = await svc.own_ticket(ctx.uow, ctx.citizen_id, _id(arg))
    refund = ticket.price_cents - ticket.refunded_cents
    text = ctx.t(
        "Cancel your ticket for {event}, {when}?", event=event.title, when=when(ctx, event)
    )
    if refund:
        text += "\n" + ctx.t("You get {amount} back.", amount=ctx.money(refund))
    ctx.say(
        text,
        [
            ctx.button("Yes, cancel the ticket", "events.cancel_yes", str(ticket.id)),
            ctx.button("No, keep it", "events.ticket", str(ticket.id)),
        ],
    )


@router.action("events.cancel_yes")
async def cancel_ticket(ctx: Ctx, arg: str) -> None:
    cancelled, refunded = await tickets_svc.cancel_tickets(
        ctx.uow,
        ctx.env,
        citizen_id=ctx.citizen_id,
        ticket_ids=[_id(arg)],
        rules=rules(ctx),
        now=ctx.now,
    )
    if not cancelled:
        text = ctx.t("This ticket was already cancelled.")
    elif refunded:
        text = ctx.t(
            "The ticket is cancelled. {amount} will be refunded.", amount=ctx.money(refunded)
        )
    else:
        text = ctx.t("The ticket is cancelled. Thank you for freeing the place.")
    ctx.say(text, [ctx.button("My tickets", "events.mine"), back_to_menu(ctx)])


# ---------------------------------------------------------------- ticket links (QR codes)
@router.deeplink("t")
async def ticket_link(ctx: Ctx, rest: str) -> None:
    ticket = await svc.ticket_by_code(ctx.uow, rest)
    event = await svc.get_event(ctx.uow, ticket.event_id)
    if ctx.has_role("organiser") and event.organiser_id == ctx.citizen_id:
        await door_view(ctx, ticket, event.id or 0)
        return
    if ticket.citizen_id == ctx.citizen_id:
        await ticket_details(ctx, ticket, event)
        return
    if ctx.has_role("organiser"):
        ctx.say(
            ctx.t("This ticket is for {event}, an event of another organiser.", event=event.title),
            [back_to_menu(ctx)],
        )
        return
    ctx.say(
        ctx.t(
            "This ticket link belongs to someone else. Only the ticket holder and the organiser "
            "at the entrance can open it."
        ),
        [ctx.button("My tickets", "events.mine"), back_to_menu(ctx)],
    )


def _id(arg: str) -> int:
    number = parse_id(arg)
    if number is None:
        raise InvalidInput("This option is no longer available.")
    return number
