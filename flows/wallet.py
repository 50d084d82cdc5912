"""The wallet: everything a resident holds – vouchers, tickets, transit pass, keys, pickup
codes – from every capability's source, each with its details, code and QR code."""

from __future__ import annotations

from flows.context import Ctx
from flows.menu import back_to_menu
from flows.registry import Router
from flows.types import Button, Media
from services import codes, qr
from services.i18n import N_, NC_
from services.payments import lifecycle as payments
from services.wallet import sources as wallet
from services.wallet.sources import WalletEntry

router = Router("wallet")
router.menu(
    N_("Wallet"),
    "wallet.show",
    order=10,
    keywords=["wallet", "brieftasche", "geldbörse", "guthaben", "balance"],
)

MAX_BUTTONS = 30
KIND_WORDS = {
    "voucher": N_("Voucher"),
    "ticket": N_("Ticket"),
    "transit_pass": N_("Transit pass"),
    "key": N_("Digital key"),
    "pickup": N_("Pickup code"),
}
STATUS_WORDS = {
    "valid": N_("valid"),
    "pending": N_("awaiting payment"),
    "upcoming": N_("paid, not yet valid"),
    "gift": N_("reserved as a gift"),
    "used": N_("used up"),
    "expired": N_("expired"),
    "refunded": N_("refunded"),
    "cancelled": NC_("payment", "cancelled"),
    "checked_in": N_("checked in"),
    "picked_up": N_("picked up"),
}
ACTIVE_STATES = {"valid", "upcoming", "pending", "gift", "ready"}  # listed first
USABLE_STATES = {"valid", "upcoming", "ready"}  # "active" in the header: not awaiting payment


def deep_link(ctx: Ctx, payload: str) -> str:
    """What a QR code carries: a Telegram deep link (https://t.me/<bot>?start=...) when the
    Telegram channel runs, else the command to type in any channel."""
    return ctx.env.links.start(payload)


def status_word(ctx: Ctx, status: str) -> str:
    return ctx.t(STATUS_WORDS[status]) if status in STATUS_WORDS else status


def entry_label(ctx: Ctx, entry: WalletEntry) -> str:
    parts = [ctx.t(entry.title, **dict(entry.title_params))]
    if entry.balance_cents is not None and entry.status in ACTIVE_STATES | {"used"}:
        parts.append(ctx.money(entry.balance_cents))
    if entry.status == "upcoming" and entry.valid_from is not None:
        parts.append(ctx.t("paid, valid from {date}", date=ctx.date(entry.valid_from)))
    elif entry.status != "valid":
        parts.append(status_word(ctx, entry.status))
    elif entry.valid_until is not None:
        parts.append(ctx.t("until {date}", date=ctx.date(entry.valid_until)))
    return " · ".join(parts)


def qr_media(name: str, payload: str) -> Media:
    return Media("image", f"{name}.png", "image/png", qr.png(payload))


async def sorted_entries(ctx: Ctx) -> list[WalletEntry]:
    found = await wallet.entries(ctx.uow, ctx.city, ctx.citizen_id, ctx.now)
    return sorted(
        found,
        key=lambda e: (
            e.status not in ACTIVE_STATES,
            -(e.sort_at.timestamp() if e.sort_at else 0),
        ),
    )


@router.command("wallet", "gutscheine", help=N_("your vouchers, tickets and passes"))
async def wallet_command(ctx: Ctx, args: str) -> None:
    await show(ctx, "")


@router.action("wallet.show")
async def show(ctx: Ctx, arg: str) -> None:
    await payments.expire_due(ctx.uow, ctx.env, ctx.now, citizen_id=ctx.citizen_id)
    entries = await sorted_entries(ctx)
    extra = [
        ctx.button("Buy a voucher", "voucher.buy"),
        ctx.button("Claim a gift", "gift.enter"),
        back_to_menu(ctx),
    ]
    if not entries:
        ctx.say(
            ctx.t(
                "Your wallet is empty. City vouchers, tickets and passes you get will appear here."
            ),
            extra,
        )
        return
    active = sum(1 for e in entries if e.status in USABLE_STATES)
    lines = [
        ctx.tn(
            "Your wallet holds {n} entry ({active} active). Choose one for its details and code:",
            "Your wallet holds {n} entries ({active} active). Choose one for its details and code:",
            len(entries),
            active=active,
        )
    ]
    buttons: list[Button] = []
    for entry in entries[:MAX_BUTTONS]:
        label = entry_label(ctx, entry)
        if entry.action:
            buttons.append(Button(label, entry.action, entry.arg))
        else:
            buttons.append(Button(label, "wallet.entry", f"{entry.kind}:{entry.code}"))
    if len(entries) > MAX_BUTTONS:
        lines.append(
            ctx.t(
                "{hidden} older entries (used or expired) are not shown.",
                hidden=len(entries) - MAX_BUTTONS,
            )
        )
    ctx.say("\n".join(lines), buttons + extra, private=True)


@router.action("wallet.entry")
async def entry_details(ctx: Ctx, arg: str) -> None:
    """Details of an entry whose capability has no page of its own."""
    kind, _sep, code = arg.partition(":")
    found = next((e for e in await sorted_entries(ctx) if e.kind == kind and e.code == code), None)
    if found is None:
        ctx.say(ctx.t("This entry is no longer in your wallet."))
        await show(ctx, "")
        return
    lines = [
        ctx.t(KIND_WORDS.get(found.kind, found.kind)) + ": " + entry_label(ctx, found),
        ctx.t("Status: {status}", status=status_word(ctx, found.status)),
    ]
    if found.valid_until is not None:
        lines.append(ctx.t("Valid until {date}", date=ctx.date(found.valid_until)))
    lines.append(ctx.t("Code: {code}", code=codes.display(found.code)))
    ctx.say(
        "\n".join(lines),
        [ctx.button("Wallet", "wallet.show"), back_to_menu(ctx)],
        media=qr_media(f"{found.kind}-{found.code}", found.code),
        private=True,
    )
