"""Free text in the main conversation, run: the destination flows/intent.py found, checked
against the person's roles, a code or reference looked up, an event found by its name; small
talk; and an honest "not understood" with the closest suggestions and the human helper. Also
learns the language of someone whose channel does not say it."""

from __future__ import annotations

from rapidfuzz import fuzz

from flows import intent
from flows.context import Ctx
from flows.menu import back_to_menu, show_main_menu
from flows.registry import REGISTRY, Router
from flows.types import Button
from services import codes, textmatch
from services.errors import DomainError
from services.events import booking as events
from services.identity import accounts as identity
from services.wallet import gifts, vouchers

router = Router("understand")
EVENT_SEARCH = 50  # upcoming events looked through for a name


def prepare() -> None:
    """Build the intent layer's word index now (it is built once per process)."""
    intent.tables()


def allowed(ctx: Ctx, action: str) -> bool:
    found = REGISTRY.action(action)
    return found is not None and (not found.roles or any(ctx.has_role(r) for r in found.roles))


async def route(ctx: Ctx, text: str) -> tuple[str, str]:
    """The action (and its argument) a free text in the main conversation leads to."""
    learn_language(ctx, text)
    understood = intent.classify(text)
    if understood.action in ("events.list", intent.UNKNOWN):
        event_id = await event_named(ctx, text)
        if event_id:
            return "events.show", str(event_id)
    if allowed(ctx, understood.action):
        return understood.action, understood.arg
    built = intent.tables()
    for key, score in understood.ranked:  # the next topic this person may use
        topic = built.topics[key]
        if score >= intent.MIN_SCORE and not topic.social:
            action, _sep, arg = topic.go.partition(":")
            if allowed(ctx, action):
                return action, arg
    return intent.UNKNOWN, ""


def learn_language(ctx: Ctx, text: str) -> None:
    """Someone who never chose a language and whose channel gives no hint writes clearly in
    the other language: answer in it from now on (an explicit /language always wins)."""
    inbound = ctx.inbound
    if inbound.language_hint or inbound.is_group or ctx.citizen.language_chosen:
        return
    guessed = textmatch.guess_language(text)
    if guessed and guessed != ctx.citizen.language:
        identity.detected_language(ctx.citizen, guessed)


async def event_named(ctx: Ctx, text: str) -> int | None:
    """The one upcoming event whose title holds a word of the text ("Weihnachtsmarkt")."""
    generic = intent.topic_words("events")  # "Konzert" asks for the list, not one concert
    words = [
        w
        for w in textmatch.words(text)
        if len(w) >= 5
        and w not in textmatch.GERMAN_MARKERS | textmatch.ENGLISH_MARKERS
        and not set(textmatch.forms(w)) & generic
    ]
    if not words:
        return None
    best: list[tuple[int, int]] = []
    for event in await events.upcoming(ctx.uow, ctx.now, limit=EVENT_SEARCH):
        title = textmatch.fold(event.title)
        score = sum(
            1 for w in words if w in title or (len(w) >= 6 and fuzz.partial_ratio(w, title) >= 90)
        )
        if score:
            best.append((score, event.id or 0))
    if not best:
        return None
    top = max(score for score, _id in best)
    winners = [event_id for score, event_id in best if score == top]
    return winners[0] if len(winners) == 1 else None


# ---------------------------------------------------------------- small talk
@router.action("talk.thanks")
async def thanks(ctx: Ctx, arg: str) -> None:
    ctx.say(ctx.t("You're welcome! Is there anything else I can do for you?"), [back_to_menu(ctx)])


@router.action("talk.hello")
async def hello(ctx: Ctx, arg: str) -> None:
    name = ctx.citizen.first_name
    ctx.say(ctx.t("Hello {name}!", name=name) if name else ctx.t("Hello!"))
    show_main_menu(ctx)


@router.action("talk.bye")
async def bye(ctx: Ctx, arg: str) -> None:
    ctx.done()
    ctx.say(ctx.t("Goodbye! Write to me any time you need something."))


# ---------------------------------------------------------------- not understood
@router.action(intent.UNKNOWN)
async def not_understood(ctx: Ctx, arg: str) -> None:
    text = ctx.inbound.text if ctx.inbound.kind == "text" else arg
    closest = intent.suggestions(text, intent.classify(text), limit=4)
    buttons: list[Button] = []
    for topic in closest:
        action, _sep, target = topic.go.partition(":")
        if action != "helper.start" and allowed(ctx, action) and len(buttons) < 3:
            buttons.append(ctx.button(topic.label, action, target))
    ctx.say(
        ctx.t(
            "Sorry, I did not understand that. Did you mean one of these? "
            "You can also talk to a person or type /help."
        ),
        [*buttons, ctx.button("Talk to a person", "helper.start"), back_to_menu(ctx)],
    )
    ctx.replies[-1].again = ctx.t("What would you like to do?")  # shown again: no apology


# ---------------------------------------------------------------- a reference or a code
@router.action("case.find")
async def find_case(ctx: Ctx, ref: str) -> None:
    """A case reference typed in the chat: as `/case REF` (the person's own case; staff in
    their room or chat see it as staff)."""
    from flows.cases import case_command

    await case_command(ctx, ref)


@router.action("code.check")
async def check_code(ctx: Ctx, text: str) -> None:
    """A voucher, ticket or gift code typed alone goes where its QR code's link would."""
    from flows.events import ticket_link
    from flows.vouchers import claim, voucher_link

    try:
        code = codes.parse_code(text, vouchers.CODE_LENGTH)
    except codes.CodeTypo:
        ctx.say(
            ctx.t(
                "This code has a typo: one character is wrong. Please check it and type it again."
            ),
            [back_to_menu(ctx)],
        )
        return
    except ValueError:
        code = ""
    if code and await vouchers.by_code(ctx.uow, code) is not None:
        await voucher_link(ctx, code)
    elif code and await _is_ticket(ctx, code):
        await ticket_link(ctx, code)
    elif code and await gifts.pending(ctx.uow, code) is not None:
        await claim(ctx, code)
    else:
        ctx.say(
            ctx.t(
                "I do not know this code. Voucher, ticket and gift codes have 14 characters; "
                "please check it."
            ),
            [ctx.button("Wallet", "wallet.show"), back_to_menu(ctx)],
        )


async def _is_ticket(ctx: Ctx, code: str) -> bool:
    try:
        await events.ticket_by_code(ctx.uow, code)
    except DomainError:  # not a ticket code after all
        return False
    return True
