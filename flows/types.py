"""The few values every layer shares: what arrives from a channel and what goes back."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

InboundKind = Literal["text", "command", "choice", "media", "location", "reaction"]
# How a reply's options are chosen (handlers/picking.py holds the rule):
# "numbered": the list answering the person's own message, a typed number picks;
# "named": a typed number would be an answer (amounts, codes, chat), options go by label/button;
# "notice": a notification's options, by button, thread, reaction or label with reference.
OptionStyle = Literal["numbered", "named", "notice"]


@dataclass(frozen=True)
class Attachment:
    """A photo or file a resident sent. Adapters download it (size-limited) before handing it on."""

    kind: Literal["photo", "document"]
    filename: str
    mime: str
    data: bytes
    ref: str = ""  # the channel's own file id, for logs


@dataclass(frozen=True)
class Inbound:
    """One thing a person did in a chat, whatever the channel."""

    channel: str  # "console", "telegram", "matrix"
    user_id: str  # the channel's id of the person
    chat_id: str  # where to answer: a private chat or a group/room
    kind: InboundKind
    text: str = ""  # message text, or the command's arguments
    command: str = ""  # "start" for "/start payload"
    choice: str = ""  # opaque button token "menuid:index" (or a keycap index on Matrix)
    attachments: tuple[Attachment, ...] = ()
    location: tuple[float, float] | None = None
    key: str = ""  # idempotency key: update id / event id
    display_name: str = ""  # the person's first name as the channel reports it
    language_hint: str = ""  # e.g. Telegram's language_code, used once at first contact
    is_group: bool = False
    thread: str = ""  # Matrix thread root / Telegram reply target, for staff rooms


@dataclass(frozen=True)
class Button:
    """A choice offered to the person. `action` and `arg` never leave the server."""

    label: str
    action: str = ""
    arg: str = ""
    url: str = ""  # a link button instead of an action


@dataclass(frozen=True)
class Media:
    kind: Literal["image", "document"]
    filename: str
    mime: str
    data: bytes


@dataclass
class Reply:
    """One message to send. `menu` is filled by the dispatcher when the reply has buttons."""

    text: str = ""
    buttons: list[Button] = field(default_factory=list)
    media: Media | None = None
    menu: str = ""  # id of the stored menu the buttons belong to
    private: bool = False  # carries personal data: never into an unencrypted room if avoidable
    edit: bool = False  # may replace the message the pressed button was on
    options: OptionStyle = "numbered"
    lang: str = ""  # the language it is written in (channel notes about it follow it)
    again: str = ""  # the text when this menu is shown again (default: `text`), e.g. after an error
