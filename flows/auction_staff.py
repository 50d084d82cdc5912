"""The lost property office lists an item in chat (a form with a photo), and staff at the
pickup desk hand paid items over against their pickup code."""

from __future__ import annotations

from datetime import date
from typing import Any

from flows import fields
from flows.confirm import ask_confirmation
from flows.context import Ctx
from flows.forms import Choice, Field, FieldProblem, Form, open_form, register_form
from flows.menu import back_to_menu
from flows.registry import Router
from services import codes
from services.auction import items as auction
from services.auction import pickup
from services.errors import InvalidInput, NotAllowed
from services.i18n import N_

router = Router("auction_staff")
router.menu(N_("List a found item"), "auction.list", order=61, roles=["staff"])
FORM = "auction.item"


def _categories(ctx: Ctx, answers: dict[str, Any]) -> list[Choice]:
    return [Choice(c.key, c.name(ctx.lang)) for c in auction.rules(ctx.city).categories]


def _check(ctx: Ctx, answers: dict[str, Any]) -> None:
    found = auction.listing_problem(
        auction.rules(ctx.city),
        ctx.today(),
        found_on=date.fromisoformat(answers["found_on"]) if answers.get("found_on") else None,
        notice_on=date.fromisoformat(answers["notice_on"]) if answers.get("notice_on") else None,
        start_cents=answers.get("start"),
        floor_cents=answers.get("floor"),
    )
    if found is not None:
        raise FieldProblem(found[0], found[1], **found[2])


def _notes(ctx: Ctx, answers: dict[str, Any]) -> list[str]:
    start, floor = answers.get("start"), answers.get("floor")
    if not (isinstance(start, int) and isinstance(floor, int)):
        return []
    rule = auction.rules(ctx.city).rule
    from services.auction.price import floor_day

    days = floor_day(start, floor, rule)
    return [
        ctx.t(
            "The price reaches the floor after {days} days; unsold, the item ends {more} "
            "days later.",
            days=days,
            more=auction.rules(ctx.city).end_after_days_at_floor,
        )
    ]


async def _submit(ctx: Ctx, answers: dict[str, Any]) -> None:
    item = await auction.list_item(
        ctx.uow,
        ctx.city,
        ctx.citizen_id,
        auction.NewItem(
            title=answers["title"],
            description=answers.get("description") or "",
            category=answers["category"],
            found_place=answers.get("found_place") or "",
            found_on=date.fromisoformat(answers["found_on"]),
            notice_on=date.fromisoformat(answers["notice_on"]),
            start_cents=answers["start"],
            floor_cents=answers["floor"],
            photo_file_id=(answers.get("photo") or {}).get("file_id"),
        ),
        ctx.roles,
        ctx.now,
    )
    ctx.say(
        ctx.t(
            "Listed as item {id}: {title}, from {start} today down to {floor}.",
            id=item.id,
            title=item.title,
            start=ctx.money(item.start_cents),
            floor=ctx.money(item.floor_cents),
        ),
        [
            ctx.button("Show item", "auction.item", str(item.id)),
            ctx.button("List a found item", "auction.list"),
            back_to_menu(ctx),
        ],
    )


