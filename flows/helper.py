"""Talking to a person: "Mensch" or /lotse connects the resident with the Digitallotsen."""

from __future__ import annotations

import functools

from flows.context import Ctx
from flows.menu import show_main_menu
from flows.registry import Router
from flows.staff import actor, still_waiting
from services import workdays
from services.cases import helpdesk
from services.cases.rules import in_office_hours, next_opening, rules
from services.i18n import N_

router = Router("helper")
router.menu(
    N_("Talk to a person"),
    "helper.start",
    order=850,
    keywords=["mensch", "lotse", "digitallotse", "human", "talk to a person"],
)


@router.command("lotse", "mensch", "human", help=N_("talk to a person (Digitallotse)"))
async def lotse_command(ctx: Ctx, args: str) -> None:
    await start(ctx, "")
    if args.strip() and ctx.step == "helper.chat":
        await helpdesk.from_resident(ctx.uow, ctx.city, ctx.citizen_id, args, ctx.now)


@router.action("helper.start")
async def start(ctx: Ctx, arg: str) -> None:
    if ctx.inbound.is_group:
        ctx.say(ctx.t("Please write to me in a private chat to talk to a person."))
        return
    session, created = await helpdesk.start(ctx.uow, ctx.city, ctx.citizen_id, ctx.now)
    lines = [
        ctx.t("I am connecting you with our Digitallotsen, people from the town who help.")
        if created
        else ctx.t("You are still connected with our Digitallotsen.")
    ]
    town = rules(ctx.city)
    open_day = functools.partial(workdays.is_open_day, ctx.city)
    if not in_office_hours(town, ctx.now, ctx.city.tz, open_day):
        opening = next_opening(town, ctx.now, ctx.city.tz, open_day)
        holiday = workdays.holiday_name(ctx.city, ctx.today())
        if holiday:
            lines.append(ctx.t("Today is a public holiday ({holiday}).", holiday=holiday))
        lines.append(
            ctx.t(
                "They are not in the office right now. Someone will answer from {when}; "
                "your messages are kept until then.",
                when=ctx.datetime(opening) if opening else "–",
            )
        )
    lines.append(
        ctx.t(
            "Write your message; everything you write here is passed on. "
            'To stop, press "End the conversation".'
        )
    )
    _wait_for_message(ctx, "\n".join(lines), session.id or 0)


def _wait_for_message(ctx: Ctx, text: str, session_id: int) -> None:
    ctx.ask(
        "helper.chat",
        text,
        [ctx.button("End the conversation", "helper.end", str(session_id))],
        session=session_id,
    )


@router.step("helper.chat")
async def resident_message(ctx: Ctx) -> None:
    if ctx.inbound.kind != "text":
        ctx.say(ctx.t("Please write in words; our helpers cannot receive files here."))
        return
    if await helpdesk.current(ctx.uow, ctx.citizen_id) is None:
        show_main_menu(
            ctx,
            ctx.t(
                "This conversation with our helpers has ended. Write "
                '"Mensch" whenever you need a person again.'
            ),
        )
        return
    session = await helpdesk.from_resident(
        ctx.uow, ctx.city, ctx.citizen_id, ctx.inbound.text, ctx.now
    )
    _wait_for_message(ctx, ctx.t("✓ Passed on."), session.id or 0)


@router.action("helper.resume")
async def resume(ctx: Ctx, arg: str) -> None:
    session = await helpdesk.current(ctx.uow, ctx.citizen_id)
    if session is None:
        show_main_menu(ctx, ctx.t("This conversation with our helpers has ended."))
        return
    _wait_for_message(ctx, ctx.t("Write your answer:"), session.id or 0)


@router.action("helper.end")
async def end(ctx: Ctx, arg: str) -> None:
    await helpdesk.end_by_resident(ctx.uow, ctx.city, ctx.citizen_id, ctx.now)
    show_main_menu(
        ctx,
        ctx.t(
            'The conversation has ended. Thank you! Write "Mensch" whenever '
            "you need a person again."
        ),
    )


# ---------------------------------------------------------------- the helpdesk room
@router.action("helper.reply", roles=["staff"])
async def staff_reply(ctx: Ctx, ref: str) -> None:
    session = await helpdesk.check_staff(ctx.uow, actor(ctx), ref)
    ctx.ask(
        "helper.staff_text",
        ctx.t("Your answer to {ref}:", ref=helpdesk.thread_ref(session)),
        [ctx.button("Cancel", "helper.cancel_reply")],
        session=session.id,
        asked_at=ctx.now.isoformat(),
    )


@router.step("helper.staff_text")
async def staff_text(ctx: Ctx) -> None:
    if not still_waiting(ctx):
        return
    if ctx.inbound.kind != "text":
        ctx.say(ctx.t("Please type the answer as text."))
        return
    session = await helpdesk.from_staff(
        ctx.uow, actor(ctx), str(ctx.data.get("session")), ctx.inbound.text, ctx.now
    )
    ctx.done()
    ctx.say(ctx.t("Sent to {ref}.", ref=helpdesk.thread_ref(session)))


@router.action("helper.cancel_reply", roles=["staff"])
async def cancel_reply(ctx: Ctx, arg: str) -> None:
    ctx.done()
    ctx.say(ctx.t("Nothing was sent."))


@router.command(
    "reply", "antwort", roles=["staff"], help=N_("Digitallotsen: /reply L-12 your answer")
)
async def reply_command(ctx: Ctx, args: str) -> None:
    ref, _sep, text = args.strip().partition(" ")
    if not ref or not text.strip():
        ctx.say(
            ctx.t(
                "Please write /reply, the conversation number and your answer, for "
                "example /reply L-12 Hello!"
            )
        )
        return
    session = await helpdesk.from_staff(ctx.uow, actor(ctx), ref, text, ctx.now)
    ctx.say(ctx.t("Sent to {ref}.", ref=helpdesk.thread_ref(session)))


@router.action("helper.close", roles=["staff"])
async def staff_close(ctx: Ctx, ref: str) -> None:
    session = await helpdesk.end_by_staff(ctx.uow, actor(ctx), ref, ctx.now)
    ctx.say(
        ctx.t(
            "Conversation {ref} ended. The resident has been told.",
            ref=helpdesk.thread_ref(session),
        )
    )
