"""Identity checked in person and the resident card (Ahaus-Karte).

Resident: /ausweis (or "Identität bestätigen") fills in what is missing, then shows a one-time
code and its QR code for the Bürgerbüro counter. Staff of the Bürgerbüro: /verify CODE (or the
QR code's deep link) shows the details to compare with the identity card, lets them correct
typos and confirm; /unverify ID REASON takes a verification back."""

from __future__ import annotations

from datetime import datetime

from flows import forms as form_flows
from flows import identity as profile_flows
from flows.context import Ctx
from flows.menu import back_to_menu
from flows.registry import Router
from flows.types import Button
from flows.wallet import deep_link, qr_media
from services import codes, notify
from services.city import City
from services.errors import InvalidInput
from services.i18n import N_
from services.identity import accounts as identity
from services.identity import privacy
from services.identity.profile import parse_date
from services.numbers import parse_id
from services.trust import card as cards
from services.trust import checks
from services.trust import forms as trust_forms
from services.uow import UnitOfWork
from services.wallet import sources as wallet
from services.wallet.sources import WalletEntry

router = Router("trust")
router.add_keywords(
    "trust.start",
    ["identität bestätigen", "verify identity", "ausweis", "identität", "identity check"],
)
router.add_keywords("trust.card", ["ahaus-karte", "ahauskarte", "resident card", "bürgerkarte"])

DETAIL_LABELS = {
    "first_name": N_("First name"),
    "last_name": N_("Last name"),
    "birth_date": N_("Date of birth"),
    "street": N_("Street and number"),
    "postal_code": N_("Postal code"),
    "town": N_("Town"),
}
DETAIL_PROMPTS = {
    "first_name": N_("Please enter your first name as on your identity card."),
    "last_name": N_("Please enter your last name as on your identity card."),
    "birth_date": N_("Please enter your date of birth, for example 14.03.1985."),
    "street": N_("Please enter street and house number, for example Rathausplatz 1."),
    "postal_code": N_("Please enter your postal code, for example 48683."),
    "town": N_("Please enter your town, for example Ahaus."),
}
NUMBER_DETAILS = frozenset({"postal_code"})
CARD_TITLE = N_("{town} card")


def detail_lines(ctx: Ctx, citizen: identity.Citizen) -> list[str]:
    lines = []
    for name, label in DETAIL_LABELS.items():
        value = getattr(citizen, name)
        if name == "birth_date" and value is not None:
            value = ctx.date(value)
        lines.append(f"{ctx.t(label)}: {value or ctx.t('not given')}")
    return lines


# ---------------------------------------------------------------- the resident
@router.command("ausweis", "identity", help=N_("have your identity checked at the Bürgerbüro"))
async def ausweis_command(ctx: Ctx, args: str) -> None:
    await start(ctx, "")


@router.action("trust.start")
async def start(ctx: Ctx, arg: str) -> None:
    level = await checks.level_of(ctx.uow, ctx.citizen)
    if level.check is not None and arg != "again":
        lines = [
            ctx.t(
                "Your identity was checked in person on {date} (level: verified).",
                date=ctx.date(level.check.verified_at.astimezone(ctx.city.tz).date()),
            )
        ]
        buttons = [ctx.button("Check again", "trust.start", "again")]
        if await cards.entitled(ctx.uow, ctx.city, ctx.citizen) is not None:
            buttons.insert(0, ctx.button("Show my card", "trust.card"))
        ctx.say("\n".join(lines), [*buttons, back_to_menu(ctx)], private=True)
        return
    await next_detail(ctx)


async def next_detail(ctx: Ctx) -> None:
    missing = [name for name in DETAIL_LABELS if not getattr(ctx.citizen, name)]
    if missing:
        name = missing[0]
        ctx.ask(
            "trust.detail",
            ctx.t(DETAIL_PROMPTS[name]),
            [ctx.button("Cancel", "menu.main")],
            field=name,
        )
        return
    await give_code(ctx)


