"""What a Matrix event means for the bot, before any database lookup: the text without reply
fallback, command or not, the thread it belongs to, the message it answers or reacts to."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from bot.matrix.render import keycap_number

COMMAND_PREFIXES = ("!", "/")


@dataclass(frozen=True)
class Parsed:
    kind: Literal["text", "command", "reaction"]
    text: str = ""  # message text, or the command's arguments
    command: str = ""
    thread_root: str = ""  # m.thread relation
    reply_to: str = ""  # m.in_reply_to (not counting a thread's fallback)
    reacts_to: str = ""  # m.annotation target
    number: int | None = None  # keycap number of a reaction


def relation(content: dict[str, Any]) -> tuple[str, str]:
    """(thread root, replied-to event) of a message content."""
    relates = content.get("m.relates_to") or {}
    if not isinstance(relates, dict):
        return "", ""
    thread = str(relates.get("event_id", "")) if relates.get("rel_type") == "m.thread" else ""
    in_reply = relates.get("m.in_reply_to") or {}
    reply_to = str(in_reply.get("event_id", "")) if isinstance(in_reply, dict) else ""
    if thread and relates.get("is_falling_back"):
        reply_to = ""  # the thread's fallback for old clients, not a real reply
    return thread, reply_to


def strip_reply_fallback(body: str) -> str:
    """Drop the quoted '> <@user> ...' lines older clients put before a reply."""
    lines = body.split("\n")
    if not lines or not lines[0].startswith("> <"):
        return body
    while lines and lines[0].startswith(">"):
        lines.pop(0)
    while lines and not lines[0].strip():
        lines.pop(0)
    return "\n".join(lines)


def parse_text(body: str, content: dict[str, Any]) -> Parsed:
    thread, reply_to = relation(content)
    text = strip_reply_fallback(body).strip()
    if len(text) > 1 and text[0] in COMMAND_PREFIXES and not text[1].isspace():
        name, _sep, args = text[1:].partition(" ")
        name = name.split("@", 1)[0].lower()
        if name and name.replace("_", "").isalnum():
            return Parsed(
                "command", text=args.strip(), command=name, thread_root=thread, reply_to=reply_to
            )
    return Parsed("text", text=text, thread_root=thread, reply_to=reply_to)


def parse_reaction(content: dict[str, Any]) -> Parsed | None:
    relates = content.get("m.relates_to") or {}
    if not isinstance(relates, dict) or relates.get("rel_type") != "m.annotation":
        return None
    number = keycap_number(str(relates.get("key", "")))
    if number is None:
        return None
    return Parsed("reaction", reacts_to=str(relates.get("event_id", "")), number=number)


def parse_location(content: dict[str, Any]) -> tuple[float, float] | None:
    """(lat, lon) of an m.location message: its geo URI (RFC 5870, "geo:52.07,7.01;u=35"),
    also in the extensible-events form (MSC3488) newer clients send alongside."""
    if content.get("msgtype") != "m.location":
        return None
    extensible = content.get("org.matrix.msc3488.location") or content.get("m.location") or {}
    uri = content.get("geo_uri") or (
        extensible.get("uri") if isinstance(extensible, dict) else None
    )
    if not isinstance(uri, str) or not uri.startswith("geo:"):
        return None
    coordinates = uri[4:].split(";", 1)[0].split(",")
    try:
        lat, lon = float(coordinates[0]), float(coordinates[1])
    except (IndexError, ValueError):
        return None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    return lat, lon
