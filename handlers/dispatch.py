"""Turns one Inbound into replies: resolve the person, load the conversation, route to the
flow step, keep the state, commit once. Errors become friendly answers, never stack traces."""

from __future__ import annotations

import copy
import functools
import logging
import re
import time
import unicodedata
from dataclasses import dataclass, replace
from datetime import datetime
from typing import cast

from sqlalchemy import Table, Update, bindparam, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError

from flows import understand
from flows.context import Ctx
from flows.menu import show_main_menu
from flows.registry import REGISTRY, Registry
from flows.types import Button, Inbound, Reply
from handlers import loading, menus, picking, rooms
from handlers.locks import KeyedLocks
from services import i18n, log_context
from services.city import City
from services.clock import Clock
from services.env import Env
from services.errors import DomainError
from services.identity import accounts as identity
from storage.db import Database
from storage.models.conversation import Conversation, Menu, ProcessedUpdate
from storage.uow import UnitOfWork, rows_changed

log = logging.getLogger(__name__)

MAX_TEXT = 4000  # longer messages are refused (Telegram itself allows 4096)
MAX_ATTEMPTS = 3  # a conversation changed by another replica meanwhile: try again


_PROCESSED = cast(Table, ProcessedUpdate.__table__)  # type: ignore[attr-defined]
# statements of every input, built once (building and keying them costs more than running them)
_RECORD_PG = pg_insert(_PROCESSED).on_conflict_do_nothing().returning(_PROCESSED.c.key)
_RECORD_SQLITE = sqlite_insert(_PROCESSED).on_conflict_do_nothing().returning(_PROCESSED.c.key)
_CONVERSATION = cast(Table, Conversation.__table__)  # type: ignore[attr-defined]
_SAVE_CONVERSATION = (
    _CONVERSATION.update()
    .where(
        _CONVERSATION.c.id == bindparam("b_id"),
        _CONVERSATION.c.version == bindparam("b_version"),
    )
    .values(
        {
            column: bindparam(f"b_{name}", type_=_CONVERSATION.c[column].type)
            for column, name in (
                ("version", "new_version"),
                ("step", "step"),
                ("data", "data"),
                ("citizen_id", "citizen_id"),
                ("updated_at", "updated_at"),
            )
        }
    )
)


MENUS_ALONG = 4  # PostgreSQL: up to this many menus are written with the conversation
_FIND_CONVERSATION = select(Conversation).where(
    Conversation.channel == bindparam("channel"),
    Conversation.chat_id == bindparam("chat_id"),
    Conversation.user_id == bindparam("user"),
)


@functools.cache
def _save_with_menus(count: int) -> Update:
    """Saving the conversation with `count` menus inserted in CTEs of the same statement, one
    single-row INSERT per menu (SQLAlchemy does not cache multi-row VALUES: it would compile
    the statement at every input)."""
    inserts = [
        insert(menus.MENUS)
        .values(
            {
                column.name: bindparam(f"m{number}_{column.name}", type_=column.type)
                for column in menus.MENUS.c
            }
        )
        .cte(f"new_menu_{number}")
        for number in range(count)
    ]
    return _SAVE_CONVERSATION.add_cte(*inserts)


async def _write_new(uow: UnitOfWork) -> None:
    """Write what the unit added (a new conversation, a first contact's account). No savepoint:
    a row someone else wrote meanwhile means beginning the unit again."""
    try:
        await uow.session.flush()
    except IntegrityError:
        raise _Retry() from None


class _Retry(Exception):
    """The conversation moved on under us (another replica); run the input again."""


class _Answered(Exception):
    """Routing already answered (e.g. an ambiguous label): nothing more to run."""


@dataclass
class _Route:
    kind: str  # "action", "step", "command", "text"
    name: str = ""
    arg: str = ""


