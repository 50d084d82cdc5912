"""Answers before any form starts: what a form costs, what to bring, when and where an office is
open, how the auction works, what to do after a move, the Sozialticket, lost property. The facts
come from the city configuration (services/info.py and the forms' own sections); each answer
offers the next step."""

from __future__ import annotations

import re

from flows.auction import rule_sentence
from flows.context import Ctx
from flows.forms import FORMS
from flows.menu import back_to_menu
from flows.registry import Router
from flows.types import Button
from services import documents, info, textmatch
from services.auction import items as auction
from services.cases import dogtax
from services.cases.rules import rules as form_rules
from services.i18n import N_

router = Router("info")

# What a form may ask to bring (services/cities/*/info.toml lists the keys per form).
BRING = {
    "id": N_("your identity card or passport"),
    "landlord": N_("the landlord's confirmation of moving in (Wohnungsgeberbestätigung)"),
    "dog_chip": N_("the dog's chip number (from the vaccination or EU pet passport)"),
    "dog_dates": N_("the dog's date of birth and the day it came to you"),
    "exemption_proof": N_("for an exemption: proof for an assistance or rescue dog"),
    "register_extract": N_("for companies: an extract from the commercial register"),
    "trade_permit": N_("for trades that need one: the permit or master craftsman's certificate"),
    "site_sketch": N_("a sketch or photo of the place and the area in m²"),
    "period_area": N_("the first and last day of the use"),
    "child_birth": N_("your child's date of birth"),
    "care_times": N_("the hours of care you need and up to three preferred daycares"),
    "benefit_proof": N_("proof of your benefit (e.g. Bürgergeld or housing benefit notice)"),
}
SPACE_PURPOSES = {
    "terrace": N_("Café terrace (tables and chairs)"),
    "scaffolding": N_("Scaffolding"),
    "container": N_("Container or skip"),
    "stand": N_("Stand or booth"),
    "removal": N_("Removal van (no-parking zone)"),
    "other": N_("Something else"),
}
DEPARTMENT_OF = {
    "dogtax": "steuern",
    "business": "ordnung",
    "space": "ordnung",
    "daycare": "kita",
    "transit": "buergerbuero",
}


def _start_button(ctx: Ctx, form: str) -> list[Button]:
    if form not in FORMS:
        return []
    return [ctx.button("Start the application", "form.open", form)]


def office_lines(ctx: Ctx, key: str) -> list[str]:
    """Name, address, opening hours and contacts of one office."""
    head = documents.letterhead(ctx.city, key, ctx.lang)
    lines = [f"{head.department} · {head.address}" if head.address else head.department]
    hours = info.office(ctx.city, key).hours(ctx.lang) or head.office_hours
    if hours:
        lines.append(ctx.t("Opening hours: {hours}", hours=hours))
    lines += head.contact
    return lines


# ---------------------------------------------------------------- fees
def fee_lines(ctx: Ctx, form: str) -> list[str]:
    if form == "dogtax":
        rates = dogtax.rules(ctx.city)
        lines = [ctx.t("Dog tax in {city} per dog and year:", city=ctx.city.name)]
        for n, cents in enumerate(rates.rates_cents, start=1):
            more = n == len(rates.rates_cents) and n > 1
            lines.append(
                ctx.t("– {n} or more dogs: {rate} each", n=n, rate=ctx.money(cents))
                if more
                else ctx.tn(
                    "– {n} dog: {rate}", "– {n} dogs: {rate} each", n, rate=ctx.money(cents)
                )
            )
        lines.append(
            ctx.t("– listed (dangerous) dogs: {rate}", rate=ctx.money(rates.dangerous_rate_cents))
        )
        if rates.exemptions:
            lines.append(ctx.t("Assistance and rescue dogs can be exempt on application."))
        return lines
    if form == "space":
        config = form_rules(ctx.city)
        lines = [ctx.t("Special use of public space costs per m² and day:")]
        for key, cents in config.space_fees.items():
            label = SPACE_PURPOSES.get(key)
            if label:
                lines.append(f"– {ctx.t(label)}: {ctx.money(cents)}")
        lines.append(ctx.t("Minimum fee: {fee}", fee=ctx.money(config.space_minimum_fee.cents)))
        return lines
    if form == "transit":
        price = form_rules(ctx.city).transit_price_cents
        return [ctx.t("The Sozialticket costs {price} a month.", price=ctx.money(price))]
    if form == "daycare":
        return [
            ctx.t(
                "Registering for a daycare place is free. Parents' contributions depend on the "
                "household income; the last {years} years before school are free.",
                years=info.rules(ctx.city).daycare_free_years,
            )
        ]
    facts = info.rules(ctx.city).forms.get(form)
    if facts is not None and facts.fee_cents is not None and form in FORMS:
        return [
            ctx.t(
                "{title}: the fee is {fee}.",
                title=ctx.t(FORMS[form].title),
                fee=ctx.money(facts.fee_cents),
            )
        ]
    return []


