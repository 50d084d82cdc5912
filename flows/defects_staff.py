"""Staff in their department's room act on defect reports: take, close with a public note, ask
the reporter, add an internal note, say "not ours" (pass it on or close it), details, and
/maengel (open reports, oldest first). Buttons come on notifications (detached menus), so the
service checks every time that the person serves the report's department."""

from __future__ import annotations

from flows.confirm import ask_confirmation
from flows.context import Ctx
from flows.defects import category_name, event_line
from flows.registry import Router
from flows.staff import actor, prompt, queue_department, typed_text
from flows.types import Button, Media
from services import i18n
from services.defects import actions, reports
from services.defects.reports import DefectEvent, DefectReport
from services.defects.states import LABELS, OPEN_STATES, REVIEW, SUBMITTED
from services.i18n import N_

router = Router("defects_staff")


def report_buttons(ctx: Ctx, report: DefectReport) -> list[Button]:
    number = str(report.id)
    if report.status == REVIEW:
        return [
            ctx.button("Accept", "defect.accept", number),
            ctx.button("Refuse", "defect.refuse", number),
            ctx.button("Details", "defect.details", number),
        ]
    if report.status not in OPEN_STATES:
        return [ctx.button("Details", "defect.details", number)]
    take = [ctx.button("Take", "defect.take", number)] if report.status == SUBMITTED else []
    return [
        *take,
        ctx.button("Close with a note", "defect.close", number),
        ctx.button("Ask the reporter", "defect.ask", number),
        ctx.button("Add a note", "defect.note", number),
        ctx.button("Not ours", "defect.not_ours", number),
        ctx.button("Details", "defect.details", number),
    ]


async def open_report(ctx: Ctx, number: str) -> DefectReport | None:
    """The report, if this person may act on it and it is still open (else say why)."""
    report = await actions.for_staff(ctx.uow, actor(ctx), number)
    if report.status in OPEN_STATES:
        return report
    ctx.say(
        ctx.t(
            "Report no. {number} is already {status}. Nothing was changed.",
            number=report.id,
            status=ctx.t(LABELS.get(report.status, report.status)),
        )
    )
    return None


@router.action("defect.take", roles=["staff"])
async def take(ctx: Ctx, number: str) -> None:
    report = await actions.take(ctx.uow, ctx.city, actor(ctx), number, ctx.now)
    ctx.say(
        ctx.t(
            "{name} is now dealing with report no. {number}. Its followers have been told.",
            name=actor(ctx).first_name,
            number=report.id,
        ),
        report_buttons(ctx, report),
    )


def back(ctx: Ctx, number: str) -> Button:
    return ctx.button("No, back to the report", "defect.details", number)


@router.action("defect.accept", roles=["staff"])
async def accept(ctx: Ctx, number: str) -> None:
    report = await actions.for_staff(ctx.uow, actor(ctx), number)
    if report.status != REVIEW:
        await details(ctx, number)
        return
    ask_confirmation(
        ctx,
        ctx.t(
            "Publish report no. {number}? It appears on the page and through Open311 at once.",
            number=report.id,
        ),
        ctx.button(
            ctx.t("Yes, publish no. {number}", number=report.id), "defect.accept_yes", number
        ),
        back(ctx, number),
    )


@router.action("defect.accept_yes", roles=["staff"])
async def accept_confirmed(ctx: Ctx, number: str) -> None:
    ctx.done()
    report = await actions.accept(ctx.uow, ctx.city, actor(ctx), number, ctx.now)
    ctx.say(
        ctx.t(
            "Report no. {number} accepted by {name}: it is public now, on the page and "
            "through Open311.",
            number=report.id,
            name=actor(ctx).first_name,
        ),
        report_buttons(ctx, report),
    )


@router.action("defect.refuse", roles=["staff"])
async def refuse(ctx: Ctx, number: str) -> None:
    report = await actions.for_staff(ctx.uow, actor(ctx), number)
    if report.status != REVIEW:
        await details(ctx, number)
        return
    prompt(
        ctx,
        "defect.refuse_reason",
        str(report.id),
        ctx.t(
            "Why is report no. {number} refused? Only staff see the reason; the report never "
            "becomes public.",
            number=report.id,
        ),
        cancel="defect.details",
    )


