"""The resident's applications: list, details with history, answers to questions, more
information, the receipt, withdrawing."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from flows.applications import receipt
from flows.case_views import decision_lines, event_line, file_name, send_files, status_word
from flows.context import Ctx
from flows.forms import store_attachment
from flows.menu import back_to_menu
from flows.registry import Router
from flows.staff import show_details
from flows.types import Button
from services.cases import actions as case_actions
from services.cases import records as cases
from services.cases.records import Case
from services.cases.rules import APPROVED, OPEN_STATUSES, QUESTION, REJECTED
from services.errors import NotFound
from services.i18n import N_

router = Router("cases")
router.menu(
    N_("My applications"),
    "case.list",
    order=45,
    keywords=["meine anträge", "my applications", "anträge", "vorgang", "vorgänge", "cases"],
)


@router.command("cases", "antraege", help=N_("your applications and where they stand"))
async def cases_command(ctx: Ctx, args: str) -> None:
    await list_cases(ctx, "")


@router.action("case.list")
async def list_cases(ctx: Ctx, arg: str) -> None:
    found = await cases.list_own(ctx.uow, ctx.citizen_id)
    if not found:
        ctx.say(
            ctx.t("You have not sent any applications yet."),
            [ctx.button("Apply for something", "apply.menu"), back_to_menu(ctx)],
        )
        return
    lines = [ctx.t("Your applications:")]
    for case in found:
        lines.append(
            ctx.t(
                "{ref} · {title} · {status} · {date}",
                ref=case.reference,
                title=ctx.t(cases.title_of(case.form)),
                status=status_word(ctx, case),
                date=ctx.date(case.created_at.astimezone(ctx.city.tz).date()),
            )
        )
    buttons = [Button(c.reference, "case.show", c.reference) for c in found[:10]]
    ctx.say("\n".join(lines), [*buttons, back_to_menu(ctx)], private=True)


@router.command("case", "antrag_status", help=N_("show one application: /case AH-2026-000123"))
async def case_command(ctx: Ctx, args: str) -> None:
    if not args.strip():
        await list_cases(ctx, "")
        return
    if ctx.inbound.is_group and ctx.has_role("staff"):
        await show_details(ctx, args.strip())
        return
    try:
        await show_case(ctx, args.strip())
    except NotFound:
        if not ctx.has_role("staff"):
            raise
        await show_details(ctx, args.strip())  # staff looking a case up in their own chat


@router.action("case.show")
async def show_case(ctx: Ctx, ref: str) -> None:
    case = await cases.find_own(ctx.uow, ctx.citizen_id, ref)
    lines = [
        f"{ctx.t(cases.title_of(case.form))} – {case.reference}",
        ctx.t("Status: {status}", status=status_word(ctx, case)),
        ctx.t(
            "Department: {department}",
            department=cases.department_name(ctx.city, case.department, ctx.lang),
        ),
    ]
    if case.assignee_name:
        lines.append(ctx.t("Handled by: {name}", name=case.assignee_name))
    if case.expected_on and case.status in OPEN_STATUSES:
        lines.append(ctx.t("Decision expected by: {date}", date=ctx.date(case.expected_on)))
    lines += decision_lines(ctx, case)
    lines.append(ctx.t("History:"))
    for event in await cases.history(ctx.uow, case, for_staff=False):
        lines.append(event_line(ctx, event, await file_name(ctx, event)))
    buttons: list[Button] = []
    if case.status == QUESTION:
        buttons.append(ctx.button("Answer", "case.answer", case.reference))
    elif case.status in OPEN_STATUSES:
        buttons.append(ctx.button("Add information", "case.info", case.reference))
    if case.status == REJECTED and ctx.today() <= case_actions.objection_until(
        ctx.city, case.closed_at or case.updated_at
    ):
        buttons.append(ctx.button("Answer or object", "case.object", case.reference))
    if case.status == APPROVED and case.form == "transit":
        buttons.append(ctx.button("Buy the monthly pass", "transit.buy", case.reference))
    buttons.append(ctx.button("Receipt (PDF)", "case.receipt", case.reference))
    if await cases.case_files(ctx.uow, case):
        buttons.append(ctx.button("My files", "case.files", case.reference))
    if case.status in OPEN_STATUSES:
        buttons.append(ctx.button("Withdraw the application", "case.withdraw", case.reference))
    buttons += [ctx.button("My applications", "case.list"), back_to_menu(ctx)]
    ctx.say("\n".join(lines), buttons, private=True)


@router.action("case.answer")
async def answer_case(ctx: Ctx, ref: str) -> None:
    case = await cases.find_own(ctx.uow, ctx.citizen_id, ref)
    if case.status != QUESTION:
        await show_case(ctx, ref)
        return
    ctx.ask(
        "case.reply",
        ctx.t("Please type your answer for {ref}, or send a photo or PDF.", ref=case.reference),
        [ctx.button("Cancel", "case.show", case.reference)],
        ref=case.reference,
    )


@router.action("case.object")
async def object_case(ctx: Ctx, ref: str) -> None:
    case = await cases.find_own(ctx.uow, ctx.citizen_id, ref)
    if case.status != REJECTED:
        await show_case(ctx, ref)
        return
    ctx.ask(
        "case.objection",
        ctx.t(
            "What would you like to answer to the decision on {ref}? You can explain, object "
            "and send documents (photo or PDF). The department will look at it.",
            ref=case.reference,
        ),
        [ctx.button("Cancel", "case.show", case.reference)],
        ref=case.reference,
    )


async def _text_or_file(ctx: Ctx, record: Callable[..., Awaitable[Case]]) -> Case | None:
    """Pass what the resident sent (text, or a photo or PDF) to `record`; None if neither."""
    ref = str(ctx.data.get("ref", ""))
    inbound = ctx.inbound
    if inbound.attachments:
        stored = await store_attachment(ctx, inbound.attachments[0], f"case:{ref}"[:50])
        return await record(ctx.uow, ctx.city, ctx.citizen_id, ref, ctx.now, file=stored)
    if inbound.kind == "text":
        return await record(ctx.uow, ctx.city, ctx.citizen_id, ref, ctx.now, text=inbound.text)
    ctx.say(ctx.t("Please type your answer as text, or send a photo or PDF."))
    return None


@router.step("case.objection")
async def objection_given(ctx: Ctx) -> None:
    case = await _text_or_file(ctx, case_actions.object_to)
    if case is None:
        return
    ctx.done()
    ctx.say(
        ctx.t(
            "Thank you. Your answer on {ref} was passed on to the department; you will hear "
            "from them here.",
            ref=case.reference,
        ),
        [
            ctx.button("Answer or object", "case.object", case.reference),
            ctx.button("Show the application", "case.show", case.reference),
            back_to_menu(ctx),
        ],
    )


@router.action("case.info")
async def add_info(ctx: Ctx, ref: str) -> None:
    case = await cases.find_own(ctx.uow, ctx.citizen_id, ref)
    if case.status not in OPEN_STATUSES:
        ctx.say(ctx.t("This application is closed; nothing can be added any more."))
        await show_case(ctx, ref)
        return
    ctx.ask(
        "case.reply",
        ctx.t(
            "What would you like to add to {ref}? Type it, or send a photo or PDF.",
            ref=case.reference,
        ),
        [ctx.button("Cancel", "case.show", case.reference)],
        ref=case.reference,
    )


@router.step("case.reply")
async def reply_given(ctx: Ctx) -> None:
    case = await _text_or_file(ctx, case_actions.answer)
    if case is None:
        return
    ctx.done()
    ctx.say(
        ctx.t("Thank you, this was passed on to the staff handling {ref}.", ref=case.reference),
        [ctx.button("Show the application", "case.show", case.reference), back_to_menu(ctx)],
    )


@router.action("case.receipt")
async def send_receipt(ctx: Ctx, ref: str) -> None:
    case = await cases.find_own(ctx.uow, ctx.citizen_id, ref)
    ctx.say(
        ctx.t("Your receipt for {ref}:", ref=case.reference),
        [ctx.button("Show the application", "case.show", case.reference)],
        media=receipt(ctx, case),
        private=True,
    )


@router.action("case.files")
async def own_files(ctx: Ctx, ref: str) -> None:
    case = await cases.find_own(ctx.uow, ctx.citizen_id, ref)
    await send_files(ctx, case)


@router.action("case.withdraw")
async def withdraw_ask(ctx: Ctx, ref: str) -> None:
    case = await cases.find_own(ctx.uow, ctx.citizen_id, ref)
    ctx.say(
        ctx.t("Do you really want to withdraw application {ref}?", ref=case.reference),
        [
            ctx.button("Yes, withdraw", "case.withdraw_yes", case.reference),
            ctx.button("No, keep it", "case.show", case.reference),
        ],
    )


@router.action("case.withdraw_yes")
async def withdraw(ctx: Ctx, ref: str) -> None:
    case = await case_actions.withdraw(ctx.uow, ctx.city, ctx.citizen_id, ref, ctx.now)
    ctx.say(
        ctx.t("Application {ref} was withdrawn.", ref=case.reference),
        [ctx.button("My applications", "case.list"), back_to_menu(ctx)],
    )