@router.step("trust.detail", free_text=lambda ctx: ctx.data.get("field") in NUMBER_DETAILS)
async def detail_entered(ctx: Ctx) -> None:
    name = str(ctx.data.get("field", ""))
    try:
        if ctx.inbound.kind != "text":
            raise InvalidInput("Please type your answer as text.")
        if name == "birth_date":
            ctx.citizen.birth_date = parse_date(
                ctx.inbound.text, ctx.today(), past=True, example="14.03.1985"
            )
        else:
            identity.update_profile(ctx.citizen, name, ctx.inbound.text)
    except InvalidInput as error:
        ctx.say(ctx.t(error.message, **error.params))
        ctx.ask("trust.detail", ctx.t(DETAIL_PROMPTS.get(name, "")), field=name)
        return
    ctx.done()
    await next_detail(ctx)


async def give_code(ctx: Ctx) -> None:
    code = await checks.new_code(ctx.uow, ctx.citizen, ctx.now)
    shown = codes.display(code.code)
    text = "\n".join(
        [
            ctx.t(
                "Your verification code is {code}. It works once, until {time} (15 minutes).",
                code=shown,
                time=code.expires_at.astimezone(ctx.city.tz).strftime("%H:%M"),
            ),
            ctx.t(
                "Show it with your identity card at the Bürgerbüro counter. Staff compare these "
                "details and correct typos:"
            ),
            *detail_lines(ctx, ctx.citizen),
            ctx.t("The number of your identity card is not stored."),
        ]
    )
    ctx.say(
        text,
        [ctx.button("New code", "trust.start", "again"), back_to_menu(ctx)],
        media=qr_media("ausweis", deep_link(ctx, f"verify-{code.code}")),
        private=True,
    )


# ---------------------------------------------------------------- at the counter
@router.command("verify", "pruefen", roles=["staff"], help=N_("staff: check a resident's identity"))
async def verify_command(ctx: Ctx, args: str) -> None:
    if not args.strip():
        ctx.ask(
            "trust.code",
            ctx.t("Please type the resident's verification code."),
            [ctx.button("Cancel", "menu.main")],
        )
        return
    await show_check(ctx, args)


@router.step("trust.code", free_text=False)
async def code_typed(ctx: Ctx) -> None:
    ctx.done()
    await show_check(ctx, ctx.inbound.text)


@router.deeplink("verify")
async def verify_link(ctx: Ctx, rest: str) -> None:
    await show_check(ctx, rest)


@router.action("trust.show", roles=["staff"])
async def show_check(ctx: Ctx, code_text: str) -> None:
    code, citizen = await checks.open_code(ctx.uow, ctx.city, ctx.roles, code_text, ctx.now)
    lines = [
        ctx.t("Identity check for resident ID {id}:", id=citizen.id),
        *detail_lines(ctx, citizen),
        ctx.t(
            "Compare with the identity card, correct typos, then confirm. "
            "Do not note the card number."
        ),
    ]
    buttons = [ctx.button("Confirm", "trust.confirm", code.code)]
    buttons += [
        Button(ctx.t("Correct: {what}", what=ctx.t(label)), "trust.fix", f"{code.code}:{name}")
        for name, label in DETAIL_LABELS.items()
    ]
    buttons.append(ctx.button("Cancel", "menu.main"))
    ctx.say("\n".join(lines), buttons, private=True)


@router.action("trust.fix", roles=["staff"])
async def fix(ctx: Ctx, arg: str) -> None:
    code_text, _sep, name = arg.partition(":")
    await checks.open_code(ctx.uow, ctx.city, ctx.roles, code_text, ctx.now)
    if name not in DETAIL_LABELS:
        await show_check(ctx, code_text)
        return
    ctx.ask(
        "trust.fixed",
        ctx.t("Please type the correct value: {what}", what=ctx.t(DETAIL_LABELS[name])),
        [ctx.button("Cancel", "trust.show", code_text)],
        code=code_text,
        field=name,
    )


