"""Voucher campaigns: marketing creates, sends, follows and stops them (/campaigns); residents
claim a voucher with the button under the campaign message. Opting in is in flows/news.py."""

from __future__ import annotations

from datetime import date
from typing import Any

from flows import fields
from flows.context import Ctx
from flows.forms import Choice, Field, FieldProblem, Form, register_form
from flows.menu import back_to_menu
from flows.registry import Router
from flows.types import Button
from services import codes, i18n
from services.campaigns import claims as campaign_claims
from services.campaigns import sending as campaigns
from services.campaigns.sending import DRAFT, SENT, STOPPED, Campaign
from services.errors import DomainError, InvalidInput
from services.i18n import N_
from services.identity.profile import parse_date
from services.money import parse_amount
from services.numbers import id_or_zero, parse_id

router = Router("campaigns")
router.menu(N_("Voucher campaigns"), "campaign.list", order=870, roles=["marketing"])

MARKETING = ["marketing"]
FORM = "campaign"
STATUS_WORDS = {
    DRAFT: N_("draft, not sent"),
    SENT: N_("sent"),
    STOPPED: N_("stopped"),
    campaign_claims.EXPIRED: N_("ended"),
    campaign_claims.SOLD_OUT: N_("all claimed"),
}


# ---------------------------------------------------------------- claiming (residents)
@router.action(campaigns.CLAIM_ACTION)
async def claim(ctx: Ctx, arg: str) -> None:
    """A button on the campaign message: checks everything itself (it may be old)."""
    campaign_id = parse_id(arg)
    if campaign_id is None:
        raise InvalidInput("This campaign is unknown.")
    try:
        voucher = await campaign_claims.claim(
            ctx.uow, ctx.city, campaign_id, ctx.citizen_id, now=ctx.now
        )
    except DomainError as problem:
        # this one cannot be claimed: the others the resident received still can
        others = await campaign_claims.open_offers(ctx.uow, ctx.citizen_id, ctx.now)
        if not others:
            raise
        ctx.say(
            ctx.t(problem.message, **problem.params),
            [*_offer_buttons(ctx, others), back_to_menu(ctx)],
        )
        return
    buttons = [
        ctx.button("Show voucher", "voucher.show", str(voucher.id)),
        ctx.button("Wallet", "wallet.show"),
    ]
    others = await campaign_claims.open_offers(ctx.uow, ctx.citizen_id, ctx.now)
    lines = [
        ctx.t(
            "Here you go: a city voucher worth {value} is in your wallet, valid until {until}. "
            "Code: {code}. Show it at any shop that accepts the city voucher.",
            value=ctx.money(voucher.value_cents),
            until=ctx.date(voucher.valid_until),
            code=codes.display(voucher.code),
        )
    ]
    if others:
        lines.append(ctx.t("You can still claim from these offers as well:"))
    ctx.say(
        "\n".join(lines),
        [*buttons, *_offer_buttons(ctx, others), back_to_menu(ctx)],
        private=True,
    )


def _offer_buttons(ctx: Ctx, offers: list[Campaign]) -> list[Button]:
    return [
        Button(
            ctx.t("Claim: {name} ({value})", name=c.name, value=ctx.money(c.value_cents)),
            campaigns.CLAIM_ACTION,
            str(c.id),
        )
        for c in offers[:8]
    ]


@router.command("offers", "angebote", help=N_("voucher offers you can still claim"))
async def offers_command(ctx: Ctx, args: str) -> None:
    offers = await campaign_claims.open_offers(ctx.uow, ctx.citizen_id, ctx.now)
    if not offers:
        ctx.say(ctx.t("There is no voucher offer for you to claim right now."), [back_to_menu(ctx)])
        return
    lines = [ctx.t("Voucher offers you can claim:")]
    for offer in offers:
        lines.append(
            ctx.t(
                "• {name}: {value}, until {day} ({left} left)",
                name=offer.name,
                value=ctx.money(offer.value_cents),
                day=ctx.date(campaigns.last_claim_day(offer, ctx.city)),
                left=offer.left,
            )
        )
    ctx.say("\n".join(lines), [*_offer_buttons(ctx, offers), back_to_menu(ctx)])


# ---------------------------------------------------------------- marketing: create
def _value(ctx: Ctx, text: str) -> int:
    return campaigns.check_value(parse_amount(text), campaigns.rules_of(ctx.city))


def _total(ctx: Ctx, text: str) -> int:
    number = fields.integer(1, campaigns.rules_of(ctx.city).max_vouchers)(ctx, text)
    assert isinstance(number, int)
    return number


def _last_day(ctx: Ctx, text: str) -> str:
    day = campaigns.check_last_day(
        parse_date(text, ctx.today(), past=False), ctx.today(), campaigns.rules_of(ctx.city)
    )
    return day.isoformat()


