"""Staff rooms: a department's room (a Telegram group, a Matrix room, a console room view, as the
city configuration names them) is for the department's staff. Anyone else who speaks to the bot
there is told so, on every channel alike, and nothing happens."""

from __future__ import annotations

from flows.types import Inbound, Reply
from services import i18n, notify
from services.city import City
from services.i18n import N_
from services.identity import accounts as identity
from services.uow import UnitOfWork


def room_department(city: City, channel: str, chat_id: str) -> str | None:
    """The department whose staff room this chat is, or None."""
    return notify.room_department(city, channel, chat_id)


def may_act(roles: set[tuple[str, str]], department: str) -> bool:
    return ("staff", department) in roles or any(role == "admin" for role, _scope in roles)


async def refusal(uow: UnitOfWork, city: City, inbound: Inbound) -> Reply | None:
    """The answer for someone who is not staff of the room's department; None when they are
    (or when this chat is no staff room)."""
    if not inbound.is_group:
        return None
    department = room_department(city, inbound.channel, inbound.chat_id)
    if department is None:
        return None
    account = await identity.find_account(uow, inbound.channel, inbound.user_id)
    roles = await identity.roles_of(uow, account.citizen_id) if account is not None else set()
    if may_act(roles, department):
        return None
    citizen = await identity.citizen(uow, account.citizen_id) if account is not None else None
    lang = i18n.normalise_language(
        citizen.language if citizen is not None else inbound.language_hint or city.default_language
    )
    found = city.department(department)
    text = i18n.translate(
        lang,
        N_(
            "Sorry, {name}: only the staff of {department} can act in this room. "
            "For your own requests, please write to me in a direct chat."
        ),
        {
            "name": inbound.display_name or inbound.user_id,
            "department": found.name(lang) if found is not None else department,
        },
    )
    return Reply(text=text)
