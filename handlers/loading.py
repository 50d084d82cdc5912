"""Everything one input needs to know, read in one statement: the channel account, the resident,
their conversation in this chat, their roles and, while a form is open, its draft. The first
contact of a person (no account yet) takes the longer way through `identity.contact`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, and_, bindparam, select

from flows.types import Inbound
from services import drafts
from storage.models.conversation import Conversation, FormDraft
from storage.models.identity import ChannelAccount, Citizen, RoleGrant
from storage.uow import UnitOfWork


@dataclass
class Loaded:
    account: ChannelAccount
    citizen: Citizen
    conversation: Conversation | None
    roles: set[tuple[str, str]] = field(default_factory=set)


def _statement() -> Select[Any]:
    """Built once: constructing and keying a statement of this size costs more than running it."""
    form = Conversation.data["form"].as_string()
    return (
        select(ChannelAccount, Citizen, Conversation, FormDraft, RoleGrant.role, RoleGrant.scope)
        .join(Citizen, Citizen.id == ChannelAccount.citizen_id)
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
        .where(
            ChannelAccount.channel == bindparam("channel"),
            ChannelAccount.external_id == bindparam("user_id"),
        )
    )


LOAD = _statement()


async def load(uow: UnitOfWork, inbound: Inbound) -> Loaded | None:
    """None when this channel account is not known yet."""
    params = {"channel": inbound.channel, "user_id": inbound.user_id, "chat_id": inbound.chat_id}
    rows = (await uow.session.execute(LOAD, params)).all()  # a row per role (one if none)
    if not rows:
        return None
    account, citizen, conversation, draft, _role, _scope = rows[0]
    roles = {("resident", "")} | {(r, s) for *_, r, s in rows if r is not None}
    if conversation is not None and isinstance(conversation.data, dict):
        key = conversation.data.get("form")
        if isinstance(key, str):  # the join looked for exactly this draft
            drafts.remember(uow, account.citizen_id, key, draft)
    return Loaded(account, citizen, conversation, roles)