@router.step("defect.refuse_reason")
async def refuse_reason(ctx: Ctx) -> None:
    if not typed_text(ctx, ctx.t("Please type the reason as text.")):
        return
    number = str(ctx.data.get("ref"))
    reason = actions.clean(ctx.inbound.text)
    ask_confirmation(
        ctx,
        ctx.t("Refuse report no. {number}? It will never become public.", number=number),
        ctx.button(ctx.t("Yes, refuse no. {number}", number=number), "defect.refuse_yes", number),
        back(ctx, number),
        reason=reason,
    )


@router.action("defect.refuse_yes", roles=["staff"])
async def refuse_confirmed(ctx: Ctx, number: str) -> None:
    reason = str(ctx.data.get("reason") or "")
    ctx.done()
    report = await actions.refuse(ctx.uow, ctx.city, actor(ctx), number, reason, ctx.now)
    ctx.say(ctx.t("Report no. {number} refused; it stays hidden.", number=report.id))


@router.action("defect.close", roles=["staff"])
async def close(ctx: Ctx, number: str) -> None:
    report = await open_report(ctx, number)
    if report is None:
        return
    prompt(
        ctx,
        "defect.close_note",
        str(report.id),
        ctx.t(
            "What should the residents read about report no. {number}? This note is public "
            '(e.g. "Lamp replaced on 2 December").',
            number=report.id,
        ),
        cancel="defect.details",
    )


@router.step("defect.close_note")
async def close_note(ctx: Ctx) -> None:
    if not typed_text(ctx, ctx.t("Please type the note as text.")):
        return
    number = str(ctx.data.get("ref"))
    note = actions.clean(ctx.inbound.text, at_least=5)
    ask_confirmation(
        ctx,
        ctx.t(
            "Close report no. {number} with this public note?\n“{note}”\nEveryone who follows "
            "it is told at once; this cannot be undone.",
            number=number,
            note=note,
        ),
        ctx.button(ctx.t("Yes, close no. {number}", number=number), "defect.close_yes", number),
        back(ctx, number),
        note=note,
    )


@router.action("defect.close_yes", roles=["staff"])
async def close_confirmed(ctx: Ctx, number: str) -> None:
    note = str(ctx.data.get("note") or "")
    ctx.done()
    report = await actions.close(ctx.uow, ctx.city, actor(ctx), number, note, ctx.now)
    followers = len(await reports.followers(ctx.uow, report))
    ctx.say(
        ctx.tn(
            "✅ Report no. {number} closed by {name}. {n} follower has been told.",
            "✅ Report no. {number} closed by {name}. {n} followers have been told.",
            followers,
            number=report.id,
            name=actor(ctx).first_name,
        )
    )


@router.action("defect.ask", roles=["staff"])
async def ask(ctx: Ctx, number: str) -> None:
    report = await open_report(ctx, number)
    if report is None:
        return
    if report.citizen_id is None:
        ctx.say(
            ctx.t(
                "Report no. {number} came through the Open311 interface: there is nobody to "
                "ask in the chat.",
                number=report.id,
            )
        )
        return
    prompt(
        ctx,
        "defect.question",
        str(report.id),
        ctx.t("What would you like to ask the reporter of no. {number}?", number=report.id),
        cancel="defect.details",
    )


@router.step("defect.question")
async def question_typed(ctx: Ctx) -> None:
    if not typed_text(ctx, ctx.t("Please type the question as text.")):
        return
    number = str(ctx.data.get("ref"))
    question = actions.clean(ctx.inbound.text)
    ask_confirmation(
        ctx,
        ctx.t(
            "Send this question about report no. {number} to the reporter?\n“{question}”",
            number=number,
            question=question,
        ),
        ctx.button(ctx.t("Yes, send the question"), "defect.ask_yes", number),
        back(ctx, number),
        question=question,
    )


@router.action("defect.ask_yes", roles=["staff"])
async def ask_confirmed(ctx: Ctx, number: str) -> None:
    question = str(ctx.data.get("question") or "")
    ctx.done()
    report = await actions.ask(ctx.uow, ctx.city, actor(ctx), number, question, ctx.now)
    ctx.say(
        ctx.t(
            "❓ Question about report no. {number} sent to the reporter. Their answer will "
            "appear here.",
            number=report.id,
        )
    )