def _check(ctx: Ctx, answers: dict[str, Any]) -> None:
    try:
        campaigns.check_budget(
            int(answers["value"]), int(answers["total"]), campaigns.rules_of(ctx.city)
        )
    except InvalidInput as problem:
        raise FieldProblem("total", problem.message, **problem.params) from None


def _draft(answers: dict[str, Any]) -> campaigns.CampaignDraft:
    return campaigns.CampaignDraft(
        name=str(answers["name"]),
        text_de=str(answers["text_de"]),
        text_en=str(answers.get("text_en") or ""),
        value_cents=int(answers["value"]),
        total=int(answers["total"]),
        last_day=date.fromisoformat(str(answers["last_day"])),
        residents_only=answers.get("residents_only") == "yes",
    )


def _notes(ctx: Ctx, answers: dict[str, Any]) -> list[str]:
    # the recipient count needs the database: the summary shows it after the form (submit)
    value, total = int(answers.get("value") or 0), int(answers.get("total") or 0)
    return [
        ctx.tn(
            "Budget: {budget} ({n} voucher of {value}).",
            "Budget: {budget} ({n} vouchers of {value}).",
            total,
            budget=ctx.money(value * total),
            value=ctx.money(value),
        ),
        ctx.t("Nothing is sent yet: you see the number of recipients and confirm first."),
    ]


async def _submit(ctx: Ctx, answers: dict[str, Any]) -> None:
    campaign = await campaigns.create(
        ctx.uow, ctx.city, ctx.citizen_id, _draft(answers), now=ctx.now
    )
    await ask_send(ctx, str(campaign.id))


def _show_date(ctx: Ctx, value: Any) -> str:
    return ctx.date(date.fromisoformat(str(value)))


register_form(
    Form(
        key=FORM,
        title=N_("New voucher campaign"),
        roles=frozenset(MARKETING),
        intro=N_(
            "A voucher campaign goes to every resident who signed up for news and offers. "
            "Each can claim one voucher, first come, first served."
        ),
        fields=[
            Field(
                "name",
                N_(
                    "What is the campaign called? Residents see it as the title, e.g. Winterzauber."
                ),
                parse=fields.short_text,
                label=N_("Name"),
            ),
            Field(
                "text_de",
                N_("Please write the message in German."),
                parse=fields.text,
                label=N_("Message (German)"),
            ),
            Field(
                "text_en",
                N_(
                    "The message in English (optional). Residents who use English get it; "
                    "without it they get the German text."
                ),
                parse=fields.text,
                optional=True,
                label=N_("Message (English)"),
            ),
            Field(
                "value",
                N_("How much is each voucher worth? For example 10 €."),
                parse=_value,
                show=lambda ctx, v: ctx.money(int(v)),
                label=N_("Value of a voucher"),
            ),
            Field(
                "total",
                N_("How many vouchers are there? First come, first served."),
                parse=_total,
                label=N_("Number of vouchers"),
            ),
            Field(
                "last_day",
                N_("Until which day can residents claim a voucher? For example 31.12.2026."),
                parse=_last_day,
                show=_show_date,
                label=N_("Claim until"),
            ),
            Field(
                "residents_only",
                N_(
                    "Only for residents of the town (address checked in person at the "
                    "Bürgerbüro), or for everyone who signed up?"
                ),
                kind="choice",
                choices=[
                    Choice("yes", N_("Only residents of the town")),
                    Choice("no", N_("Everyone who signed up")),
                ],
                label=N_("Who"),
            ),
        ],
        submit=_submit,
        check=_check,
        notes=_notes,
    )
)


# ---------------------------------------------------------------- marketing: list, send, stop
@router.command("campaigns", "kampagnen", roles=MARKETING, help=N_("voucher campaigns (marketing)"))
async def campaigns_command(ctx: Ctx, args: str) -> None:
    await show_list(ctx, "")


def _status(ctx: Ctx, campaign: Campaign) -> str:
    return ctx.t(STATUS_WORDS[campaign_claims.state(campaign, ctx.now)])


def _stats_text(ctx: Ctx, item: campaign_claims.Stats) -> str:
    campaign = item.campaign
    lines = [
        ctx.t("{name} – {status}", name=campaign.name, status=_status(ctx, campaign)),
        ctx.t(
            "Sent: {sent} · delivered: {delivered} · not deliverable: {failed}",
            sent=item.sent,
            delivered=item.delivered,
            failed=item.failed,
        ),
        ctx.t(
            "Claimed: {claimed} of {total} vouchers ({claimed_value}) · redeemed: {redeemed}",
            claimed=item.claimed,
            total=campaign.total,
            claimed_value=ctx.money(item.claimed_cents),
            redeemed=ctx.money(item.redeemed_cents),
        ),
        ctx.t(
            "Budget: {budget} · remaining: {remaining} · claims until {day}",
            budget=ctx.money(item.budget_cents),
            remaining=ctx.money(item.remaining_cents),
            day=ctx.date(campaigns.last_claim_day(campaign, ctx.city)),
        ),
    ]
    if item.withdrawn:
        lines.insert(
            2,
            ctx.t("Not sent (stopped or unsubscribed before delivery): {n}", n=item.withdrawn),
        )
    return "\n".join(lines)