register_form(
    Form(
        key=FORM,
        title=N_("List a found item"),
        intro=N_(
            "Listing a found item for the auction. Please have the photo, the date of the "
            "public notice and the prices ready."
        ),
        roles=frozenset({"staff"}),
        submit=_submit,
        check=_check,
        notes=_notes,
        fields=[
            Field(
                "photo",
                N_("Please send a photo of the item."),
                kind="photo",
                accept=("image/jpeg", "image/png"),
                label=N_("Photo"),
            ),
            Field(
                "title",
                N_("Title, e.g. Damenfahrrad Gazelle, blau?"),
                parse=fields.short_text,
                label=N_("Title"),
            ),
            Field(
                "description",
                N_("Description (condition, features)?"),
                parse=fields.text,
                optional=True,
                label=N_("Description"),
            ),
            Field(
                "category",
                N_("Category?"),
                kind="choice",
                choices=_categories,
                label=N_("Category"),
            ),
            Field(
                "found_place",
                N_("Where was it found?"),
                parse=fields.short_text,
                label=N_("Found at"),
            ),
            Field(
                "found_on",
                N_("When was it found? (e.g. 14.03.2026)"),
                parse=fields.day(past=True, max_years_back=5),
                show=fields.show_day,
                label=N_("Found on"),
            ),
            Field(
                "notice_on",
                N_("Date of the public notice (§ 980 BGB)?"),
                parse=fields.day(past=True, max_years_back=5),
                show=fields.show_day,
                label=N_("Public notice"),
            ),
            Field(
                "start",
                N_("Start price, e.g. 120,00?"),
                parse=fields.amount,
                show=fields.show_money,
                label=N_("Start price"),
            ),
            Field(
                "floor",
                N_("Floor price (it never falls below), e.g. 30,00?"),
                parse=fields.amount,
                show=fields.show_money,
                label=N_("Floor price"),
            ),
        ],
    )
)


@router.action("auction.list")
async def list_item(ctx: Ctx, arg: str) -> None:
    if not ctx.has_role("staff", auction.LISTING_DEPARTMENT):
        raise NotAllowed("Only the lost property office can list items for the auction.")
    await open_form(ctx, FORM)


@router.command("fundsache", "list_item")
async def list_command(ctx: Ctx, args: str) -> None:
    await list_item(ctx, "")


@router.command("abholung", "pickup", roles=["staff"])
async def pickup_command(ctx: Ctx, args: str) -> None:
    if not any(ctx.has_role("staff", d) for d in auction.PICKUP_DEPARTMENTS):
        raise NotAllowed(
            "Only the lost property office and the citizens' office hand over auction items."
        )
    if not args.strip():
        ctx.ask("auction.pickup_code", ctx.t("Please type the pickup code."))
        return
    await _hand_over(ctx, args)


@router.step("auction.pickup_code", free_text=False)  # codes are never a bare number
async def pickup_code(ctx: Ctx) -> None:
    if ctx.inbound.kind != "text":
        raise InvalidInput("Please type the pickup code.")
    ctx.done()
    await _hand_over(ctx, ctx.inbound.text)


async def _hand_over(ctx: Ctx, text: str) -> None:
    reservation, item = await pickup.for_pickup(ctx.uow, text, ctx.now)
    code = codes.display(reservation.pickup_code or "")
    ask_confirmation(
        ctx,
        ctx.t(
            "Pickup code {code} is valid: item {id}, {title}. Please check the buyer's ID. "
            "Hand the item over now? It is then marked as picked up.",
            code=code,
            id=item.id,
            title=item.title,
        ),
        ctx.button(ctx.t("Yes, hand over item {id}", id=item.id), "auction.hand_over", code),
        ctx.button("No, not now", "auction.hand_over_no"),
    )


@router.action("auction.hand_over", roles=["staff"])
async def hand_over(ctx: Ctx, code: str) -> None:
    if not any(ctx.has_role("staff", d) for d in auction.PICKUP_DEPARTMENTS):
        raise NotAllowed(
            "Only the lost property office and the citizens' office hand over auction items."
        )
    ctx.done()
    reservation, item = await pickup.collect(ctx.uow, code, ctx.citizen_id, ctx.now)
    ctx.say(
        ctx.t(
            "Item {id}, {title}, is handed over (pickup code {code}).",
            id=item.id,
            title=item.title,
            code=codes.display(reservation.pickup_code or ""),
        )
    )


@router.action("auction.hand_over_no", roles=["staff"])
async def hand_over_no(ctx: Ctx, arg: str) -> None:
    ctx.done()
    ctx.say(ctx.t("Nothing was handed over."))
