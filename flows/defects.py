"""Reporting a defect in the chat: "Laterne kaputt", a location, a few words, done.

The draft lives in the conversation (`ctx.data["defect"]`): category, place, photo,
description, whether the reporter wants updates. Whatever is missing is asked next, so free text
that already names the category and the street ("Schlagloch in der Wallstraße") skips those
questions. Before filing, open reports of the same category nearby are offered to follow."""

from __future__ import annotations

import re
from typing import Any

from flows.context import Ctx
from flows.menu import back_to_menu
from flows.registry import Router
from flows.types import Button
from services.defects import actions, photos, places, reports
from services.defects.config import Category, rules
from services.defects.reports import DefectEvent, DefectReport
from services.defects.states import LABELS, OPEN_STATES, QUESTION
from services.errors import InvalidInput
from services.i18n import N_

router = Router("defects")
# words that start a report; the city's categories decide which category a text means
router.menu(
    N_("Report a defect"),
    "defect.start",
    order=48,
    keywords=[
        "mangel",
        "mängel",
        "mängelmelder",
        "mangel melden",
        "schaden",
        "kaputt",
        "defekt",
        "laterne",
        "straßenlaterne",
        "straßenlampe",
        "beleuchtung",
        "schlagloch",
        "müll",
        "sperrmüll",
        "abfall",
        "verkehrsschild",
        "straßenschild",
        "schild",
        "gehweg",
        "defect",
        "defects",
        "broken",
        "streetlight",
        "streetlamp",
        "pothole",
        "litter",
        "rubbish",
        "garbage",
        "dumping",
        "fly-tipping",
        "report a defect",
        "street light",
        "street lamp",
        "traffic sign",
    ],
)
router.add_keywords("defect.mine", ["meine meldungen", "my reports"])

YES = {"ja", "j", "yes", "y", "gerne", "gern", "ok", "okay", "jawohl", "sure"}
NO = {"nein", "n", "no", "nope", "nicht", "danke nein", "no thanks", "nein danke"}


def draft(ctx: Ctx) -> dict[str, Any]:
    found = ctx.data.get("defect")
    if not isinstance(found, dict):
        found = {}
        ctx.data["defect"] = found
    return found


def classify(ctx: Ctx, text: str) -> str:
    """The category whose keyword the text contains; the longest keyword wins ("road sign"
    over "road"); "" when none or two categories fit equally."""
    words = places.fold(text)
    best: dict[str, int] = {}
    for category in rules(ctx.city).categories:
        for keyword in category.keywords:
            key = places.fold(keyword)
            ending = "" if len(key) >= 4 else r"(?!\w)"  # short words only as whole words
            if re.search(rf"(?<!\w){re.escape(key)}{ending}", words):
                best[category.code] = max(best.get(category.code, 0), len(key))
    if not best:
        return ""
    top = max(best.values())
    winners = [code for code, length in best.items() if length == top]
    return winners[0] if len(winners) == 1 else ""


def category_name(ctx: Ctx, code: str) -> str:
    found = rules(ctx.city).category(code)
    return found.name(ctx.lang) if found else code


# ---------------------------------------------------------------- starting
@router.command(
    "melden",
    "report",
    "mangel",
    help=N_("report a defect: a broken street light, a pothole, rubbish"),
)
async def report_command(ctx: Ctx, args: str) -> None:
    await start_with(ctx, "", args)


@router.action("defect.start")
async def start(ctx: Ctx, arg: str) -> None:
    said = ctx.inbound.text if ctx.inbound.kind == "text" else ""
    await start_with(ctx, arg, said)


async def start_with(ctx: Ctx, category: str, said: str) -> None:
    ctx.data["defect"] = {}
    current = draft(ctx)
    current["category"] = category if rules(ctx.city).category(category) else classify(ctx, said)
    if said:
        matches = places.geocoder(ctx.city).lookup(said)
        if len(matches) == 1 and matches[0].exact:
            current["place"] = places.place_of(ctx.city, matches[0]).as_data()
        if len(said.split()) >= 2:
            current["said"] = " ".join(said.split())[:300]
    await next_question(ctx)