class Dispatcher:
    def __init__(
        self,
        db: Database,
        env: Env,
        registry: Registry = REGISTRY,
    ) -> None:
        self.db = db
        self.env = env
        self.registry = registry
        self.locks = KeyedLocks()
        understand.prepare()  # the word index (~0.5 s once), not during someone's first message

    @property
    def city(self) -> City:
        return self.env.city

    @property
    def clock(self) -> Clock:
        return self.env.clock

    async def handle(self, inbound: Inbound) -> list[Reply]:
        started = time.perf_counter()
        try:
            with log_context.bind(channel=inbound.channel):
                return await self._handle(_encodable(inbound))
        finally:
            self.db.observer.timing("input", time.perf_counter() - started, channel=inbound.channel)

    async def _handle(self, inbound: Inbound) -> list[Reply]:
        async with self.locks.hold((inbound.channel, inbound.chat_id, inbound.user_id)):
            try:
                for _attempt in range(MAX_ATTEMPTS):
                    try:
                        return await self._handle_once(inbound)
                    except _Retry:
                        continue
                log.warning("conversation kept changing, gave up")  # ids: the log context
            except Exception:
                log.exception("could not handle an input")
            lang = i18n.normalise_language(inbound.language_hint or self.city.default_language)
            return [
                Reply(
                    text=i18n.translate(
                        lang, "Sorry, I cannot answer right now. Please try again in a moment."
                    )
                )
            ]

    # ------------------------------------------------------------------ one input
    async def _handle_once(self, inbound: Inbound) -> list[Reply]:
        """One transaction: read everything in one statement, run the step, write at the end.
        A step that fails rolls the whole unit back; the answer to the failure is then written
        in the same unit of work afresh (no savepoint on the way of every input)."""
        async with self.db.uow() as uow:
            now = self.clock.now()
            begun = await self._begin(uow, inbound, now)
            if isinstance(begun, list):
                return begun
            ctx, conversation = begun
            language = ctx.citizen.language
            try:
                await self._route(ctx, conversation)
            except DomainError as error:
                if error.keep_changes:  # a counted failed attempt stays: nothing is undone
                    self._restore(ctx, conversation)
                else:
                    begun = await self._again(uow, inbound, now)
                    if isinstance(begun, list):
                        return begun
                    ctx, conversation = begun
                ctx.say(ctx.t(error.message, **error.params))
                await self._repeat_current(ctx, conversation)
            except _Retry:
                raise
            except Exception:
                log.exception("flow failed: step=%s kind=%s", conversation.step, inbound.kind)
                begun = await self._again(uow, inbound, now)
                if isinstance(begun, list):
                    return begun
                ctx, conversation = begun
                show_main_menu(
                    ctx,
                    ctx.t(
                        "Sorry, something went wrong on our side. "
                        "Nothing was changed. Please try again."
                    ),
                )
                ctx.step, ctx.data = conversation.step, copy.deepcopy(conversation.data)
            if not ctx.forgotten and ctx.citizen.language != language:
                await self._outdate_other_menus(uow, ctx, conversation)
            replies = await self._finish(uow, ctx, conversation, now)
            await uow.commit()
            return replies

    async def _outdate_other_menus(
        self, uow: UnitOfWork, ctx: Ctx, conversation: Conversation
    ) -> None:
        """The resident switched language: the menus of their other chats (a staff room, a
        linked channel) are in the old one, so they are outdated there, never shown again."""
        await uow.session.execute(
            update(Conversation)
            .where(
                Conversation.citizen_id == ctx.citizen_id,
                Conversation.id != conversation.id,
            )
            .values(version=Conversation.version + 1)
            .execution_options(synchronize_session=False)
        )

    async def _begin(
        self, uow: UnitOfWork, inbound: Inbound, now: datetime
    ) -> list[Reply] | tuple[Ctx, Conversation]:
        """Record the update, find the person and their conversation: the context of the step,
        or the whole answer (nothing for a duplicate, the refusal in a foreign staff room)."""
        loaded: loading.Loaded | None = None
        read = False
        if inbound.key and uow.dialect == "postgresql":  # recorded and read in one round trip
            first, loaded = await loading.record_and_load(uow, inbound, now)
            if not first:
                log.info("duplicate update ignored: %s %s", inbound.channel, inbound.key)
                return []
            read = True
        elif inbound.key and not await self._first_time(uow, inbound, now):
            return []
        refused = await rooms.refusal(uow, self.city, inbound)
        if refused is not None:  # a staff room, and not its staff: nothing else happens
            await uow.commit()
            return [refused]
        private_chat = not inbound.is_group
        if not read:
            loaded = await loading.load(uow, inbound)
        if loaded is None:  # first contact: the load found no account
            try:
                citizen, account = await identity.contact(
                    uow,
                    channel=inbound.channel,
                    external_id=inbound.user_id,
                    chat_id=inbound.chat_id,
                    now=now,
                    display_name=inbound.display_name,
                    language_hint=inbound.language_hint,
                    default_language=self.city.default_language,
                    private_chat=private_chat,
                    known_new=True,
                    written=False,  # with the conversation, below
                )
            except IntegrityError:  # their first message was just handled elsewhere
                raise _Retry() from None
            roles = {("resident", "")}  # a resident created this moment holds no other role
            conversation = await self._conversation(uow, inbound, citizen.id or 0, now)
        else:
            citizen, account, roles = loaded.citizen, loaded.account, loaded.roles
            identity.wrote(account, chat_id=inbound.chat_id, private_chat=private_chat)
            if loaded.conversation is None:
                conversation = await self._conversation(uow, inbound, citizen.id or 0, now)
            else:
                conversation = loaded.conversation
                if conversation.citizen_id != citizen.id:  # linked to another resident meanwhile
                    conversation.citizen_id = citizen.id or 0
        log_context.add(conversation=conversation.id)
        ctx = Ctx(
            uow=uow,
            now=now,
            env=self.env,
            citizen=citizen,
            account=account,
            inbound=inbound,
            roles=roles,
            step=conversation.step,
            data=copy.deepcopy(conversation.data),
        )
        return ctx, conversation

    async def _again(
        self, uow: UnitOfWork, inbound: Inbound, now: datetime
    ) -> list[Reply] | tuple[Ctx, Conversation]:
        """After a failed step: undo the whole unit and begin it again, to answer the failure."""
        await uow.rollback()
        uow.session.expunge_all()  # read everything afresh, as it is after the rollback
        return await self._begin(uow, inbound, now)

    async def _first_time(self, uow: UnitOfWork, inbound: Inbound, now: datetime) -> bool:
        """Record the update's key; False when it was recorded before (a redelivery)."""
        statement = _RECORD_PG if uow.dialect == "postgresql" else _RECORD_SQLITE
        params = {"channel": inbound.channel, "key": inbound.key, "at": now}
        if (await uow.session.execute(statement, params)).first() is None:
            log.info("duplicate update ignored: %s %s", inbound.channel, inbound.key)
            return False
        return True

    async def _conversation(
        self, uow: UnitOfWork, inbound: Inbound, citizen_id: int, now: object
    ) -> Conversation:
        params = {"channel": inbound.channel, "chat_id": inbound.chat_id, "user": inbound.user_id}
        found = (await uow.session.execute(_FIND_CONVERSATION, params)).scalar_one_or_none()
        if found is not None:
            if found.citizen_id != citizen_id:  # linked to another resident meanwhile
                found.citizen_id = citizen_id
            if uow.session.new:  # a first contact's new account
                await _write_new(uow)
            return found
        conversation = Conversation(
            channel=inbound.channel,
            chat_id=inbound.chat_id,
            user_id=inbound.user_id,
            citizen_id=citizen_id,
            updated_at=now,  # type: ignore[arg-type]
        )
        uow.session.add(conversation)
        await _write_new(uow)
        return conversation

    def _restore(self, ctx: Ctx, conversation: Conversation) -> None:
        """After a failure that keeps its changes: forget the step's answers and state."""
        ctx.replies = []
        ctx.step = conversation.step
        ctx.data = copy.deepcopy(conversation.data)

    # ------------------------------------------------------------------ routing
    async def _route(self, ctx: Ctx, conversation: Conversation) -> None:
        inbound = ctx.inbound
        if inbound.kind == "command":
            await self._command(ctx, inbound.command.lower(), inbound.text.strip())
            return
        if inbound.kind in ("choice", "reaction"):
            await self._choice(ctx, conversation, inbound.choice)
            return
        text = _clean(inbound.text)
        if inbound.kind == "text":
            if len(inbound.text) > MAX_TEXT:
                ctx.say(
                    ctx.t(
                        "That message is too long for me ({length} characters). "
                        "Please keep it under {max} characters.",
                        length=len(inbound.text),
                        max=MAX_TEXT,
                    )
                )
                await self._repeat_current(ctx, conversation)
                return
            if not text:
                ctx.say(
                    ctx.t(
                        "I received an empty message. Please write a few words or "
                        "choose from the menu."
                    )
                )
                await self._repeat_current(ctx, conversation)
                return
            try:
                picked = await self._pick_from_menu(ctx, conversation, text)
            except _Answered:
                return
            if picked is not None:
                await self._run_button(ctx, picked)
                return
        step = self.registry.step(ctx.step) if ctx.step else None
        if step is not None:
            await step.handler(ctx)
            return
        if inbound.kind == "text":  # free text: the intent layer decides (flows/intent.py)
            await self._run_action(ctx, *await understand.route(ctx, text))
            return
        show_main_menu(
            ctx, ctx.t("I cannot do anything with this here. Please choose from the menu.")
        )

    async def _command(self, ctx: Ctx, name: str, args: str) -> None:
        if name == "start" and args:
            prefix, _sep, rest = args.partition("-")
            handler = self.registry.deeplink(prefix)
            if handler is not None:
                ctx.step = ""
                await handler(ctx, rest)
                return
        action = self.registry.command(name)
        if action is None:
            show_main_menu(
                ctx,
                ctx.t("I don't know the command /{name}. Here is what I can do:", name=name[:40]),
            )
            return
        if not self._allowed(ctx, action.roles):
            return
        ctx.step = ""
        await action.handler(ctx, args)

    async def _choice(self, ctx: Ctx, conversation: Conversation, token: str) -> None:
        unpacked = menus.unpack(token)
        menu = await ctx.uow.session.get(Menu, unpacked[0]) if unpacked else None
        if (
            unpacked is None
            or menu is None
            or menu.channel != ctx.inbound.channel
            or menu.chat_id != ctx.inbound.chat_id
            or not 0 <= unpacked[1] < len(menu.buttons)
            or not menu.buttons[unpacked[1]].get("action")  # a link: opened, never pressed
        ):
            log.warning("refused button %r", token[:80])
            ctx.say(ctx.t("This button is not valid here."))
            await self._repeat_current(ctx, conversation)
            return
        if menu.conversation_id is not None and (
            menu.conversation_id != conversation.id or menu.generation != conversation.version
        ):
            ctx.say(ctx.t("This menu is outdated. Here is the current one:"))
            await self._repeat_current(ctx, conversation, or_main=True)
            return
        button = menus.rows_to_buttons(menu.buttons)[unpacked[1]]
        await self._run_button(ctx, button)

    async def _pick_from_menu(
        self, ctx: Ctx, conversation: Conversation, text: str
    ) -> Button | None:
        """A typed number or label that picks an option: the rule is in handlers/picking.py."""
        if conversation.id is None:
            return None
        current, notices = await menus.menus_to_pick_from(
            ctx.uow,
            conversation_id=conversation.id,
            generation=conversation.version,
            channel=ctx.inbound.channel,
            chat_id=ctx.inbound.chat_id,
            notices=picking.RECENT_NOTICES,
        )
        step = self.registry.step(ctx.step) if ctx.step else None
        found = picking.pick(text, current, notices, numbers=picking.numbers_pick(step, ctx))
        if found.ambiguous:
            ctx.say(picking.ambiguous_text(ctx.lang, found))
            await self._repeat_current(ctx, conversation)
            raise _Answered()
        return found.button

    async def _run_button(self, ctx: Ctx, button: Button) -> None:
        await self._run_action(ctx, button.action, button.arg)

    async def _run_action(self, ctx: Ctx, name: str, arg: str) -> None:
        action = self.registry.action(name)
        if action is None:
            log.error("button points to unknown action %r", name)
            show_main_menu(ctx, ctx.t("This option is no longer available."))
            return
        if not self._allowed(ctx, action.roles):
            return
        ctx.step = ""
        await action.handler(ctx, _SURROGATE.sub("", arg))  # an old menu's argument, too

    def _allowed(self, ctx: Ctx, roles: frozenset[str]) -> bool:
        if not roles or any(ctx.has_role(role) for role in roles):
            return True
        ctx.say(ctx.t("Sorry, only authorised staff can do this. Nothing was changed."))
        return False

    async def _repeat_current(
        self, ctx: Ctx, conversation: Conversation, *, or_main: bool = False
    ) -> None:
        """Show the latest menu again so the person can go on."""
        if conversation.id is not None:
            current = await menus.current_menus(ctx.uow, conversation.id, conversation.version)
            if current:
                last = current[-1]
                ctx.say(last.text or "", menus.rows_to_buttons(last.buttons))
                return
        if or_main:
            show_main_menu(ctx)
            ctx.step = conversation.step

    # ------------------------------------------------------------------ finishing
    async def _finish(
        self, uow: UnitOfWork, ctx: Ctx, conversation: Conversation, now: object
    ) -> list[Reply]:
        generation = conversation.version + 1
        if ctx.forgotten:
            for reply in ctx.replies:
                reply.buttons = [b for b in reply.buttons if b.url]
            return ctx.replies
        waiting = self.registry.step(ctx.step) if ctx.step else None
        numbers = picking.numbers_pick(waiting, ctx)
        picking.style_answer(ctx.replies, numbers=numbers)
        asked = (ctx.step, ctx.data.get("field"))
        if not numbers and asked != (conversation.step, conversation.data.get("field")):
            # a new question (a form's field is one too): say once how its options are chosen
            named = [r for r in ctx.replies if r.options == "named"]
            if named:
                hint = picking.named_hint(ctx.lang, ctx.inbound.channel)
                named[-1].text = f"{named[-1].text}\n{hint}" if named[-1].text else hint
        rows = []
        for reply in ctx.replies:
            if any(b.action for b in reply.buttons):
                row = menus.menu_row(
                    channel=ctx.inbound.channel,
                    chat_id=ctx.inbound.chat_id,
                    text=reply.again or reply.text,
                    buttons=reply.buttons,
                    now=ctx.now,
                    conversation_id=conversation.id,
                    citizen_id=ctx.citizen_id,
                    generation=generation,
                )
                reply.menu = row["id"]
                rows.append(row)
        await uow.session.flush()  # what the step changed through the ORM (nothing: no statement)
        params = {
            "b_id": conversation.id,
            "b_version": conversation.version,
            "b_new_version": generation,
            "b_step": ctx.step,
            "b_data": ctx.data,
            "b_citizen_id": ctx.citizen_id,
            "b_updated_at": now,
        }
        if rows and len(rows) <= MENUS_ALONG and uow.dialect == "postgresql":
            for number, row in enumerate(rows):  # the menus ride along: one round trip
                params.update({f"m{number}_{name}": value for name, value in row.items()})
            result = await uow.session.execute(_save_with_menus(len(rows)), params)
        else:
            if rows:
                await uow.session.execute(menus.INSERT_MENUS, rows)
            result = await uow.session.execute(_SAVE_CONVERSATION, params)
        if rows_changed(result) != 1:
            raise _Retry()
        return ctx.replies


# lone surrogates ('\\ud800' is valid JSON, so a webhook or a Matrix event can carry one)
# cannot be written out as UTF-8; PostgreSQL's text cannot hold NUL
_SURROGATE = re.compile("[\x00\ud800-\udfff]")


def _encodable(inbound: Inbound) -> Inbound:
    """What no database or file can store is dropped at the door (see _SURROGATE)."""
    changed = {
        name: _SURROGATE.sub("", value)
        for name in ("text", "command", "choice", "display_name", "thread")
        if _SURROGATE.search(value := getattr(inbound, name))
    }
    if any(_SURROGATE.search(a.filename) for a in inbound.attachments):
        changed["attachments"] = tuple(  # type: ignore[assignment]
            replace(a, filename=_SURROGATE.sub("", a.filename)) for a in inbound.attachments
        )
    return replace(inbound, **changed) if changed else inbound  # type: ignore[arg-type]


def _clean(text: str) -> str:
    """Drop control and format characters (keep line breaks); trim."""
    kept = "".join(ch for ch in text if unicodedata.category(ch)[0] != "C" or ch in "\n\t")
    return kept.strip()
