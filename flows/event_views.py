"""How events and tickets are shown, to residents and organisers alike: dates and times in the
city's time zone, prices, places left, ticket status."""

from __future__ import annotations

from datetime import datetime

from babel.dates import format_date

from flows.context import Ctx
from services.events import booking as svc
from services.events.booking import CANCELLED, CHECKED_IN, Event, Ticket
from services.money import babel_locale


def rules(ctx: Ctx) -> svc.EventRules:
    return ctx.city.section("events", svc.EventRules)


def when(ctx: Ctx, event: Event) -> str:
    """'Sat, 12 Dec 2026, 18:00–20:00' in the resident's language and the city's time."""
    start = event.starts_at.astimezone(ctx.city.tz)
    end = event.ends_at.astimezone(ctx.city.tz)
    weekday = format_date(start.date(), "EEE", locale=babel_locale(ctx.lang))
    text = f"{weekday} {ctx.date(start.date())}, {start:%H:%M}"
    if end.date() == start.date():
        return f"{text}–{end:%H:%M}"
    return f"{text} – {ctx.date(end.date())}, {end:%H:%M}"


def moment(ctx: Ctx, value: object) -> str:
    assert isinstance(value, datetime)
    local = value.astimezone(ctx.city.tz)
    return f"{ctx.date(local.date())}, {local:%H:%M}"


def price(ctx: Ctx, cents: int) -> str:
    return ctx.money(cents) if cents else ctx.t("free")


def places_line(ctx: Ctx, event: Event) -> str:
    left = svc.free_places(event)
    if event.status == CANCELLED:
        return ctx.tp("event", "cancelled")
    if left == 0:
        return ctx.t("sold out")
    return ctx.tn("{n} place left", "{n} places left", left)


def status_text(ctx: Ctx, ticket: Ticket) -> str:
    if ticket.status == CHECKED_IN and ticket.checked_in_at is not None:
        return ctx.t("checked in at {when}", when=moment(ctx, ticket.checked_in_at))
    if ticket.status == CANCELLED:
        return ctx.tp("event", "cancelled")
    return ctx.t("valid")
