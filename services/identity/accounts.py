"""Residents and their accounts: first contact, language, profile, roles and /link codes."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col

from services import codes
from services.audit import log_action
from services.errors import DomainError, InvalidInput, LimitReached, NotFound
from services.i18n import LANGUAGES, normalise_language
from services.identity import privacy
from services.identity.profile import PROFILE_FIELDS
from storage.models.identity import ROLES, LinkCode, RoleGrant
from storage.models.identity import ChannelAccount as ChannelAccount
from storage.models.identity import Citizen as Citizen
from storage.uow import UnitOfWork, rows_changed

LINK_CODE_LENGTH = 7  # 35 bits + check character; single use, 10 minutes, 5 tries
LINK_CODE_TTL = timedelta(minutes=10)
LINK_MAX_FAILURES = 5
LINK_BLOCK = timedelta(minutes=10)
SCOPED_ROLES = {"staff": "department", "merchant": "merchant"}


async def contact(
    uow: UnitOfWork,
    *,
    channel: str,
    external_id: str,
    chat_id: str,
    now: datetime,
    display_name: str = "",
    language_hint: str = "",
    default_language: str = "de",
    private_chat: bool = True,
    known_new: bool = False,
    written: bool = True,
) -> tuple[Citizen, ChannelAccount]:
    """The resident behind a channel account, created at first contact. `known_new`: the
    caller has just seen there is no such account (no second look); should the same person's
    first message be handled elsewhere at the same moment, the account's INSERT fails
    (IntegrityError) and the caller begins again. `written=False`: a new account goes out with
    the caller's next flush (one flush less)."""
    session = uow.session
    if not known_new:
        account = (
            await session.execute(
                select(ChannelAccount).where(
                    ChannelAccount.channel == channel, ChannelAccount.external_id == external_id
                )
            )
        ).scalar_one_or_none()
        if account is not None:
            citizen = await session.get(Citizen, account.citizen_id)
            assert citizen is not None
            wrote(account, chat_id=chat_id, private_chat=private_chat)
            return citizen, account
    language = normalise_language(language_hint) if language_hint else default_language
    citizen = Citizen(language=language, created_at=now)
    session.add(citizen)
    await session.flush()
    assert citizen.id is not None
    account = ChannelAccount(
        channel=channel,
        external_id=external_id,
        chat_id=chat_id if private_chat else "",
        citizen_id=citizen.id,
        display_name=display_name or None,
        created_at=now,
    )
    session.add(account)
    if written:
        await session.flush()
    return citizen, account


def wrote(account: ChannelAccount, *, chat_id: str, private_chat: bool) -> None:
    """A known account wrote to us: its private chat is where we reach it, and it is reachable
    again (changes only what differs, so an unchanged account is not written)."""
    if private_chat and account.chat_id != chat_id:
        account.chat_id = chat_id
    if account.unreachable_at is not None and private_chat:
        account.unreachable_at = None


async def citizen(uow: UnitOfWork, citizen_id: int) -> Citizen | None:
    return await uow.session.get(Citizen, citizen_id)


async def find_account(uow: UnitOfWork, channel: str, external_id: str) -> ChannelAccount | None:
    result = await uow.session.execute(
        select(ChannelAccount).where(
            ChannelAccount.channel == channel, ChannelAccount.external_id == external_id
        )
    )
    return result.scalar_one_or_none()


async def accounts_of(uow: UnitOfWork, citizen_id: int) -> list[ChannelAccount]:
    result = await uow.session.execute(
        select(ChannelAccount)
        .where(ChannelAccount.citizen_id == citizen_id)
        .order_by(ChannelAccount.id)
    )
    return list(result.scalars())


def set_language(citizen: Citizen, language: str) -> None:
    if language not in LANGUAGES:
        raise InvalidInput("Available languages: Deutsch, English.")
    citizen.language = language
    citizen.language_chosen = True


def detected_language(citizen: Citizen, language: str) -> None:
    """The language the person writes in, when they never chose one."""
    if language in LANGUAGES and not citizen.language_chosen:
        citizen.language = language


def update_profile(citizen: Citizen, field: str, text: str) -> str:
    validator = PROFILE_FIELDS.get(field)
    if validator is None:
        raise InvalidInput("This part of the profile cannot be changed here.")
    value = validator(text)
    setattr(citizen, field, value)
    return value


def clear_profile_field(citizen: Citizen, field: str) -> None:
    if field not in PROFILE_FIELDS:
        raise InvalidInput("This part of the profile cannot be changed here.")
    setattr(citizen, field, None)


async def roles_of(uow: UnitOfWork, citizen_id: int) -> set[tuple[str, str]]:
    result = await uow.session.execute(
        select(RoleGrant.role, RoleGrant.scope).where(RoleGrant.citizen_id == citizen_id)
    )
    return {("resident", "")} | {(role, scope) for role, scope in result.all()}


