"""The resident's own data: profile, linking channels, export (/mydata) and deletion (/deleteme)."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable

from flows.context import Ctx
from flows.menu import back_to_menu, show_main_menu
from flows.registry import Router
from flows.types import Button, Media
from services import codes
from services.errors import InvalidInput
from services.events import booking as events
from services.i18n import N_
from services.identity import accounts as identity
from services.identity import privacy
from services.identity.profile import PROFILE_FIELDS
from services.wallet import refunds, vouchers

router = Router("identity")
router.menu(
    N_("My profile"),
    "profile.show",
    order=800,
    keywords=["profil", "profile", "adresse", "address"],
)
router.add_keywords("link.start", ["link", "verknüpfen", "verbinden"])
router.add_keywords("mydata.export", ["meine daten", "my data", "datenauskunft", "export"])
router.add_keywords("deleteme.ask", ["konto löschen", "delete account", "delete me"])

FIELD_LABELS = {
    "first_name": N_("First name"),
    "last_name": N_("Last name"),
    "street": N_("Street and number"),
    "postal_code": N_("Postal code"),
    "town": N_("Town"),
    "email": N_("E-mail"),
    "phone": N_("Phone"),
}
FIELD_PROMPTS = {
    "first_name": N_("Please enter your first name."),
    "last_name": N_("Please enter your last name."),
    "street": N_("Please enter street and house number, for example Rathausplatz 1."),
    "postal_code": N_("Please enter your postal code, for example 48683."),
    "town": N_("Please enter your town, for example Ahaus."),
    "email": N_("Please enter your e-mail address."),
    "phone": N_("Please enter your phone number."),
}

# Other capabilities add a line and a button to the profile (e.g. news and offers).
ProfileEntry = Callable[[Ctx], Awaitable[tuple[str, Button]]]
PROFILE_ENTRIES: list[ProfileEntry] = []


def profile_entry(entry: ProfileEntry) -> ProfileEntry:
    PROFILE_ENTRIES.append(entry)
    return entry


# Other capabilities hear of a changed profile detail (a changed name or address ends an
# identity check made in person).
ProfileChanged = Callable[[Ctx, str], Awaitable[None]]
PROFILE_CHANGED: list[ProfileChanged] = []


def on_profile_change(hook: ProfileChanged) -> ProfileChanged:
    PROFILE_CHANGED.append(hook)
    return hook


def profile_text(ctx: Ctx) -> str:
    lines = [ctx.t("Your profile (resident ID {id}):", id=ctx.citizen_id)]
    for field, label in FIELD_LABELS.items():
        value = getattr(ctx.citizen, field) or ctx.t("not given")
        lines.append(f"{ctx.t(label)}: {value}")
    lines.append(
        ctx.t("Language: {language}", language="English" if ctx.lang == "en" else "Deutsch")
    )
    lines.append(ctx.t("Each detail is optional until a form needs it."))
    return "\n".join(lines)


@router.command("profile", "profil", help=N_("your name, address and contact details"))
async def profile_command(ctx: Ctx, args: str) -> None:
    await show_profile(ctx, "")


@router.action("profile.show")
async def show_profile(ctx: Ctx, arg: str) -> None:
    buttons = [ctx.button(label, "profile.edit", field) for field, label in FIELD_LABELS.items()]
    lines = [profile_text(ctx)]
    for entry in PROFILE_ENTRIES:
        line, button = await entry(ctx)
        lines.append(line)
        buttons.append(button)
    buttons += [
        ctx.button("Link another channel", "link.start"),
        ctx.button("Export my data", "mydata.export"),
        ctx.button("Delete my data", "deleteme.ask"),
        back_to_menu(ctx),
    ]
    ctx.say("\n".join(lines), buttons, private=True)


@router.action("profile.edit")
async def edit_field(ctx: Ctx, field: str) -> None:
    if field not in PROFILE_FIELDS:
        await show_profile(ctx, "")
        return
    buttons = [ctx.button("Cancel", "profile.show")]
    if getattr(ctx.citizen, field):
        buttons.insert(0, ctx.button("Remove this detail", "profile.clear", field))
    ctx.ask("profile.field", ctx.t(FIELD_PROMPTS[field]), buttons, field=field)


NUMBER_FIELDS = frozenset({"postal_code", "phone"})  # a typed number is the answer there


@router.step("profile.field", free_text=lambda ctx: str(ctx.data.get("field", "")) in NUMBER_FIELDS)
async def field_entered(ctx: Ctx) -> None:
    field = str(ctx.data.get("field", ""))
    if ctx.inbound.kind != "text":
        ctx.say(ctx.t("Please type your answer as text."))
        await edit_field(ctx, field)
        return
    try:
        identity.update_profile(ctx.citizen, field, ctx.inbound.text)
    except InvalidInput as error:
        ctx.say(ctx.t(error.message, **error.params))
        await edit_field(ctx, field)
        return
    ctx.done()
    ctx.say(ctx.t("Saved."))
    for hook in PROFILE_CHANGED:
        await hook(ctx, field)
    await show_profile(ctx, "")


@router.action("profile.clear")
async def clear_field(ctx: Ctx, field: str) -> None:
    identity.clear_profile_field(ctx.citizen, field)
    ctx.say(ctx.t("Removed."))
    for hook in PROFILE_CHANGED:
        await hook(ctx, field)
    await show_profile(ctx, "")


# ---------------------------------------------------------------- linking channels
@router.command("link", "verknuepfen", help=N_("use the same account on Telegram, Matrix and here"))
async def link_command(ctx: Ctx, args: str) -> None:
    if args.strip():
        await redeem(ctx, args)
    else:
        await link_start(ctx, "")


@router.action("link.start")
async def link_start(ctx: Ctx, arg: str) -> None:
    link = await identity.create_link_code(ctx.uow, ctx.citizen_id, ctx.now)
    shown = codes.display(link.code)
    ctx.say(
        ctx.t(
            "Your link code is {code}. It works once, for 10 minutes.\n"
            "On your other channel (Telegram, Matrix), send: /link {code}\n"
            "Everything you have here – wallet, cases, profile – is then shared there.",
            code=shown,
        ),
        [ctx.button("I have a code from another channel", "link.enter"), back_to_menu(ctx)],
        private=True,
    )


@router.action("link.enter")
async def link_enter(ctx: Ctx, arg: str) -> None:
    ctx.ask(
        "link.code",
        ctx.t("Please type the link code from your other channel."),
        [ctx.button("Cancel", "menu.main")],
    )


@router.step("link.code", free_text=False)  # codes are never a bare number
async def link_code_entered(ctx: Ctx) -> None:
    await redeem(ctx, ctx.inbound.text)


@router.deeplink("link")
async def link_deeplink(ctx: Ctx, rest: str) -> None:
    await redeem(ctx, rest)


async def redeem(ctx: Ctx, text: str) -> None:
    target = await identity.redeem_link_code(ctx.uow, ctx.account, text, ctx.now)
    ctx.citizen = target
    ctx.roles = await identity.roles_of(ctx.uow, ctx.citizen_id)
    accounts = await identity.accounts_of(ctx.uow, ctx.citizen_id)
    channels = ", ".join(sorted({a.channel.capitalize() for a in accounts}))
    show_main_menu(
        ctx,
        ctx.t(
            "Done: this chat now belongs to your account ({channels}). "
            "You see the same wallet and cases everywhere.",
            channels=channels,
        ),
    )


# ---------------------------------------------------------------- export and deletion
@router.command("mydata", "meinedaten", help=N_("everything we hold about you, as a file"))
async def mydata_command(ctx: Ctx, args: str) -> None:
    await export(ctx, "")


@router.action("mydata.export")
async def export(ctx: Ctx, arg: str) -> None:
    data = await privacy.export_citizen(ctx.uow, ctx.citizen_id)
    payload = json.dumps(
        {"generated_at": ctx.now.isoformat(), "city": ctx.city.name, "data": data},
        ensure_ascii=False,
        indent=2,
        default=str,
    ).encode("utf-8")
    ctx.say(
        ctx.t(
            "Here is everything we hold about you, as a JSON file ({tables} kinds of records).",
            tables=len(data),
        ),
        media=Media(
            "document", f"stadtlotse-data-{ctx.citizen_id}.json", "application/json", payload
        ),
        private=True,
    )
    show_main_menu(ctx)


@router.command("deleteme", "loeschen", help=N_("delete your data"))
async def deleteme_command(ctx: Ctx, args: str) -> None:
    await ask_delete(ctx, "")


@router.action("deleteme.ask")
async def ask_delete(ctx: Ctx, arg: str) -> None:
    held = await privacy.holdings(ctx.uow, ctx.city, ctx.citizen_id, ctx.now)
    if held:
        await _money_left(ctx, held)
        return
    ctx.say(
        ctx.t(
            "Do you really want to delete your data? Your profile, linked channels, drafts "
            "and messages are removed for good. Records the law requires us to keep (payments, "
            "applications) are kept without your name. This cannot be undone."
        ),
        [
            ctx.button("Yes, delete my data", "deleteme.confirm"),
            ctx.button("No, keep everything", "menu.main"),
        ],
    )


async def _money_left(ctx: Ctx, held: list[privacy.Holding]) -> None:
    """Name every voucher and ticket with money left, offer to gift or refund it first."""
    total = sum(h.cents for h in held)
    lines = [
        ctx.t(
            "Before you delete your data: you still hold {total}. After deleting, vouchers "
            "are closed and tickets cancelled; the money left in them is lost.",
            total=ctx.money(total),
        )
    ]
    buttons: list[Button] = []
    for holding in held:
        lines.append("• " + ctx.t(holding.title, **dict(holding.params)))
        buttons += await _rescue_buttons(ctx, holding)
    lines.append(
        ctx.t(
            "You can give a voucher to someone as a gift, refund what can still be refunded, "
            "or cancel tickets in time. Records the law requires us to keep (payments, "
            "vouchers' bookings, applications) are kept without your name."
        )
    )
    buttons += [
        Button(
            ctx.t("Delete anyway and give up {total}", total=ctx.money(total)),
            "deleteme.confirm",
        ),
        ctx.button("No, keep everything", "menu.main"),
    ]
    ctx.say("\n".join(lines), buttons, private=True)


async def _rescue_buttons(ctx: Ctx, holding: privacy.Holding) -> list[Button]:
    if holding.kind == "voucher":
        voucher = await vouchers.get_own(ctx.uow, ctx.citizen_id, int(holding.ref))
        shown = codes.display(voucher.code)
        found = []
        if voucher.gift_code is None:
            found.append(Button(ctx.t("Gift {code}", code=shown), "gift.create", holding.ref))
        if refunds.can_refund(voucher, ctx.citizen_id, vouchers.rules_of(ctx.city), ctx.now):
            found.append(
                Button(
                    ctx.t("Refund {code}", code=shown),
                    "voucher.refund",
                    holding.ref,
                )
            )
        return found
    if holding.kind == "ticket":
        ticket, event = await events.own_ticket(ctx.uow, ctx.citizen_id, int(holding.ref))
        rules = ctx.city.section("events", events.EventRules)
        if ctx.now < events.cancellation_deadline(event, rules):
            return [
                Button(
                    ctx.t("Cancel the ticket for {event}", event=event.title),
                    "events.cancel",
                    str(ticket.id),
                )
            ]
    return []


@router.action("deleteme.confirm")
async def confirm_delete(ctx: Ctx, arg: str) -> None:
    await identity.delete_citizen(ctx.uow, ctx.citizen_id, ctx.now)
    ctx.forgotten = True
    ctx.replies.clear()
    ctx.say(
        ctx.t(
            "Your data has been deleted. Thank you for using Stadtlotse. If you write "
            "again, you start as a new user."
        )
    )
