"""Staff in their department's room: take, approve, reject, ask the resident, add a note, look
at details and files, and /queue. Buttons arrive on notifications (detached menus), so every
action checks here, through the service, that the person serves the case's department."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from flows import trust as trust_views
from flows.applications import answer_lines
from flows.case_views import decision_lines, event_line, file_name, send_files, status_word
from flows.confirm import ask_confirmation
from flows.context import Ctx
from flows.forms import FORMS
from flows.registry import Router
from flows.types import Button
from services import i18n
from services.cases import actions as case_actions
from services.cases import decisions
from services.cases import records as cases
from services.cases.records import Case
from services.cases.rules import OPEN_STATUSES, SUBMITTED, rules
from services.city import City
from services.errors import NotAllowed
from services.i18n import N_
from services.identity import accounts as identity
from services.identity.profile import clean_text

router = Router("staff")
STEP_TIMEOUT = timedelta(minutes=30)  # a staff room is a group: an old prompt must not catch chat


def still_waiting(ctx: Ctx) -> bool:
    """False (and the prompt dropped) when the staff member was asked too long ago."""
    asked = ctx.data.get("asked_at")
    if asked and ctx.now - datetime.fromisoformat(str(asked)) <= STEP_TIMEOUT:
        return True
    ctx.done()
    ctx.say(ctx.t("That prompt has expired, so nothing was sent. Please press the button again."))
    return False


def typed_text(ctx: Ctx, hint: str) -> bool:
    """The staff member answered a prompt in time and with text; otherwise say why not."""
    if not still_waiting(ctx):
        return False
    if ctx.inbound.kind != "text":
        ctx.say(hint)
        return False
    return True


def prompt(ctx: Ctx, step: str, ref: str, text: str, cancel: str = "staff.details") -> None:
    """Ask the staff member to type something about a case (expires after STEP_TIMEOUT);
    `cancel` is the action showing the case again."""
    ctx.ask(
        step,
        text,
        [ctx.button("Cancel", cancel, ref)],
        ref=ref,
        asked_at=ctx.now.isoformat(),
    )


def already_closed(ctx: Ctx, case: Case) -> bool:
    if case.status in OPEN_STATUSES:
        return False
    ctx.say(
        ctx.t(
            "{ref} is already {status}. Nothing was changed.",
            ref=case.reference,
            status=status_word(ctx, case),
        )
    )
    return True


def actor(ctx: Ctx) -> cases.Actor:
    name = ctx.citizen.first_name or ctx.inbound.display_name or ctx.t("Staff")
    return cases.Actor(ctx.citizen_id, name, frozenset(ctx.roles), ctx.lang)


def room_department(city: City, channel: str, chat_id: str) -> str | None:
    """The department whose staff room this chat is."""
    for department in city.departments:
        configured = (
            getattr(department.rooms, channel, "")
            if channel in ("telegram", "matrix", "console")
            else ""
        )
        if configured and chat_id in (configured, f"room:{configured}"):
            return department.key
    return None


def case_buttons(ctx: Ctx, case_ref: str, status: str) -> list[Button]:
    if status not in OPEN_STATUSES:
        return [ctx.button("Details", "staff.details", case_ref)]
    take = [ctx.button("Take", "staff.take", case_ref)] if status == SUBMITTED else []
    return [
        *take,
        ctx.button("Approve", "staff.approve", case_ref),
        ctx.button("Reject", "staff.reject", case_ref),
        ctx.button("Ask the resident", "staff.ask", case_ref),
        ctx.button("Add a note", "staff.note", case_ref),
        ctx.button("Details", "staff.details", case_ref),
    ]


@router.action("staff.take", roles=["staff"])
async def take(ctx: Ctx, ref: str) -> None:
    case = await case_actions.take(ctx.uow, ctx.city, actor(ctx), ref, ctx.now)
    ctx.say(
        ctx.t(
            "{name} is now handling {ref}. The resident has been told.",
            name=case.assignee_name,
            ref=case.reference,
        ),
        case_buttons(ctx, case.reference, case.status),
    )


@router.action("staff.approve", roles=["staff"])
async def approve(ctx: Ctx, ref: str) -> None:
    case = await cases.find_for_staff(ctx.uow, actor(ctx), ref)
    if already_closed(ctx, case):
        return
    if case.form == "daycare":
        # the decision names the daycare: staff choose it from the resident's ranked list
        ranked = decisions.ranked_daycares(case)
        town = rules(ctx.city)
        ctx.say(
            ctx.t(
                "Which daycare offers the place for {ref}? The resident's choices, in order:",
                ref=case.reference,
            ),
            [
                *(
                    Button(
                        f"{n}. {found.name if (found := town.daycare(key)) else key}",
                        "staff.approve_daycare",
                        f"{case.reference}|{key}",
                    )
                    for n, key in enumerate(ranked, 1)
                ),
                ctx.button("Cancel", "staff.details", case.reference),
            ],
        )
        return
    question = ctx.t(
        "Approve {ref} ({title})? The resident is told at once; this cannot be undone.",
        ref=case.reference,
        title=ctx.t(cases.title_of(case.form)),
    )
    if case.form == "space" and decisions.has_permit_terms(case.answers):
        terms = decisions.space_terms(ctx.city, case.answers)
        ctx.say(
            ctx.t(
                "{ref}: permit for {area} m² from {first} to {last}, fee {fee}. The standard "
                "conditions are printed on it; add more if needed.",
                ref=case.reference,
                area=i18n.number(terms["area"]),
                first=ctx.date(date.fromisoformat(terms["first_day"])),
                last=ctx.date(date.fromisoformat(terms["last_day"])),
                fee=ctx.money(terms["fee_cents"]),
            ),
            [ctx.button("Add conditions", "staff.conditions", ref)],
        )
    ask_confirmation(
        ctx,
        question,
        ctx.button(ctx.t("Yes, approve {ref}", ref=case.reference), "staff.approve_yes", ref),
        ctx.button("No, back to the case", "staff.details", ref),
    )


@router.action("staff.approve_daycare", roles=["staff"])
async def approve_daycare(ctx: Ctx, arg: str) -> None:
    ref, _sep, key = arg.partition("|")
    case = await cases.find_for_staff(ctx.uow, actor(ctx), ref)
    if already_closed(ctx, case):
        return
    found = rules(ctx.city).daycare(key)
    ask_confirmation(
        ctx,
        ctx.t(
            "Approve {ref} with a place at {daycare}? The resident is told at once; this "
            "cannot be undone.",
            ref=case.reference,
            daycare=found.name if found else key,
        ),
        ctx.button(ctx.t("Yes, approve {ref}", ref=case.reference), "staff.approve_yes", arg),
        ctx.button("No, back to the case", "staff.details", ref),
    )


@router.action("staff.approve_yes", roles=["staff"])
async def approve_confirmed(ctx: Ctx, arg: str) -> None:
    ref, _sep, daycare = arg.partition("|")
    conditions = str(ctx.data.get("conditions") or "")
    ctx.done()
    case = await case_actions.approve(
        ctx.uow,
        ctx.city,
        actor(ctx),
        ref,
        ctx.now,
        daycare=daycare or None,
        conditions=conditions,
    )
    lines = [
        ctx.t(
            "✅ {ref} approved by {name}. The resident has been told.",
            ref=case.reference,
            name=actor(ctx).first_name,
        )
    ]
    lines += decision_lines(ctx, case)
    if "fee_cents" in (case.decision or {}):
        lines.append(ctx.t("The permit (PDF) was sent to the resident."))
    ctx.say("\n".join(lines))


@router.action("staff.conditions", roles=["staff"])
async def conditions(ctx: Ctx, ref: str) -> None:
    case = await cases.find_for_staff(ctx.uow, actor(ctx), ref)
    if already_closed(ctx, case):
        return
    prompt(
        ctx,
        "staff.conditions_text",
        case.reference,
        ctx.t(
            "Which conditions should the permit for {ref} carry beyond the standard ones? One "
            "per line, in German (the permit is German).",
            ref=case.reference,
        ),
    )


@router.step("staff.conditions_text")
async def conditions_typed(ctx: Ctx) -> None:
    if not typed_text(ctx, ctx.t("Please type the conditions as text.")):
        return
    ref = str(ctx.data.get("ref"))
    extra = cases.clean_text(ctx.inbound.text)
    ctx.done()
    ask_confirmation(
        ctx,
        ctx.t(
            "Grant {ref} with these conditions as well?\n{conditions}\nThe resident is told at "
            "once; this cannot be undone.",
            ref=ref,
            conditions=extra,
        ),
        ctx.button(ctx.t("Yes, approve {ref}", ref=ref), "staff.approve_yes", ref),
        ctx.button("No, back to the case", "staff.details", ref),
        conditions=extra,
    )


@router.action("staff.reopen", roles=["staff"])
async def reopen(ctx: Ctx, ref: str) -> None:
    case = await case_actions.reopen(ctx.uow, ctx.city, actor(ctx), ref, ctx.now)
    ctx.say(
        ctx.t(
            "{ref} is open again, handled by {name}. The resident has been told.",
            ref=case.reference,
            name=actor(ctx).first_name,
        ),
        case_buttons(ctx, case.reference, case.status),
    )


@router.action("staff.reject", roles=["staff"])
async def reject(ctx: Ctx, ref: str) -> None:
    case = await cases.find_for_staff(ctx.uow, actor(ctx), ref)
    if already_closed(ctx, case):
        return
    prompt(
        ctx,
        "staff.reject_reason",
        case.reference,
        ctx.t(
            "Why is {ref} rejected? Please write the reason for the resident; it is passed "
            "on with a friendly explanation.",
            ref=case.reference,
        ),
    )


@router.step("staff.reject_reason")
async def reject_reason(ctx: Ctx) -> None:
    if not typed_text(ctx, ctx.t("Please type the reason as text.")):
        return
    ref = str(ctx.data.get("ref"))
    reason = case_actions.clean_reason(ctx.inbound.text)
    ask_confirmation(
        ctx,
        ctx.t(
            "Reject {ref} with this reason?\n“{reason}”\nThe resident is told at once; this "
            "cannot be undone.",
            ref=ref,
            reason=reason,
        ),
        ctx.button(ctx.t("Yes, reject {ref}", ref=ref), "staff.reject_yes", ref),
        ctx.button("No, back to the case", "staff.details", ref),
        reason=reason,
    )


@router.action("staff.reject_yes", roles=["staff"])
async def reject_confirmed(ctx: Ctx, ref: str) -> None:
    reason = str(ctx.data.get("reason") or "") if ctx.data.get("ref") == ref else ""
    ctx.done()
    if not reason:
        await reject(ctx, ref)
        return
    case = await case_actions.reject(ctx.uow, ctx.city, actor(ctx), ref, reason, ctx.now)
    ctx.say(
        ctx.t(
            "❌ {ref} rejected by {name}. The resident has been told the reason.",
            ref=case.reference,
            name=actor(ctx).first_name,
        )
    )


@router.action("staff.ask", roles=["staff"])
async def ask(ctx: Ctx, ref: str) -> None:
    case = await cases.find_for_staff(ctx.uow, actor(ctx), ref)
    if already_closed(ctx, case):
        return
    prompt(
        ctx,
        "staff.question",
        case.reference,
        ctx.t("What would you like to ask the resident about {ref}?", ref=case.reference),
    )


@router.step("staff.question")
async def question_typed(ctx: Ctx) -> None:
    if not typed_text(ctx, ctx.t("Please type the question as text.")):
        return
    ref = str(ctx.data.get("ref"))
    question = clean_text(ctx.inbound.text)
    ask_confirmation(
        ctx,
        ctx.t(
            "Send this question about {ref} to the resident?\n“{question}”",
            ref=ref,
            question=question,
        ),
        ctx.button("Yes, send the question", "staff.ask_yes", ref),
        ctx.button("No, back to the case", "staff.details", ref),
        question=question,
    )


@router.action("staff.ask_yes", roles=["staff"])
async def question_confirmed(ctx: Ctx, ref: str) -> None:
    question = str(ctx.data.get("question") or "") if ctx.data.get("ref") == ref else ""
    ctx.done()
    if not question:
        await ask(ctx, ref)
        return
    case = await case_actions.ask(ctx.uow, ctx.city, actor(ctx), ref, question, ctx.now)
    ctx.say(
        ctx.t(
            "❓ Question about {ref} sent to the resident. Their answer will appear here.",
            ref=case.reference,
        )
    )


@router.action("staff.note", roles=["staff"])
async def note(ctx: Ctx, ref: str) -> None:
    case = await cases.find_for_staff(ctx.uow, actor(ctx), ref)
    prompt(
        ctx,
        "staff.note_text",
        case.reference,
        ctx.t("Type the note for {ref} (only staff see it).", ref=case.reference),
    )


@router.step("staff.note_text")
async def note_typed(ctx: Ctx) -> None:
    if not typed_text(ctx, ctx.t("Please type the note as text.")):
        return
    case = await case_actions.note(
        ctx.uow, actor(ctx), str(ctx.data.get("ref")), ctx.inbound.text, ctx.now
    )
    ctx.done()
    ctx.say(
        ctx.t("📝 Note added to {ref}.", ref=case.reference),
        case_buttons(ctx, case.reference, case.status),
    )


@router.action("staff.details", roles=["staff"])
async def show_details(ctx: Ctx, ref: str) -> None:
    case = await cases.find_for_staff(ctx.uow, actor(ctx), ref)
    form = FORMS.get(case.form)
    resident = await identity.citizen(ctx.uow, case.citizen_id)
    lines = [
        f"{ctx.t(cases.title_of(case.form))} – {case.reference}",
        ctx.t("Status: {status}", status=status_word(ctx, case)),
        ctx.t(
            "Resident: {name} (ID {id})",
            name=(resident.full_name if resident else None) or "–",
            id=case.citizen_id,
        ),
    ]
    if case.assignee_name:
        lines.append(ctx.t("Handled by: {name}", name=case.assignee_name))
    if resident is not None:
        lines += await trust_views.identity_lines(ctx, resident, case.form)
    lines += decision_lines(ctx, case)
    if form is not None:
        lines += [f"• {label}: {value}" for label, value in answer_lines(ctx, form, case.answers)]
        if form.notes is not None:
            lines += form.notes(ctx, case.answers)
    lines.append(ctx.t("History:"))
    for event in await cases.history(ctx.uow, case, for_staff=True):
        lines.append(event_line(ctx, event, await file_name(ctx, event)))
    buttons = case_buttons(ctx, case.reference, case.status)
    if await cases.case_files(ctx.uow, case):
        buttons.append(ctx.button("Files", "staff.files", case.reference))
    # the personal details go without buttons: stored menus keep only the short line below
    ctx.say("\n".join(lines), private=True)
    ctx.say(ctx.t("What would you like to do with {ref}?", ref=case.reference), buttons)


@router.action("staff.files", roles=["staff"])
async def files(ctx: Ctx, ref: str) -> None:
    case = await cases.find_for_staff(ctx.uow, actor(ctx), ref)
    await send_files(ctx, case)


def queue_department(ctx: Ctx, args: str, command: str) -> str:
    """The department whose queue a staff member asks for: named, or the room's, or their only
    one; "" (and asked which) when unclear. Only its own staff may see it."""
    department = args.strip().lower() or room_department(
        ctx.city, ctx.inbound.channel, ctx.inbound.chat_id
    )
    mine = ctx.scopes("staff")
    if not department:
        if len(mine) != 1:
            ctx.say(
                ctx.t(
                    "Which department? For example {command} {example}.",
                    command=command,
                    example=mine[0] if mine else "buergerbuero",
                )
            )
            return ""
        department = mine[0]
    if department not in mine:
        raise NotAllowed("Only staff of that department can see its queue.")
    return department


@router.command(
    "queue",
    "warteschlange",
    roles=["staff"],
    help=N_("staff: open cases of your department, oldest first"),
)
async def queue(ctx: Ctx, args: str) -> None:
    await show_queue(ctx, args)


@router.action("staff.queue", roles=["staff"])
async def show_queue(ctx: Ctx, args: str) -> None:
    department = queue_department(ctx, args, "/queue")
    if not department:
        return
    found, total = await cases.queue(ctx.uow, department)
    name = cases.department_name(ctx.city, department, ctx.lang)
    if not found:
        ctx.say(ctx.t("No open cases for {department}. 🎉", department=name))
        return
    lines = [
        ctx.t("Open cases for {department}: {total}, oldest first", department=name, total=total)
    ]
    for case in found:
        lines.append(
            ctx.t(
                "{ref} · {title} · {status} · {days} · {who}",
                ref=case.reference,
                title=ctx.t(cases.title_of(case.form)),
                status=status_word(ctx, case),
                days=i18n.counted(
                    "{n} day", "{n} days", cases.age_days(case, ctx.today(), ctx.city)
                ),
                who=case.assignee_name or ctx.t("nobody yet"),
            )
        )
    buttons = [Button(c.reference, "staff.details", c.reference) for c in found[:10]]
    ctx.say("\n".join(lines), buttons)