@router.action("info.fee")
async def show_fee(ctx: Ctx, form: str) -> None:
    if not form:
        lines = []
        for key in DEPARTMENT_OF:
            lines += fee_lines(ctx, key)
        ctx.say(
            "\n".join(lines),
            [ctx.button("Apply for something", "apply.menu"), back_to_menu(ctx)],
        )
        return
    lines = fee_lines(ctx, form) or [ctx.t("This application costs nothing.")]
    ctx.say(
        "\n".join(lines) + "\n" + ctx.t("Shall I start the application?"),
        [*_start_button(ctx, form), back_to_menu(ctx)],
    )


@router.action("info.fee_here")
async def show_fee_here(ctx: Ctx, form: str) -> None:
    """The fee of the form being filled in, asked in the middle of it (no offer to start it)."""
    if form not in FORMS:
        await show_fee(ctx, "")
        return
    ctx.say("\n".join(fee_lines(ctx, form) or [ctx.t("This application costs nothing.")]))


# ---------------------------------------------------------------- what to bring
def bring_lines(ctx: Ctx, keys: list[str]) -> list[str]:
    return [f"– {ctx.t(BRING[k])}" for k in keys if k in BRING]


@router.action("info.bring")
async def show_bring(ctx: Ctx, form: str) -> None:
    facts = info.rules(ctx.city).forms
    if not form or form not in facts:
        lines = [ctx.t("What you need for each application:")]
        for key, fact in facts.items():
            if key in FORMS:
                lines.append(ctx.t(FORMS[key].title) + ":")
                lines += bring_lines(ctx, fact.bring)
        ctx.say(
            "\n".join(lines),
            [ctx.button("Apply for something", "apply.menu"), back_to_menu(ctx)],
        )
        return
    lines = [ctx.t("For the {title} you need:", title=ctx.t(FORMS[form].title))]
    lines += bring_lines(ctx, facts[form].bring)
    lines.append(ctx.t("Here in the chat, photos or PDFs of the documents are enough."))
    lines.append(ctx.t("Shall I start the application?"))
    ctx.say("\n".join(lines), [*_start_button(ctx, form), back_to_menu(ctx)])


@router.action("info.bring_here")
async def show_bring_here(ctx: Ctx, form: str) -> None:
    """What to bring for the form being filled in, asked in the middle of it."""
    facts = info.rules(ctx.city).forms
    if form not in facts or form not in FORMS:
        await show_bring(ctx, "")
        return
    lines = [ctx.t("For the {title} you need:", title=ctx.t(FORMS[form].title))]
    lines += bring_lines(ctx, facts[form].bring)
    lines.append(ctx.t("Here in the chat, photos or PDFs of the documents are enough."))
    ctx.say("\n".join(lines))


# ---------------------------------------------------------------- offices
@router.action("info.office")
async def show_office(ctx: Ctx, key: str) -> None:
    key = key if ctx.city.department(key) else "buergerbuero"
    ctx.say(
        "\n".join(office_lines(ctx, key)),
        [ctx.button("Talk to a person", "helper.start"), back_to_menu(ctx)],
    )