async def grant_role(
    uow: UnitOfWork, citizen_id: int, role: str, scope: str, *, now: datetime, by: str
) -> RoleGrant:
    if role not in ROLES or role == "resident":
        raise InvalidInput("Unknown role {role}.", role=role)
    if role in SCOPED_ROLES and not scope:
        raise InvalidInput("The role {role} needs a {scope}.", role=role, scope=SCOPED_ROLES[role])
    citizen = await uow.session.get(Citizen, citizen_id)
    if citizen is None or citizen.deleted_at is not None:
        raise NotFound("No resident with the ID {id}.", id=citizen_id)
    grant = RoleGrant(citizen_id=citizen_id, role=role, scope=scope, granted_at=now, granted_by=by)
    try:
        async with uow.session.begin_nested():
            uow.session.add(grant)
    except IntegrityError:
        raise InvalidInput("The resident already holds this role.") from None
    log_action(uow, now, "role.grant", f"citizen:{citizen_id}", actor=by, role=role, scope=scope)
    return grant


async def revoke_role(
    uow: UnitOfWork, citizen_id: int, role: str, scope: str, *, now: datetime, by: str
) -> None:
    grant = (
        await uow.session.execute(
            select(RoleGrant).where(
                RoleGrant.citizen_id == citizen_id, RoleGrant.role == role, RoleGrant.scope == scope
            )
        )
    ).scalar_one_or_none()
    if grant is None:
        raise NotFound("The resident does not hold this role.")
    await uow.session.delete(grant)
    log_action(uow, now, "role.revoke", f"citizen:{citizen_id}", actor=by, role=role, scope=scope)


async def create_link_code(uow: UnitOfWork, citizen_id: int, now: datetime) -> LinkCode:
    """A fresh single-use code; earlier unused codes of this resident stop working."""
    await uow.session.execute(
        update(LinkCode)
        .where(LinkCode.citizen_id == citizen_id, col(LinkCode.used_at).is_(None))
        .values(used_at=now)
    )
    link = LinkCode(
        code=codes.new_code(LINK_CODE_LENGTH),
        citizen_id=citizen_id,
        created_at=now,
        expires_at=now + LINK_CODE_TTL,
    )
    uow.session.add(link)
    await uow.session.flush()
    return link


async def redeem_link_code(
    uow: UnitOfWork, account: ChannelAccount, text: str, now: datetime
) -> Citizen:
    """Join `account` to the resident who made the code. Failures are counted on the person
    typing; the sixth wrong try within ten minutes is refused without looking at the code."""
    session = uow.session
    me = await session.get(Citizen, account.citizen_id)
    assert me is not None
    if me.link_blocked_until is not None and me.link_blocked_until > now:
        raise LimitReached("Too many wrong codes. Please wait 10 minutes and create a new code.")
    try:
        code = codes.parse_code(text, LINK_CODE_LENGTH)
    except codes.CodeTypo:
        raise _link_failed(
            me, now, InvalidInput("This code has a typo. Please check it and try again.")
        ) from None
    except ValueError:
        raise _link_failed(
            me, now, InvalidInput("That is not a link code. It looks like ABCD-EFGH.")
        ) from None
    link = (
        await session.execute(select(LinkCode).where(LinkCode.code == code))
    ).scalar_one_or_none()
    if link is None:
        raise _link_failed(
            me, now, NotFound("This code is unknown. Please create a new one with /link.")
        )
    if link.used_at is not None or link.expires_at <= now:
        raise _link_failed(
            me,
            now,
            InvalidInput("This code has expired or was used already. Create a new one with /link."),
        )
    if link.citizen_id == account.citizen_id:
        raise InvalidInput(
            "This code belongs to this account already. Enter it on your other channel."
        )
    claimed = await session.execute(
        update(LinkCode)
        .where(LinkCode.id == link.id, col(LinkCode.used_at).is_(None))
        .values(used_at=now)
    )
    if rows_changed(claimed) != 1:
        raise InvalidInput(
            "This code has expired or was used already. Create a new one with /link."
        )
    source_id = account.citizen_id
    target = await session.get(Citizen, link.citizen_id)
    assert target is not None and target.id is not None
    me.link_failures = 0
    me.link_blocked_until = None
    await session.flush()
    await privacy.merge_citizens(uow, source_id, target.id)
    account.citizen_id = target.id
    log_action(
        uow,
        now,
        "account.link",
        f"citizen:{target.id}",
        actor_citizen_id=target.id,
        channel=account.channel,
    )
    return target


def _link_failed(me: Citizen, now: datetime, error: DomainError) -> DomainError:
    """Count a wrong try; the count is kept although the use case ends with `error`."""
    me.link_failures += 1
    if me.link_failures >= LINK_MAX_FAILURES:
        me.link_blocked_until = now + LINK_BLOCK
        me.link_failures = 0
    return error.keeping_changes()


async def delete_citizen(uow: UnitOfWork, citizen_id: int, now: datetime) -> None:
    await privacy.close_holdings(uow, citizen_id, now)
    await privacy.erase_citizen(uow, citizen_id, now)
    log_action(uow, now, "citizen.delete", f"citizen:{citizen_id}", actor_citizen_id=citizen_id)