@router.action("campaign.list", roles=MARKETING)
async def show_list(ctx: Ctx, arg: str) -> None:
    found = await campaigns.latest(ctx.uow)
    buttons = [ctx.button("New campaign", "form.open", FORM)]
    if not found:
        ctx.say(ctx.t("No voucher campaigns yet."), [*buttons, back_to_menu(ctx)])
        return
    items = await campaign_claims.stats(ctx.uow, found)
    blocks = [ctx.t("Voucher campaigns (newest first):")]
    blocks += [_stats_text(ctx, item) for item in items]
    buttons = [Button(c.name, "campaign.show", str(c.id)) for c in found] + buttons
    ctx.say("\n\n".join(blocks), [*buttons, back_to_menu(ctx)])


async def _campaign(ctx: Ctx, arg: str) -> Campaign:
    return await campaigns.get(ctx.uow, id_or_zero(arg))


@router.action("campaign.show", roles=MARKETING)
async def show_campaign(ctx: Ctx, arg: str) -> None:
    campaign = await _campaign(ctx, arg)
    [item] = await campaign_claims.stats(ctx.uow, [campaign])
    lines = [_stats_text(ctx, item), "", i18n.content(ctx.lang, campaign.text_de)]
    buttons = []
    if campaign.status == DRAFT:
        buttons.append(ctx.button("Send to residents", "campaign.send", arg))
    if campaign.status in (DRAFT, SENT):
        buttons.append(ctx.button("Stop the campaign", "campaign.stop", arg))
    buttons += [ctx.button("All campaigns", "campaign.list"), back_to_menu(ctx)]
    ctx.say("\n".join(lines), buttons)


@router.action("campaign.send", roles=MARKETING)
async def ask_send(ctx: Ctx, arg: str) -> None:
    campaign = await _campaign(ctx, arg)
    if campaign.status != DRAFT:
        await show_campaign(ctx, arg)
        return
    count = await campaigns.count_recipients(ctx.uow, ctx.city, campaign.residents_only)
    lines = [
        ctx.t(
            "Campaign {name}: {total} vouchers of {value}, claims until {day}.",
            name=campaign.name,
            total=campaign.total,
            value=ctx.money(campaign.value_cents),
            day=ctx.date(campaigns.last_claim_day(campaign, ctx.city)),
        ),
        ctx.tn(
            "{n} resident who signed up would receive it now.",
            "{n} residents who signed up would receive it now.",
            count,
        ),
        ctx.t("Send it now? This cannot be undone."),
    ]
    if count == 0:
        ctx.say(
            "\n".join(lines[:2]),
            [ctx.button("All campaigns", "campaign.list"), back_to_menu(ctx)],
        )
        return
    ctx.say(
        "\n".join(lines),
        [
            ctx.button("Yes, send now", "campaign.send_confirm", arg),
            ctx.button("Not now", "campaign.list"),
        ],
    )


@router.action("campaign.send_confirm", roles=MARKETING)
async def send(ctx: Ctx, arg: str) -> None:
    campaign = await _campaign(ctx, arg)
    assert campaign.id is not None
    written = await campaigns.send(ctx.uow, ctx.city, campaign.id, ctx.citizen_id, now=ctx.now)
    ctx.say(
        ctx.tn(
            "Sent: {n} message is on its way. Follow claims and redemptions under /campaigns.",
            "Sent: {n} messages are on their way; delivering them all takes about {minutes} "
            "min. Follow claims and redemptions under /campaigns.",
            written,
            minutes=campaigns.sending_minutes(written, ctx.city),
        ),
        [ctx.button("All campaigns", "campaign.list"), back_to_menu(ctx)],
    )


@router.action("campaign.stop", roles=MARKETING)
async def ask_stop(ctx: Ctx, arg: str) -> None:
    campaign = await _campaign(ctx, arg)
    ctx.say(
        ctx.t(
            "Stop the campaign {name}? Nobody can claim a voucher any more; vouchers already "
            "claimed stay valid.",
            name=campaign.name,
        ),
        [
            ctx.button("Yes, stop it", "campaign.stop_confirm", arg),
            ctx.button("No", "campaign.show", arg),
        ],
    )


@router.action("campaign.stop_confirm", roles=MARKETING)
async def stop(ctx: Ctx, arg: str) -> None:
    campaign = await _campaign(ctx, arg)
    assert campaign.id is not None
    await campaigns.stop(ctx.uow, campaign.id, ctx.citizen_id, now=ctx.now)
    ctx.say(
        ctx.t("The campaign {name} is stopped.", name=campaign.name),
        [ctx.button("All campaigns", "campaign.list"), back_to_menu(ctx)],
    )