async def next_question(ctx: Ctx) -> None:
    current = draft(ctx)
    if not current.get("category"):
        ask_category(ctx)
    elif not current.get("place"):
        ask_place(ctx)
    elif not current.get("checked") and await offer_nearby(ctx):
        return
    elif current.get("description") is None:
        ask_description(ctx)
    elif current.get("updates") is None:
        ask_updates(ctx)
    else:
        await file(ctx)


def ask_category(ctx: Ctx) -> None:
    buttons = [
        Button(c.name(ctx.lang), "defect.category", c.code) for c in rules(ctx.city).categories
    ]
    ctx.goto("defect.category_typed")
    ctx.say(
        ctx.t("What would you like to report?"), [*buttons, ctx.button("Cancel", "defect.cancel")]
    )


@router.action("defect.category")
async def category_chosen(ctx: Ctx, code: str) -> None:
    if rules(ctx.city).category(code) is None:
        ask_category(ctx)
        return
    draft(ctx)["category"] = code
    await next_question(ctx)


@router.step("defect.category_typed", free_text=False)
async def category_typed(ctx: Ctx) -> None:
    code = classify(ctx, ctx.inbound.text) if ctx.inbound.kind == "text" else ""
    if not code:
        ctx.say(ctx.t("Please choose one of the categories."))
        ask_category(ctx)
        return
    draft(ctx)["category"] = code
    await next_question(ctx)


@router.action("defect.cancel")
async def cancel(ctx: Ctx, arg: str) -> None:
    ctx.done()
    ctx.say(ctx.t("All right, nothing was reported."), [back_to_menu(ctx)])


# ---------------------------------------------------------------- the place
def ask_place(ctx: Ctx) -> None:
    ctx.goto("defect.place")
    ctx.say(
        ctx.t(
            "{category}: where is it? Please share the location (📎 → Location) "
            "or type the street and house number.",
            category=category_name(ctx, str(draft(ctx)["category"])),
        ),
        [ctx.button("Cancel", "defect.cancel")],
    )


@router.step("defect.place")
async def place_given(ctx: Ctx) -> None:
    inbound = ctx.inbound
    if inbound.location is not None:
        lat, lon = inbound.location
        if not places.in_town(ctx.city, lat, lon):
            ctx.say(
                ctx.t(
                    "This place is outside {town}, so we cannot take the report, sorry. "
                    "Please share a place within the town, or type the street.",
                    town=ctx.city.name,
                ),
                [ctx.button("Cancel", "defect.cancel")],
            )
            return
        await place_found(ctx, places.Place(lat, lon, "", rules(ctx.city).default_zipcode))
        return
    if inbound.attachments:
        await keep_photo(ctx)
        ctx.say(ctx.t("Thank you for the photo. Now, where is it?"))
        return
    if inbound.kind != "text":
        ask_place(ctx)
        return
    found, guesses = places.resolve(ctx.city, inbound.text)
    if found is not None:
        await place_found(ctx, found)
        return
    if guesses:
        ctx.say(
            ctx.t("Did you mean one of these streets?"),
            [
                Button(
                    f"{g.street.name} {g.number}".strip(),
                    "defect.street",
                    f"{g.street.name}|{g.number}",
                )
                for g in guesses
            ]
            + [ctx.button("Cancel", "defect.cancel")],
        )
        return
    ctx.say(
        ctx.t(
            'I do not know the street "{text}" in {town}. Please check the spelling, or '
            "share the location instead.",
            text=inbound.text[:60],
            town=ctx.city.name,
        ),
        [ctx.button("Cancel", "defect.cancel")],
    )


@router.action("defect.street")
async def street_chosen(ctx: Ctx, arg: str) -> None:
    name, _sep, number = arg.partition("|")
    found, _guesses = places.resolve(ctx.city, f"{name} {number}".strip())
    if found is None or not draft(ctx).get("category"):
        await next_question(ctx)
        return
    await place_found(ctx, found)


async def place_found(ctx: Ctx, place: places.Place) -> None:
    """A shared location is named after the nearest street (as FixMyStreet does)."""
    if not place.address:
        street = places.nearest_street(ctx.city, place.lat, place.lon)
        place = places.Place(place.lat, place.lon, street, place.zipcode)
    draft(ctx)["place"] = place.as_data()
    await next_question(ctx)