@router.action("defect.note", roles=["staff"])
async def note(ctx: Ctx, number: str) -> None:
    report = await actions.for_staff(ctx.uow, actor(ctx), number)
    prompt(
        ctx,
        "defect.note_text",
        str(report.id),
        ctx.t("Type the note for report no. {number} (only staff see it).", number=report.id),
        cancel="defect.details",
    )


@router.step("defect.note_text")
async def note_typed(ctx: Ctx) -> None:
    if not typed_text(ctx, ctx.t("Please type the note as text.")):
        return
    report = await actions.note(
        ctx.uow, actor(ctx), str(ctx.data.get("ref")), ctx.inbound.text, ctx.now
    )
    ctx.done()
    ctx.say(
        ctx.t("📝 Note added to report no. {number}.", number=report.id),
        report_buttons(ctx, report),
    )


@router.action("defect.not_ours", roles=["staff"])
async def not_ours(ctx: Ctx, number: str) -> None:
    report = await open_report(ctx, number)
    if report is None:
        return
    others = [d for d in ctx.city.departments if d.key != report.department]
    ctx.say(
        ctx.t(
            "Who is responsible for report no. {number}? It will be passed on there, open. "
            "Or close it if it is not the town's at all.",
            number=report.id,
        ),
        [Button(d.name(ctx.lang), "defect.not_ours_to", f"{report.id}|{d.key}") for d in others]
        + [
            ctx.button("Not the town's: close it", "defect.not_ours_to", f"{report.id}|"),
            ctx.button("Cancel", "defect.details", str(report.id)),
        ],
    )


@router.action("defect.not_ours_to", roles=["staff"])
async def not_ours_to(ctx: Ctx, arg: str) -> None:
    number, _sep, department = arg.partition("|")
    report = await open_report(ctx, number)
    if report is None:
        return
    found = ctx.city.department(department) if department else None
    text = (
        ctx.t(
            "Why is it for the {department}? The reason is public and goes to the followers.",
            department=found.name(ctx.lang),
        )
        if found
        else ctx.t(
            "Why can the town not fix it (e.g. a private property or the federal road "
            "authority)? The reason is public and goes to the followers."
        )
    )
    prompt(ctx, "defect.not_ours_reason", str(report.id), text, cancel="defect.details")
    ctx.data["to"] = department


@router.step("defect.not_ours_reason")
async def not_ours_reason(ctx: Ctx) -> None:
    if not typed_text(ctx, ctx.t("Please type the reason as text.")):
        return
    number = str(ctx.data.get("ref"))
    forward_to = str(ctx.data.get("to") or "")
    reason = actions.clean(ctx.inbound.text, at_least=5)
    found = ctx.city.department(forward_to) if forward_to else None
    question = (
        ctx.t(
            "Pass report no. {number} on to the {department} with this public reason?\n"
            "“{reason}”\nEveryone who follows it is told at once.",
            number=number,
            department=found.name(ctx.lang),
            reason=reason,
        )
        if found
        else ctx.t(
            "Close report no. {number} as not the town's responsibility, with this public "
            "reason?\n“{reason}”\nEveryone who follows it is told at once; this cannot be undone.",
            number=number,
            reason=reason,
        )
    )
    ask_confirmation(
        ctx,
        question,
        ctx.button(
            ctx.t("Yes, pass it on") if found else ctx.t("Yes, close no. {number}", number=number),
            "defect.not_ours_yes",
            number,
        ),
        back(ctx, number),
        reason=reason,
        to=forward_to,
    )


@router.action("defect.not_ours_yes", roles=["staff"])
async def not_ours_confirmed(ctx: Ctx, number: str) -> None:
    reason = str(ctx.data.get("reason") or "")
    forward_to = str(ctx.data.get("to") or "")
    ctx.done()
    report = await actions.not_ours(
        ctx.uow, ctx.city, actor(ctx), number, reason, ctx.now, forward_to=forward_to
    )
    if forward_to:
        department = ctx.city.department(forward_to)
        ctx.say(
            ctx.t(
                "↪️ Report no. {number} passed on to the {department}. Its followers have been "
                "told.",
                number=report.id,
                department=department.name(ctx.lang) if department else forward_to,
            )
        )
    else:
        ctx.say(
            ctx.t(
                "Report no. {number} closed as not the town's responsibility. Its followers "
                "have been told.",
                number=report.id,
            )
        )


