"""Events for organisers: publish an event (form), see bookings and check-ins, check tickets in
at the door, call an event off."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from flows import fields
from flows.context import Ctx
from flows.event_views import moment, price, rules, when
from flows.forms import Field, FieldProblem, Form, register_form
from flows.menu import back_to_menu
from flows.registry import Router
from flows.types import Button
from services import codes
from services.errors import DomainError, InvalidInput
from services.events import booking as svc
from services.events import tickets as tickets_svc
from services.events.booking import CANCELLED, CHECKED_IN, Ticket
from services.i18n import N_
from services.identity.profile import parse_date
from services.numbers import parse_id

router = Router("organiser")
router.menu(N_("My events (organiser)"), "events.organised", order=35, roles=["organiser"])

_TIME = re.compile(r"(?P<h>[0-9]{1,2})(?:[:.](?P<m>[0-9]{2}))?\s*(?:uhr|h)?", re.IGNORECASE)
_MOMENT = re.compile(r"(?P<date>[0-9.\-]+)[,\s]+(?:um\s+|at\s+)?(?P<time>.+)", re.IGNORECASE)


# ---------------------------------------------------------------- parsing date and time
def _clock(text: str) -> tuple[int, int]:
    match = _TIME.fullmatch(text.strip())
    if not match:
        raise InvalidInput("Please enter a time like 19:30.")
    hour, minute = int(match["h"]), int(match["m"] or 0)
    if hour > 23 or minute > 59:
        raise InvalidInput("Please enter a time like 19:30.")
    return hour, minute


def _local(ctx: Ctx, day: Any, hour: int, minute: int) -> datetime:
    naive = datetime(day.year, day.month, day.day, hour, minute)
    return naive.replace(tzinfo=ctx.city.tz)


def parse_moment(ctx: Ctx, text: str) -> str:
    """'24.12.2026 18:00', '24.12.2026, 18 Uhr', '2026-12-24 18:30' -> ISO (city time zone)."""
    match = _MOMENT.fullmatch(" ".join(text.split()))
    if not match:
        raise InvalidInput("Please enter date and time, for example 24.12.2026 18:00.")
    day = parse_date(match["date"].rstrip(","), ctx.today(), past=False)
    hour, minute = _clock(match["time"])
    return _local(ctx, day, hour, minute).isoformat()


def parse_start(ctx: Ctx, text: str) -> str:
    value = parse_moment(ctx, text)
    if datetime.fromisoformat(value) <= ctx.now:
        raise InvalidInput("The start lies in the past. Please enter a later date and time.")
    return value


def parse_end(ctx: Ctx, text: str) -> str:
    """A full date and time, or only a time: the same day as the start."""
    if _TIME.fullmatch(text.strip()):
        hour, minute = _clock(text)
        return f"{hour:02d}:{minute:02d}"
    return parse_moment(ctx, text)


def parse_price(ctx: Ctx, text: str) -> int:
    return svc.parse_price(text)


def _resolve(ctx: Ctx, answers: dict[str, Any]) -> tuple[datetime, datetime, datetime]:
    start = datetime.fromisoformat(answers["start"])
    raw_end = str(answers["end"])
    if "T" in raw_end:
        end = datetime.fromisoformat(raw_end)
    else:
        hour, minute = _clock(raw_end)
        end = _local(ctx, start.date(), hour, minute)
    deadline = datetime.fromisoformat(answers["deadline"]) if answers.get("deadline") else start
    return start, end, deadline


def show_moment(ctx: Ctx, value: object) -> str:
    text = str(value)
    return moment(ctx, datetime.fromisoformat(text)) if "T" in text else text


def check(ctx: Ctx, answers: dict[str, Any]) -> None:
    start, end, deadline = _resolve(ctx, answers)
    if start <= ctx.now:
        raise FieldProblem(
            "start", "The start lies in the past. Please enter a later date and time."
        )
    if end <= start:
        raise FieldProblem("end", "The end must be after the start.")
    if end - start > timedelta(days=14):
        raise FieldProblem("end", "An event can last at most 14 days.")
    if deadline > start:
        raise FieldProblem("deadline", "The booking deadline must not be after the start.")
    if deadline <= ctx.now:
        raise FieldProblem("deadline", "The booking deadline lies in the past.")
    if answers["capacity"] > rules(ctx).max_capacity:
        raise FieldProblem(
            "capacity",
            "Please enter a number from {low} to {high}.",
            low=1,
            high=rules(ctx).max_capacity,
        )


async def submit(ctx: Ctx, answers: dict[str, Any]) -> None:
    start, end, deadline = _resolve(ctx, answers)
    draft = svc.EventDraft(
        title=answers["title"],
        description=answers.get("description") or "",
        place=answers["place"],
        starts_at=start,
        ends_at=end,
        booking_deadline=deadline,
        price_cents=int(answers["price"]),
        capacity=int(answers["capacity"]),
    )
    event = await svc.create_event(ctx.uow, ctx.citizen_id, draft, rules(ctx), ctx.now)
    ctx.say(
        ctx.t(
            "Published: {event}, {when}. Residents can book it now.",
            event=event.title,
            when=when(ctx, event),
        ),
        [
            ctx.button("Manage this event", "events.manage", str(event.id)),
            ctx.button("My events (organiser)", "events.organised"),
            back_to_menu(ctx),
        ],
    )


register_form(
    Form(
        key="event",
        title=N_("Publish an event"),
        submit=submit,
        check=check,
        roles=frozenset({"organiser"}),
        fields=[
            Field(
                "title", N_("What is the event called?"), parse=fields.short_text, label=N_("Title")
            ),
            Field(
                "description",
                N_("Describe the event in a few sentences (what, for whom)."),
                parse=fields.text,
                optional=True,
                label=N_("Description"),
            ),
            Field(
                "place",
                N_("Where does it take place? For example Stadthalle Ahaus, Hof zum Ahaus 2."),
                parse=fields.short_text,
                label=N_("Place"),
            ),
            Field(
                "start",
                N_("When does it start? Date and time, for example 12.12.2026 18:00."),
                parse=parse_start,
                show=show_moment,
                label=N_("Start"),
            ),
            Field(
                "end",
                N_("When does it end? A time (for example 20:00) or date and time."),
                parse=parse_end,
                show=show_moment,
                label=N_("End"),
            ),
            Field(
                "price",
                N_("Price per ticket in euros? Type 0 for a free event."),
                parse=parse_price,
                show=lambda ctx, value: price(ctx, int(str(value))),
                label=N_("Price"),
            ),
            Field(
                "capacity",
                N_("How many places are there?"),
                parse=fields.integer(1, 100_000),
                label=N_("Places"),
            ),
            Field(
                "deadline",
                N_(
                    "Until when can people book? Date and time; "
                    "skip to allow booking until the start."
                ),
                parse=parse_moment,
                show=show_moment,
                optional=True,
                label=N_("Booking deadline"),
            ),
        ],
    )
)


# ---------------------------------------------------------------- the organiser's events
@router.command("myevents", roles=["organiser"], help=N_("organisers: your events and the door"))
async def my_events_command(ctx: Ctx, args: str) -> None:
    await organised(ctx, "")


@router.action("events.organised", roles=["organiser"])
async def organised(ctx: Ctx, arg: str) -> None:
    found = await svc.organiser_events(ctx.uow, ctx.citizen_id, ctx.now)
    buttons: list[Button] = [ctx.button("Publish an event", "form.open", "event")]
    if not found:
        text = ctx.t("You have no current events.")
    else:
        lines = [ctx.t("Your events:")]
        for number, stats in enumerate(found, start=1):
            event = stats.event
            lines.append(
                f"{number}. {event.title} – {when(ctx, event)} – "
                + (
                    ctx.tp("event", "cancelled")
                    if event.status == CANCELLED
                    else ctx.t(
                        "{sold} of {capacity} booked, {checked} checked in",
                        sold=stats.tickets,
                        capacity=event.capacity,
                        checked=stats.checked_in,
                    )
                )
            )
            buttons.append(Button(f"{number}. {event.title}", "events.manage", str(event.id)))
    buttons.append(back_to_menu(ctx))
    ctx.say(text if not found else "\n".join(lines), buttons)


@router.action("events.manage", roles=["organiser"])
async def manage(ctx: Ctx, arg: str) -> None:
    await svc.organiser_event(ctx.uow, ctx.citizen_id, _id(arg))
    await svc.release_lapsed(ctx.uow, ctx.env, ctx.now, event_id=_id(arg))
    event = await svc.organiser_event(ctx.uow, ctx.citizen_id, _id(arg))
    stats = await svc.event_stats(ctx.uow, event)
    lines = [
        f"{event.title}",
        when(ctx, event),
        ctx.t("Place: {place}", place=event.place),
        ctx.t("Price per ticket: {price}", price=price(ctx, event.price_cents)),
        ctx.t(
            "Tickets: {sold} of {capacity} sold, {held} reserved awaiting payment, {free} free.",
            sold=stats.tickets,
            capacity=event.capacity,
            held=stats.held,
            free=svc.free_places(event),
        ),
        ctx.t("Checked in: {checked} of {sold}.", checked=stats.checked_in, sold=stats.tickets),
    ]
    if event.price_cents:
        lines.append(ctx.t("Takings: {amount}", amount=ctx.money(stats.revenue_cents)))
    buttons: list[Button] = []
    if event.status == CANCELLED:
        lines.append(ctx.t("This event was cancelled."))
    else:
        buttons.append(ctx.button("Check in tickets", "events.door", str(event.id)))
        if event.ends_at > ctx.now:
            buttons.append(ctx.button("Cancel this event", "events.call_off", str(event.id)))
    buttons += [ctx.button("My events (organiser)", "events.organised"), back_to_menu(ctx)]
    ctx.say("\n".join(lines), buttons)


@router.action("events.call_off", roles=["organiser"])
async def confirm_call_off(ctx: Ctx, arg: str) -> None:
    event = await svc.organiser_event(ctx.uow, ctx.citizen_id, _id(arg))
    stats = await svc.event_stats(ctx.uow, event)
    ctx.say(
        ctx.t(
            "Really cancel {event}, {when}? All {sold} ticket holders are told and paid tickets "
            "are refunded. This cannot be undone.",
            event=event.title,
            when=when(ctx, event),
            sold=stats.tickets,
        ),
        [
            ctx.button("Yes, cancel the event", "events.call_off_yes", str(event.id)),
            ctx.button("No, keep it", "events.manage", str(event.id)),
        ],
    )


@router.action("events.call_off_yes", roles=["organiser"])
async def call_off(ctx: Ctx, arg: str) -> None:
    told = await tickets_svc.cancel_event(
        ctx.uow, ctx.env, organiser_id=ctx.citizen_id, event_id=_id(arg), now=ctx.now
    )
    ctx.say(
        ctx.tn(
            "The event is cancelled. {n} ticket holder is being notified.",
            "The event is cancelled. {n} ticket holders are being notified.",
            told,
        ),
        [ctx.button("My events (organiser)", "events.organised"), back_to_menu(ctx)],
    )


# ---------------------------------------------------------------- at the door
@router.action("events.door", roles=["organiser"])
async def door(ctx: Ctx, arg: str) -> None:
    event = await svc.organiser_event(ctx.uow, ctx.citizen_id, _id(arg))
    _ask_code(ctx, event.id or 0, ctx.t("Check-in for {event}.", event=event.title))


def _ask_code(ctx: Ctx, event_id: int, intro: str = "") -> None:
    text = ctx.t("Type the ticket code or scan the QR code.")
    ctx.ask(
        "events.door_code",
        f"{intro}\n{text}" if intro else text,
        [
            ctx.button("Done with check-in", "events.manage", str(event_id)),
        ],
        event=event_id,
    )


@router.step("events.door_code", free_text=False)  # ticket codes are never a bare number
async def code_typed(ctx: Ctx) -> None:
    event_id = int(ctx.data.get("event", 0))
    if not ctx.has_role("organiser"):
        ctx.done()
        ctx.say(ctx.t("Sorry, only authorised staff can do this. Nothing was changed."))
        return
    text = ctx.inbound.text.strip()
    if text.casefold().startswith("/start "):
        text = text[7:]
    try:
        ticket = await svc.ticket_by_code(ctx.uow, text)
    except DomainError as problem:  # still waiting for a code, the way out shown again
        _ask_code(ctx, event_id, ctx.t(problem.message, **problem.params))
        return
    await door_view(ctx, ticket, event_id)


async def door_view(ctx: Ctx, ticket: Ticket, event_id: int) -> None:
    """What the person at the entrance sees after a scan: valid? this event? used when?"""
    view = await tickets_svc.door_view(ctx.uow, ctx.citizen_id, ticket)
    event = view.event
    head = ctx.t(
        "Ticket {code} – {event}, {when}",
        code=codes.display(ticket.code),
        event=event.title,
        when=when(ctx, event),
    )
    buttons: list[Button] = []
    if not view.own_event:
        verdict = ctx.t(
            "❌ This ticket is for {event}, an event of another organiser.", event=event.title
        )
    elif event_id and event.id != event_id:
        verdict = ctx.t("❌ Not for this event: this ticket is for {event}.", event=event.title)
    elif event.status == CANCELLED:
        verdict = ctx.t("❌ This event was cancelled.")
    elif ticket.status == CHECKED_IN and ticket.checked_in_at is not None:
        verdict = ctx.t(
            "❌ Already checked in on {day} at {time}. Do not let this ticket in again.",
            **svc.at_params(ticket.checked_in_at, ctx.city.tz),
        )
    elif ticket.status == CANCELLED:
        verdict = ctx.t("❌ This ticket was cancelled and is not valid.")
    else:
        verdict = ctx.t("✅ Valid.")
        buttons.append(ctx.button("Check in", "events.admit", str(ticket.id)))
    if view.own_event:
        buttons.append(ctx.button("Done with check-in", "events.manage", str(event.id)))
        ctx.ask("events.door_code", f"{head}\n{verdict}", buttons, event=event_id or event.id)
    else:
        buttons.append(back_to_menu(ctx))
        ctx.say(f"{head}\n{verdict}", buttons)


@router.action("events.admit", roles=["organiser"])
async def admit(ctx: Ctx, arg: str) -> None:
    ticket = await tickets_svc.check_in(ctx.uow, ctx.citizen_id, _id(arg), ctx.now, tz=ctx.city.tz)
    event = await svc.get_event(ctx.uow, ticket.event_id)
    stats = await svc.event_stats(ctx.uow, event)
    _ask_code(
        ctx,
        event.id or 0,
        ctx.t(
            "✅ Checked in: {code}. {checked} of {sold} are in.",
            code=codes.display(ticket.code),
            checked=stats.checked_in,
            sold=stats.tickets,
        ),
    )


def _id(arg: str) -> int:
    number = parse_id(arg)
    if number is None:
        raise InvalidInput("This option is no longer available.")
    return number