# ---------------------------------------------------------------- reported already?
async def offer_nearby(ctx: Ctx) -> bool:
    current = draft(ctx)
    place = places.Place.from_data(current["place"])
    nearby = await reports.open_nearby(
        ctx.uow, ctx.city, str(current["category"]), place.lat, place.lon
    )
    current["checked"] = True
    if not nearby:
        return False
    lines = []
    buttons = []
    for found in nearby[:3]:
        report = found.report
        lines.append(
            ctx.t(
                "This was already reported on {date}: report no. {number}, {category} at {place} "
                "({distance} m from your place), {status}.",
                date=ctx.date(report.created_at.astimezone(ctx.city.tz).date()),
                number=report.id,
                category=category_name(ctx, report.category),
                place=reports.place_text(report),
                distance=round(found.distance_m),
                status=ctx.t(LABELS.get(report.status, report.status)),
            )
        )
        buttons.append(
            Button(
                ctx.t("Follow no. {number} instead", number=report.id),
                "defect.follow",
                str(report.id),
            )
        )
    lines.append(
        ctx.t(
            "Would you like to follow it instead? You will hear when it is fixed, and your "
            "confirmation shows how many people it bothers."
        )
    )
    ctx.goto("defect.nearby")
    ctx.say("\n".join(lines), [*buttons, ctx.button("No, this is something else", "defect.new")])
    return True


@router.step("defect.nearby", free_text=False)
async def nearby_typed(ctx: Ctx) -> None:
    word = ctx.inbound.text.strip().casefold() if ctx.inbound.kind == "text" else ""
    if word in NO:
        await new_one(ctx, "")
        return
    ctx.say(ctx.t("Please choose: follow the existing report, or report something else."))
    draft(ctx)["checked"] = False
    await next_question(ctx)


@router.action("defect.follow")
async def follow(ctx: Ctx, number: str) -> None:
    report, new = await reports.follow(ctx.uow, number, ctx.citizen_id, ctx.now)
    ctx.done()
    if not new:
        text = ctx.t("You already follow report no. {number}.", number=report.id)
    else:
        text = ctx.t(
            "Thank you! You now follow report no. {number} and will hear about every change.",
            number=report.id,
        )
        if report.confirmations:
            text += " " + ctx.tn(
                "It has been confirmed once.",
                "It has been confirmed {n} times.",
                report.confirmations,
            )
    ctx.say(text, [ctx.button("Show the report", "defect.show", str(report.id)), back_to_menu(ctx)])


@router.action("defect.new")
async def new_one(ctx: Ctx, arg: str) -> None:
    draft(ctx)["checked"] = True
    await next_question(ctx)


# ---------------------------------------------------------------- description and photo
def ask_description(ctx: Ctx) -> None:
    current = draft(ctx)
    found = rules(ctx.city).category(str(current["category"]))
    hints = [a.description(ctx.lang) for a in (found.attributes if found else []) if a.chat_pattern]
    text = ctx.t("Please describe briefly what is wrong. You can also send a photo.")
    if hints:
        text += "\n" + ctx.t("Helpful if you can see it: {hint}.", hint=", ".join(hints))
    buttons = []
    if current.get("said"):
        buttons.append(ctx.button("Nothing to add", "defect.as_said"))
    ctx.goto("defect.describe")
    ctx.say(text, [*buttons, ctx.button("Cancel", "defect.cancel")])


async def keep_photo(ctx: Ctx) -> None:
    attachment = ctx.inbound.attachments[0]
    if attachment.kind != "photo":
        raise InvalidInput("Please send a photo (JPEG or PNG).")
    current = draft(ctx)
    if current.get("photo"):
        ctx.say(ctx.t("I keep one photo per report; this one replaces the first."))
    file_id, token = await photos.store(ctx.uow, attachment.data, ctx.now, ctx.citizen_id)
    current["photo"] = [file_id, token]