@router.step("trust.fixed", free_text=lambda ctx: ctx.data.get("field") in NUMBER_DETAILS)
async def fixed(ctx: Ctx) -> None:
    code_text, name = str(ctx.data.get("code", "")), str(ctx.data.get("field", ""))
    _code, citizen = await checks.open_code(ctx.uow, ctx.city, ctx.roles, code_text, ctx.now)
    try:
        checks.correct(citizen, name, ctx.inbound.text, ctx.today())
    except InvalidInput as error:
        ctx.say(ctx.t(error.message, **error.params))
        await fix(ctx, f"{code_text}:{name}")
        return
    ctx.done()
    await show_check(ctx, code_text)


@router.action("trust.confirm", roles=["staff"])
async def confirm(ctx: Ctx, code_text: str) -> None:
    check = await checks.confirm(ctx.uow, ctx.city, ctx.roles, ctx.citizen_id, code_text, ctx.now)
    resident = await identity.citizen(ctx.uow, check.citizen_id)
    assert resident is not None
    card = await cards.ensure(ctx.uow, ctx.city, resident, ctx.now)
    name = f"{check.first_name} {check.last_name}"
    ctx.say(
        ctx.t("✅ Confirmed: {name} is verified in person.", name=name)
        + ("\n" + ctx.t("The resident card was added to their wallet.") if card else ""),
        [back_to_menu(ctx)],
    )
    if card is not None:
        message = N_(
            "✅ Your identity was checked in person at the Bürgerbüro. Your {town} card is in "
            "your wallet."
        )
    else:
        message = N_("✅ Your identity was checked in person at the Bürgerbüro.")
    notify.notify_citizen(
        ctx.uow,
        check.citizen_id,
        message,
        {"town": ctx.city.name},
        now=ctx.now,
        buttons=[notify.button(N_("Show my card"), "trust.card", "")] if card else [],
    )


@router.command(
    "unverify", roles=["staff"], help=N_("staff: take back a resident's identity check")
)
async def unverify_command(ctx: Ctx, args: str) -> None:
    who, _sep, reason = args.strip().partition(" ")
    resident = parse_id(who)
    if resident is None:
        ctx.say(ctx.t("Please write: /unverify RESIDENT-ID REASON"))
        return
    if not reason.strip():
        ctx.ask(
            "trust.reason",
            ctx.t("Why is the identity check of resident {id} taken back?", id=resident),
            [ctx.button("Cancel", "menu.main")],
            resident=resident,
        )
        return
    await unverify(ctx, resident, reason)


@router.step("trust.reason")
async def reason_typed(ctx: Ctx) -> None:
    resident = int(ctx.data.get("resident", 0))
    ctx.done()
    await unverify(ctx, resident, ctx.inbound.text)


async def unverify(ctx: Ctx, resident: int, reason: str) -> None:
    ended = await checks.revoke(
        ctx.uow, ctx.city, ctx.roles, ctx.citizen_id, resident, reason, ctx.now
    )
    if not ended:
        ctx.say(ctx.t("Resident {id} has no identity check in force.", id=resident))
        return
    await cards.revoke_all(ctx.uow, resident, "identity check revoked", ctx.now)
    ctx.say(ctx.t("Done: the identity check of resident {id} was taken back.", id=resident))
    notify.notify_citizen(
        ctx.uow,
        resident,
        N_(
            "The Bürgerbüro took back the check of your identity ({reason}). Your resident card "
            "is no longer valid. You can have it checked again at the counter (/ausweis)."
        ),
        {"reason": reason.strip()[:200]},
        now=ctx.now,
    )


# ---------------------------------------------------------------- the card
@router.action("trust.card")
async def show_card(ctx: Ctx, arg: str) -> None:
    card = await cards.ensure(ctx.uow, ctx.city, ctx.citizen, ctx.now)
    if card is None:
        ctx.say(
            ctx.t(
                "The {town} card is for residents of {town} whose identity was checked in "
                "person at the Bürgerbüro. Ask for a code with /ausweis and visit the counter.",
                town=ctx.city.name,
            ),
            [ctx.button("Verify identity", "trust.start"), back_to_menu(ctx)],
        )
        return
    check = await cards.entitled(ctx.uow, ctx.city, ctx.citizen)
    assert check is not None
    link = ctx.env.links.public(cards.check_path(card.token))
    lines = [
        ctx.t(CARD_TITLE, town=ctx.city.name),
        f"{check.first_name} {check.last_name[:1]}.",
        ctx.t(
            "Resident since {date}",
            date=ctx.date(check.resident_since or ctx.today()),
        ),
        ctx.t(
            "Valid until {date}",
            date=ctx.date(card.expires_at.astimezone(ctx.city.tz).date()),
        ),
        ctx.t("Anyone can check this card with the QR code or at this link:"),
        link,
    ]
    ctx.say(
        "\n".join(lines),
        [ctx.button("Wallet", "wallet.show"), back_to_menu(ctx)],
        media=qr_media("ahaus-karte", link),
        private=True,
    )


