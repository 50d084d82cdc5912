"""Everything one input needs to know, read in one statement: the channel account, the resident,
their conversation in this chat, their roles and, while a form is open, its draft. The first
contact of a person (no account yet) takes the longer way through `identity.contact`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import JSON, Select, Table, and_, bindparam, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert

from flows.types import Inbound
from handlers import menus, picking
from services import drafts
from storage.models.conversation import Conversation, FormDraft, ProcessedUpdate
from storage.models.identity import ChannelAccount, Citizen, RoleGrant
from storage.uow import UnitOfWork


@dataclass
class Loaded:
    account: ChannelAccount
    citizen: Citizen
    conversation: Conversation | None
    roles: set[tuple[str, str]] = field(default_factory=set)


ENTITIES = (ChannelAccount, Citizen, Conversation, FormDraft, RoleGrant.role, RoleGrant.scope)


THE_ACCOUNT = and_(
    ChannelAccount.channel == bindparam("channel"),
    ChannelAccount.external_id == bindparam("user_id"),
)


def _with_the_rest(query: Select[Any]) -> Select[Any]:
    """The resident, the conversation in this chat, the open form's draft and the roles of an
    account already in `query`."""
    form = Conversation.data["form"].as_string()
    return (
        query.outerjoin(Citizen, Citizen.id == ChannelAccount.citizen_id)
        .outerjoin(
            Conversation,
            and_(
                Conversation.channel == ChannelAccount.channel,
                Conversation.user_id == ChannelAccount.external_id,
                Conversation.chat_id == bindparam("chat_id"),
            ),
        )
        .outerjoin(
            FormDraft,
            and_(FormDraft.citizen_id == ChannelAccount.citizen_id, FormDraft.form == form),
        )
        .outerjoin(RoleGrant, RoleGrant.citizen_id == ChannelAccount.citizen_id)
    )


def _statement() -> Select[Any]:
    """Built once: constructing and keying a statement of this size costs more than running it."""
    return _with_the_rest(select(*ENTITIES).select_from(ChannelAccount)).where(THE_ACCOUNT)


def _recording_statement() -> Select[Any]:
    """PostgreSQL: record the update's key (INSERT ... ON CONFLICT DO NOTHING in a CTE) and
    load in the same round trip. No row: the key was recorded before (a redelivery); a row
    without an account: a first contact."""
    processed = cast(Table, ProcessedUpdate.__table__)  # type: ignore[attr-defined]
    recorded = (
        pg_insert(processed)
        .values(
            channel=bindparam("rec_channel"),
            key=bindparam("rec_key"),
            at=bindparam("rec_at", type_=processed.c.at.type),
        )
        .on_conflict_do_nothing()
        .returning(processed.c.key)
        .cte("recorded")
    )
    query = select(recorded.c.key, *ENTITIES, *_menus_to_pick_from()).select_from(recorded)
    return _with_the_rest(query.outerjoin(ChannelAccount, THE_ACCOUNT))


def _menus_to_pick_from() -> list[Any]:
    """The conversation's current menus and the chat's newest notification menus, each as one
    JSON array: what a typed number or label may pick from (handlers/picking.py), so a text
    input needs no statement of its own for them."""
    table = menus.MENUS
    current = (
        select(func.json_agg(menus.as_json_object(table.c), type_=JSON))
        .where(table.c.conversation_id == Conversation.id)
        .where(table.c.generation == Conversation.version)
        .scalar_subquery()
    )
    newest = (
        select(table)
        .where(
            table.c.channel == bindparam("channel"),
            table.c.chat_id == bindparam("chat_id"),
            table.c.conversation_id.is_(None),
        )
        .order_by(table.c.created_at.desc(), table.c.id.desc())
        .limit(picking.RECENT_NOTICES)
        .subquery()
    )
    notices = select(func.json_agg(menus.as_json_object(newest.c), type_=JSON)).scalar_subquery()
    return [current.label("menus_current"), notices.label("menus_notices")]


LOAD = _statement()
RECORD_AND_LOAD = _recording_statement()


def _params(inbound: Inbound) -> dict[str, Any]:
    return {"channel": inbound.channel, "user_id": inbound.user_id, "chat_id": inbound.chat_id}


async def load(uow: UnitOfWork, inbound: Inbound) -> Loaded | None:
    """None when this channel account is not known yet."""
    rows = (await uow.session.execute(LOAD, _params(inbound))).all()  # a row per role
    return _loaded(uow, [tuple(row) for row in rows])


async def record_and_load(
    uow: UnitOfWork, inbound: Inbound, now: datetime
) -> tuple[bool, Loaded | None]:
    """PostgreSQL only: (False, None) for an update recorded before; else (True, what `load`
    finds)."""
    params = _params(inbound) | {"rec_channel": inbound.channel, "rec_key": inbound.key}
    rows = (await uow.session.execute(RECORD_AND_LOAD, params | {"rec_at": now})).all()
    if not rows:
        return False, None
    loaded = _loaded(uow, [tuple(row)[1:-2] for row in rows])
    conversation = loaded.conversation if loaded is not None else None
    if conversation is not None and conversation.id is not None:
        *_, current, notices = rows[0]
        menus.remember_to_pick_from(
            uow,
            conversation_id=conversation.id,
            generation=conversation.version,
            current=current,
            notices=notices,
        )
    return True, loaded


def _loaded(uow: UnitOfWork, rows: list[tuple[Any, ...]]) -> Loaded | None:
    if not rows or rows[0][0] is None:
        return None
    account, citizen, conversation, draft, _role, _scope = rows[0]
    roles = {("resident", "")} | {(r, s) for *_, r, s in rows if r is not None}
    if conversation is not None and isinstance(conversation.data, dict):
        key = conversation.data.get("form")
        if isinstance(key, str):  # the join looked for exactly this draft
            drafts.remember(uow, account.citizen_id, key, draft)
    return Loaded(account, citizen, conversation, roles)