@router.step("defect.describe")
async def described(ctx: Ctx) -> None:
    inbound = ctx.inbound
    current = draft(ctx)
    if inbound.attachments:
        await keep_photo(ctx)
        if not inbound.text.strip():
            ctx.say(ctx.t("Thank you for the photo! Please describe briefly what is wrong."))
            return
    elif inbound.kind != "text":
        ask_description(ctx)
        return
    description = reports.clean_description(inbound.text)
    if not description:
        ask_description(ctx)
        return
    current["description"] = description
    await next_question(ctx)


@router.action("defect.as_said")
async def as_said(ctx: Ctx, arg: str) -> None:
    current = draft(ctx)
    if not current.get("category"):
        await next_question(ctx)
        return
    current["description"] = str(current.get("said") or "")
    await next_question(ctx)


# ---------------------------------------------------------------- updates and filing
def ask_updates(ctx: Ctx) -> None:
    ctx.goto("defect.updates")
    ctx.say(
        ctx.t("Would you like to hear when something happens with your report?"),
        [
            ctx.button("Yes, keep me posted", "defect.updates", "yes"),
            ctx.button("No, thanks", "defect.updates", "no"),
        ],
    )


@router.step("defect.updates", free_text=False)
async def updates_typed(ctx: Ctx) -> None:
    word = places.fold(ctx.inbound.text).strip(" .!") if ctx.inbound.kind == "text" else ""
    if word in YES or word in NO:
        await updates_chosen(ctx, "yes" if word in YES else "no")
        return
    ask_updates(ctx)


@router.action("defect.updates")
async def updates_chosen(ctx: Ctx, arg: str) -> None:
    current = draft(ctx)
    if not current.get("category") or not current.get("place"):
        await next_question(ctx)
        return
    current["updates"] = arg == "yes"
    await next_question(ctx)


def chat_attributes(category: Category | None, text: str) -> dict[str, str]:
    """Optional attributes found in the description ("Mast Nr. 12" -> lamp_number 12)."""
    found: dict[str, str] = {}
    for attribute in category.attributes if category else []:
        if attribute.chat_pattern:
            match = re.search(attribute.chat_pattern, text)
            if match:
                found[attribute.code] = match.group(1)
    return found


async def file(ctx: Ctx) -> None:
    current = draft(ctx)
    category = rules(ctx.city).category(str(current["category"]))
    description = str(current.get("description") or "")
    photo = current.get("photo")
    report = await reports.file_report(
        ctx.uow,
        ctx.city,
        category=str(current["category"]),
        place=places.Place.from_data(current["place"]),
        now=ctx.now,
        description=description,
        citizen_id=ctx.citizen_id,
        wants_updates=bool(current.get("updates")),
        attributes=chat_attributes(category, description),
        photo=(int(photo[0]), str(photo[1])) if photo else None,
    )
    ctx.done()
    department = ctx.city.department(report.department)
    lines = [
        ctx.t(
            "Thank you! Your report no. {number} ({category}, {place}) has gone to the "
            "{department}.",
            number=report.id,
            category=category_name(ctx, report.category),
            place=reports.place_text(report),
            department=department.name(ctx.lang) if department else report.department,
        )
    ]
    if current.get("updates"):
        lines.append(ctx.t("You will hear from us when something happens."))
    ctx.say(
        "\n".join(lines),
        [ctx.button("Show the report", "defect.show", str(report.id)), back_to_menu(ctx)],
    )


# ---------------------------------------------------------------- looking at reports
@router.action("defect.show")
async def show(ctx: Ctx, number: str) -> None:
    report = await reports.get(ctx.uow, number, public=True)
    mine = report.citizen_id == ctx.citizen_id
    following = await reports.is_following(ctx.uow, report, ctx.citizen_id)
    lines = [
        ctx.t(
            "Report no. {number}: {category}",
            number=report.id,
            category=category_name(ctx, report.category),
        ),
        ctx.t("Place: {place}", place=reports.place_text(report)),
        ctx.t(
            "Reported on: {date}", date=ctx.date(report.created_at.astimezone(ctx.city.tz).date())
        ),
        ctx.t("Status: {status}", status=ctx.t(LABELS.get(report.status, report.status))),
    ]
    if mine and report.description:
        lines.append(ctx.t("Your description: {text}", text=report.description))
    if report.confirmations:
        lines.append(
            ctx.tn(
                "Confirmed by {n} more resident.",
                "Confirmed by {n} more residents.",
                report.confirmations,
            )
        )
    for event in await reports.history(ctx.uow, report, public_only=not mine):
        line = event_line(ctx, event)
        if line:
            lines.append(line)
    buttons = []
    if mine and report.status == QUESTION:
        buttons.append(ctx.button("Answer", "defect.answer", str(report.id)))
    if following:
        buttons.append(ctx.button("Stop updates", "defect.unfollow", str(report.id)))
    elif report.status in OPEN_STATES:
        buttons.append(ctx.button("Follow this report", "defect.follow", str(report.id)))
    ctx.say(
        "\n".join(lines),
        [*buttons, ctx.button("My reports", "defect.mine"), back_to_menu(ctx)],
        private=mine,
    )


