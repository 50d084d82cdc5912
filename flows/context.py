"""What a flow step gets: the person, their conversation, the unit of work, `now`, the running
program's Env (city, payment provider, links, notifier ...) and a place to put replies. Flows
never see the channel."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from flows.types import Button, Inbound, Media, Reply
from services import i18n
from services.city import City
from services.env import Env
from services.i18n import format_date, format_datetime
from services.identity.accounts import ChannelAccount, Citizen
from services.money import format_money
from services.uow import UnitOfWork


@dataclass
class Ctx:
    uow: UnitOfWork
    now: dt.datetime
    env: Env
    citizen: Citizen
    account: ChannelAccount
    inbound: Inbound
    roles: set[tuple[str, str]]
    step: str = ""
    data: dict[str, Any] = field(default_factory=dict)
    replies: list[Reply] = field(default_factory=list)
    forgotten: bool = False  # the conversation itself was deleted (/deleteme)
    language: str = ""  # set by `in_language`: text for someone else (a staff room)

    @property
    def city(self) -> City:
        return self.env.city

    # --- who -----------------------------------------------------------------
    @property
    def citizen_id(self) -> int:
        assert self.citizen.id is not None
        return self.citizen.id

    @property
    def lang(self) -> str:
        return self.language or self.citizen.language

    def in_language(self, lang: str) -> Ctx:
        """The same step, writing for a reader of `lang` (a staff room's language); what it
        says is not answered to the person."""
        return dataclasses.replace(self, language=lang, replies=[])

    def has_role(self, role: str, scope: str | None = None) -> bool:
        return any(r == role and (scope is None or s == scope) for r, s in self.roles)

    def scopes(self, role: str) -> list[str]:
        return sorted(s for r, s in self.roles if r == role)

    # --- text ----------------------------------------------------------------
    def t(self, message: str, **params: Any) -> str:
        return i18n.translate(self.lang, message, params)

    def tp(self, context: str, message: str, **params: Any) -> str:
        """A word whose German depends on what it is about: ctx.tp("event", "cancelled")."""
        return i18n.translate(self.lang, i18n.NC_(context, message), params)

    def tn(self, singular: str, plural: str, n: int, **params: Any) -> str:
        text = i18n.ngettext(self.lang, singular, plural, n)
        return text.format(
            n=self.number(n), **{k: i18n.format_value(self.lang, v) for k, v in params.items()}
        )

    def number(self, value: float) -> str:
        """A number as this person writes it: 0,5 and 5.000 in German, 0.5 and 5,000 in English."""
        return str(i18n.format_value(self.lang, i18n.number(value)))

    def money(self, cents: int) -> str:
        return format_money(cents, self.lang)

    def date(self, value: dt.date) -> str:
        return format_date(self.lang, value)

    def datetime(self, value: dt.datetime) -> str:
        return format_datetime(self.lang, value, self.city.tz)

    def today(self) -> dt.date:
        return self.now.astimezone(self.city.tz).date()

    # --- answers -------------------------------------------------------------
    def button(self, label: str, action: str = "", arg: str = "", url: str = "") -> Button:
        """A button whose label is a msgid, translated for this person."""
        return Button(label=self.t(label), action=action, arg=arg, url=url)

    def say(
        self,
        text: str,
        buttons: Sequence[Button] = (),
        *,
        media: Media | None = None,
        private: bool = False,
    ) -> None:
        self.replies.append(
            Reply(text=text, buttons=list(buttons), media=media, private=private, lang=self.lang)
        )

    def ask(self, step: str, text: str, buttons: Sequence[Button] = (), **data: Any) -> None:
        """Say `text` and wait for the next message in `step`."""
        self.goto(step, **data)
        self.say(text, buttons)

    def goto(self, step: str, **data: Any) -> None:
        self.step = step
        self.data.update(data)

    def done(self) -> None:
        """Leave the current step: the next message is read as a new request."""
        self.step = ""
        self.data = {}