# ---------------------------------------------------------------- questions without a form
@router.action("info.auction")
async def show_auction(ctx: Ctx, arg: str) -> None:
    config = auction.rules(ctx.city)
    hours = config.pickup_hours_en if ctx.lang == "en" else config.pickup_hours_de
    lines = [
        ctx.t(
            "Found items that nobody claimed within {months} months are sold in the "
            "lost-and-found auction.",
            months=config.holding_months,
        ),
        rule_sentence(ctx),
        ctx.t(
            'After "Buy" you have {minutes} minutes to pay; or leave a wish price and you get '
            "the item automatically when the price reaches it.",
            minutes=config.reservation_minutes,
        ),
        ctx.t(
            "Pick it up within {days} days at {place} ({hours}) with your pickup code.",
            days=config.pickup_days,
            place=config.pickup_place,
            hours=hours,
        ),
    ]
    ctx.say(
        "\n".join(lines),
        [ctx.button("Lost and found auction", "auction.home"), back_to_menu(ctx)],
    )


@router.action("info.moving")
async def show_moving(ctx: Ctx, arg: str) -> None:
    rules = info.rules(ctx.city)
    lines = [
        ctx.t(
            "Moved? Register your new address at the Bürgerbüro within {days} days. This "
            "cannot be done in the chat. Please bring:",
            days=rules.moving_days,
        ),
        *bring_lines(ctx, rules.moving_bring),
        "",
        *office_lines(ctx, rules.moving_office),
        "",
        ctx.t("Your address here in the chat (for forms) you can change in your profile."),
    ]
    ctx.say(
        "\n".join(lines),
        [ctx.button("My profile", "profile.show"), back_to_menu(ctx)],
    )


@router.action("info.transit")
async def show_transit(ctx: Ctx, arg: str) -> None:
    lines = [
        ctx.t(
            "With Bürgergeld, basic income support, housing benefit or asylum seekers' "
            "benefits you can get the Sozialticket (Deutschlandticket at a reduced price)."
        ),
        *fee_lines(ctx, "transit"),
        ctx.t("Timetables and normal tickets: see the bus company's app."),
        ctx.t("Shall I start the application?"),
    ]
    ctx.say("\n".join(lines), [*_start_button(ctx, "transit"), back_to_menu(ctx)])


_WORD = re.compile(r"[^\W\d_]{3,}")


def _search_words(text: str) -> list[str]:
    """The words of a lost-property message that may name the thing ('fahrrad', 'schlüssel')."""
    skip = textmatch.GERMAN_MARKERS | textmatch.ENGLISH_MARKERS | LOST_WORDS
    return [w for w in _WORD.findall(text.casefold()) if textmatch.fold(w) not in skip][:6]


LOST_WORDS = textmatch.word_set(
    "verloren vermisst vermisse verlegt gefunden gestohlen weggelaufen entlaufen fundbuero "
    "lost missing found stolen left behind property ran away heute gestern"
)


def _categories(ctx: Ctx, words: list[str]) -> list[str]:
    folded = {textmatch.fold(w) for w in words}
    keys = []
    for category in auction.rules(ctx.city).categories:
        names = {textmatch.fold(n) for n in (category.key, category.name_de, category.name_en)}
        stems = {s for n in names for s in textmatch.forms(n)}
        if any(set(textmatch.forms(w)) & stems for w in folded):
            keys.append(category.key)
    return keys


@router.action("info.lost")
async def show_lost(ctx: Ctx, arg: str) -> None:
    rules = info.rules(ctx.city)
    lines = [
        ctx.t(
            "Lost or found something? The lost property office keeps what is handed in; "
            "ask there or hand in what you found:"
        ),
        *office_lines(ctx, rules.lost_office),
    ]
    words = _search_words(arg or ctx.inbound.text)
    found = await auction.search(ctx.uow, words, _categories(ctx, words)) if words else []
    day = auction.today(ctx.city, ctx.now)
    buttons = [
        Button(
            f"{item.title} · {ctx.money(auction.price_for_day(item, day))}",
            "auction.item",
            str(item.id),
        )
        for item in found
    ]
    if found:
        lines.append(
            ctx.t(
                "Unclaimed items go to the lost-and-found auction after {months} months. "
                "These items on offer might be it:",
                months=auction.rules(ctx.city).holding_months,
            )
        )
    elif words:
        lines.append(ctx.t("Nothing like it is on offer in the lost-and-found auction."))
    ctx.say(
        "\n".join(lines),
        [*buttons, ctx.button("Lost and found auction", "auction.home"), back_to_menu(ctx)],
    )