EVENT_LINES = {
    "taken": N_("being dealt with"),
    "question": N_("question from {name}: {text}"),
    "answer": N_("your answer: {text}"),
    "closed": N_("done: {text}"),
    "forwarded": N_("passed on: {text}"),
    "not_ours": N_("not the town's responsibility: {text}"),
}


def event_line(ctx: Ctx, event: DefectEvent) -> str:
    template = EVENT_LINES.get(event.kind)
    if template is None:
        return ""
    what = ctx.t(template, name=event.actor_name or "", text=event.text or "")
    return f"{ctx.datetime(event.at)} – {what}"


@router.command("meldungen", "myreports", help=N_("the defects you reported or follow"))
async def mine_command(ctx: Ctx, args: str) -> None:
    await mine(ctx, "")


@router.action("defect.mine")
async def mine(ctx: Ctx, arg: str) -> None:
    found = await reports.list_own(ctx.uow, ctx.citizen_id)
    if not found:
        ctx.say(
            ctx.t("You have not reported or followed any defects yet."),
            [ctx.button("Report a defect", "defect.start"), back_to_menu(ctx)],
        )
        return
    lines = [ctx.t("Your reports:")]
    for report in found:
        lines.append(report_line(ctx, report))
    buttons = [Button(ctx.t("No. {number}", number=r.id), "defect.show", str(r.id)) for r in found]
    ctx.say("\n".join(lines), [*buttons, back_to_menu(ctx)])


def report_line(ctx: Ctx, report: DefectReport) -> str:
    return ctx.t(
        "No. {number} · {category} · {place} · {date} · {status}",
        number=report.id,
        category=category_name(ctx, report.category),
        place=reports.place_text(report),
        date=ctx.date(report.created_at.astimezone(ctx.city.tz).date()),
        status=ctx.t(LABELS.get(report.status, report.status)),
    )


@router.action("defect.unfollow")
async def unfollow(ctx: Ctx, number: str) -> None:
    report = await reports.unfollow(ctx.uow, number, ctx.citizen_id)
    ctx.say(
        ctx.t("You will no longer hear about report no. {number}.", number=report.id),
        [ctx.button("Follow this report", "defect.follow", str(report.id)), back_to_menu(ctx)]
        if report.status in OPEN_STATES
        else [back_to_menu(ctx)],
    )


@router.action("defect.answer")
async def answer(ctx: Ctx, number: str) -> None:
    report = await reports.get(ctx.uow, number)
    if report.citizen_id != ctx.citizen_id or report.status != QUESTION:
        await show(ctx, number)
        return
    ctx.ask(
        "defect.reply",
        ctx.t("Please type your answer about report no. {number}.", number=report.id),
        [ctx.button("Cancel", "defect.show", str(report.id))],
        number=str(report.id),
    )


@router.step("defect.reply")
async def reply_typed(ctx: Ctx) -> None:
    if ctx.inbound.kind != "text":
        ctx.say(ctx.t("Please type your answer as text."))
        return
    number = str(ctx.data.get("number", ""))
    report = await actions.answer(
        ctx.uow, ctx.city, ctx.citizen_id, number, ctx.inbound.text, ctx.now
    )
    ctx.done()
    ctx.say(
        ctx.t("Thank you, your answer about report no. {number} was passed on.", number=report.id),
        [ctx.button("Show the report", "defect.show", str(report.id)), back_to_menu(ctx)],
    )