@router.action("defect.details", roles=["staff"])
async def details(ctx: Ctx, number: str) -> None:
    report = await actions.for_staff(ctx.uow, actor(ctx), number)
    lines = [
        ctx.t(
            "Report no. {number}: {category}",
            number=report.id,
            category=category_name(ctx, report.category),
        ),
        ctx.t(
            "Place: {place} ({lat}, {lon})",
            place=reports.place_text(report),
            lat=f"{report.lat:.5f}",
            lon=f"{report.lon:.5f}",
        ),
        ctx.t("Status: {status}", status=ctx.t(LABELS.get(report.status, report.status))),
        ctx.t("Description: {text}", text=report.description or "–"),
    ]
    for code, value in report.attributes.items():
        lines.append(f"• {code}: {value}")
    if report.source == "api":
        lines.append(ctx.t("Reported through Open311 by {client}.", client=report.client or "–"))
        contact = ", ".join(str(v) for v in report.contact.values())
        if contact:
            lines.append(ctx.t("Contact: {contact}", contact=contact))
    if report.media_url:
        lines.append(ctx.t("Photo: {url}", url=report.media_url))
    lines.append(
        ctx.t(
            "Followers: {followers} · confirmations: {count}",
            followers=len(await reports.followers(ctx.uow, report)),
            count=report.confirmations,
        )
    )
    lines.append(ctx.t("History:"))
    for event in await reports.history(ctx.uow, report, public_only=False):
        lines.append(staff_event_line(ctx, event))
    photo = await reports.photo(ctx.uow, report)
    media = Media("image", f"report-{report.id}.jpg", *photo) if photo else None
    ctx.say("\n".join(lines), media=media, private=True)
    ctx.say(
        ctx.t("What would you like to do with report no. {number}?", number=report.id),
        report_buttons(ctx, report),
    )


STAFF_EVENTS = {
    "submitted": N_("reported"),
    "confirmed": N_("confirmed by a resident"),
    "taken": N_("taken by {name}"),
    "note": N_("note by {name}: {text}"),
    "answer": N_("the reporter's answer: {text}"),
    "accepted": N_("accepted by {name}"),
    "refused": N_("refused by {name}: {text}"),
}


def staff_event_line(ctx: Ctx, event: DefectEvent) -> str:
    template = STAFF_EVENTS.get(event.kind)
    if template is None:
        return event_line(ctx, event)
    what = ctx.t(template, name=event.actor_name or "", text=event.text or "")
    return f"{ctx.datetime(event.at)} – {what}"


@router.command(
    "maengel",
    "defects",
    roles=["staff"],
    help=N_("staff: open defect reports of your department, oldest first"),
)
async def queue(ctx: Ctx, args: str) -> None:
    department = queue_department(ctx, args, "/maengel")
    if not department:
        return
    found, total = await reports.queue(ctx.uow, department)
    found_department = ctx.city.department(department)
    name = found_department.name(ctx.lang) if found_department else department
    if not found:
        ctx.say(ctx.t("No open defect reports for {department}. 🎉", department=name))
        return
    lines = [
        ctx.t(
            "Open defect reports for {department}: {total}, oldest first",
            department=name,
            total=total,
        )
    ]
    for report in found:
        lines.append(
            ctx.t(
                "No. {number} · {category} · {place} · {status} · {days}",
                number=report.id,
                category=category_name(ctx, report.category),
                place=reports.place_text(report),
                status=ctx.t(LABELS.get(report.status, report.status)),
                days=i18n.counted(
                    "{n} day",
                    "{n} days",
                    (ctx.today() - report.created_at.astimezone(ctx.city.tz).date()).days,
                ),
            )
        )
    buttons = [
        Button(ctx.t("No. {number}", number=r.id), "defect.details", str(r.id)) for r in found[:10]
    ]
    ctx.say("\n".join(lines), buttons)
