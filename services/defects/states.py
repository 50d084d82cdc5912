"""A report's states: finer inside, Open311's `open` and `closed` outside."""

from __future__ import annotations

from services.i18n import N_

SUBMITTED = "submitted"  # reported, nobody has taken it yet
IN_PROGRESS = "in_progress"  # a staff member handles it
QUESTION = "question"  # waiting for the reporter's answer
DONE = "done"  # fixed or otherwise dealt with; closed with a public note
NOT_OURS = "not_ours"  # not the town's responsibility; closed with the reason
REVIEW = "review"  # posted by an Open311 client whose reports staff check first; not public
REFUSED = "refused"  # refused in review (spam, nonsense); never public

OPEN_STATES = (SUBMITTED, IN_PROGRESS, QUESTION)
CLOSED_STATES = (DONE, NOT_OURS)
PUBLIC_STATES = OPEN_STATES + CLOSED_STATES

LABELS = {
    SUBMITTED: N_("reported"),
    IN_PROGRESS: N_("in progress"),
    QUESTION: N_("question to the reporter"),
    DONE: N_("done"),
    NOT_OURS: N_("not the town's responsibility"),
    REVIEW: N_("awaiting review"),
    REFUSED: N_("refused in review"),
}


def open311_status(status: str) -> str:
    return "open" if status in OPEN_STATES else "closed"


def states_for(open311: str) -> tuple[str, ...]:
    """The internal states behind an Open311 status (`open`, `closed`)."""
    return OPEN_STATES if open311 == "open" else CLOSED_STATES
