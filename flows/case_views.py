"""How a case is shown, to its resident and to staff alike: status words, history lines and
the case's files."""

from __future__ import annotations

from datetime import date

from flows.context import Ctx
from flows.types import Media
from services import files, i18n
from services.cases import records as cases
from services.cases.records import Case, CaseEvent
from services.i18n import N_

EVENT_LINES = {
    "submitted": N_("sent"),
    "file": N_("file attached: {text}"),
    "taken": N_("{name} is handling it"),
    "question": N_("question from {name}: {text}"),
    "answer": N_("your answer: {text}"),
    "info": N_("you added: {text}"),
    "approved": N_("approved by {name}"),
    "rejected": N_("not approved: {text}"),
    "withdrawn": N_("withdrawn by you"),
    "note": N_("note by {name}: {text}"),
    "pass": N_("monthly pass issued: {text}"),
    "permit": N_("permit issued: {text}"),
    "objection": N_("your answer or objection: {text}"),
    "reopened": N_("looked at again by {name}"),
    "identity": N_("identity check pending: this application needs an identity checked in person"),
}


def decision_lines(ctx: Ctx, case: Case) -> list[str]:
    """What the approval decided, as the resident (and staff) read it in the case."""
    decided = case.decision or {}
    lines = []
    if "tag" in decided:
        lines.append(ctx.t("Dog tag number: {tag}", tag=decided["tag"]))
        lines.append(
            ctx.t("Dog tax: exempt")
            if decided.get("exempt")
            else ctx.t(
                "Dog tax: {yearly} a year; {this_year} for {year}",
                yearly=ctx.money(int(decided["yearly_cents"])),
                this_year=ctx.money(int(decided["this_year_cents"])),
                year=decided["year"],
            )
        )
    if "daycare_name" in decided:
        lines.append(ctx.t("Daycare place at: {daycare}", daycare=decided["daycare_name"]))
    if "fee_cents" in decided:
        lines.append(
            ctx.t(
                "Permit: {area} m², {first} to {last}, fee {fee}",
                area=i18n.number(decided["area"]),
                first=ctx.date(date.fromisoformat(decided["first_day"])),
                last=ctx.date(date.fromisoformat(decided["last_day"])),
                fee=ctx.money(int(decided["fee_cents"])),
            )
        )
    return lines


def status_word(ctx: Ctx, case: Case) -> str:
    return ctx.t(cases.STATUS_LABELS.get(case.status, case.status))


def event_line(ctx: Ctx, event: CaseEvent, text: str | None = None) -> str:
    template = EVENT_LINES.get(event.kind)
    shown = text if text is not None else event.text or ""
    what = ctx.t(template, name=event.actor_name or "", text=shown) if template else ""
    return f"{ctx.datetime(event.at)} – {what}"


async def file_name(ctx: Ctx, event: CaseEvent) -> str | None:
    if event.file_id is None:
        return None
    stored = await files.get(ctx.uow, event.file_id)
    name = (stored.filename if stored else "") or ""
    return f"{event.text} ({name})" if event.text else name


async def send_files(ctx: Ctx, case: Case) -> None:
    """The case's files; callers have checked that this person may see them."""
    file_ids = await cases.case_files(ctx.uow, case)
    for file_id in file_ids:
        stored = await files.get(ctx.uow, file_id)
        if stored is None:
            continue
        kind = "image" if stored.mime.startswith("image/") else "document"
        ctx.say(
            f"{case.reference}: {stored.filename}",
            media=Media(kind, stored.filename or "file", stored.mime, stored.data),
            private=True,
        )
    if not file_ids:
        ctx.say(ctx.t("There are no files in {ref}.", ref=case.reference))