async def wallet_entries(
    uow: UnitOfWork, city: City, citizen_id: int, now: datetime
) -> list[WalletEntry]:
    citizen = await identity.citizen(uow, citizen_id)
    if citizen is None or await cards.entitled(uow, city, citizen) is None:
        return []
    held = await cards.current(uow, citizen_id, now)
    until = held.expires_at.astimezone(city.tz).date() if held is not None else None
    return [
        WalletEntry(
            kind="card",
            title=CARD_TITLE,
            code=held.token_id if held is not None else "",
            status="valid",
            valid_until=until,
            action="trust.card",
            title_params=(("town", city.name),),
            sort_at=now,
        )
    ]


wallet.register_source("resident_card", wallet_entries)


async def no_holdings(
    uow: UnitOfWork, city: City, citizen_id: int, now: datetime
) -> list[privacy.Holding]:
    return []


async def close_card(uow: UnitOfWork, citizen_id: int, now: datetime) -> int:
    """Before /deleteme erases the resident: their card joins the revocation list."""
    return await cards.revoke_all(uow, citizen_id, "deleted", now)


privacy.register_holdings("resident_card", no_holdings, close_card)


# ---------------------------------------------------------------- profile changes
@profile_flows.profile_entry
async def profile_line(ctx: Ctx) -> tuple[str, Button]:
    level = await checks.level_of(ctx.uow, ctx.citizen)
    if level.check is not None:
        line = ctx.t(
            "Identity: checked in person on {date}",
            date=ctx.date(level.check.verified_at.astimezone(ctx.city.tz).date()),
        )
    else:
        line = ctx.t("Identity: not checked in person")
    return line, ctx.button("Verify identity", "trust.start")


@profile_flows.on_profile_change
async def profile_changed(ctx: Ctx, field: str) -> None:
    if field not in checks.CHECKED_FIELDS:
        return
    if await checks.details_changed(ctx.uow, ctx.citizen, ctx.now):
        revoked = await cards.revoke_all(ctx.uow, ctx.citizen_id, "details changed", ctx.now)
        text = ctx.t(
            "Your name or address changed, so the check of your identity no longer applies."
        )
        if revoked:
            text += "\n" + ctx.t("Your resident card is no longer valid.")
        text += "\n" + ctx.t("You can have it checked again at the Bürgerbüro (/ausweis).")
        ctx.say(text)


# ---------------------------------------------------------------- forms that need a level
@form_flows.summary_note
async def form_note(ctx: Ctx, form: str) -> list[str]:
    if not await trust_forms.missing_level(ctx.uow, ctx.city, ctx.citizen, form):
        return []
    return [
        ctx.t(
            "🪪 This application needs your identity checked in person at the Bürgerbüro. You "
            'can send it now: it is marked "identity check pending" until you have shown your '
            "identity card there (ask for a code with /ausweis)."
        )
    ]


async def identity_lines(ctx: Ctx, resident: identity.Citizen, form: str) -> list[str]:
    """For staff looking at a case: the resident's level where the form needs one."""
    required = trust_forms.required_level(ctx.city, form)
    if not required:
        return []
    level = await checks.level_of(ctx.uow, resident)
    if level.check is not None:
        return [
            ctx.t(
                "Identity: checked in person on {date}",
                date=ctx.date(level.check.verified_at.astimezone(ctx.city.tz).date()),
            )
        ]
    return [
        ctx.t("⚠️ Identity check pending: this application needs an identity checked in person.")
    ]
