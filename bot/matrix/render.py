"""Replies as Matrix message contents: text with a plain-text body and an HTML body, options
(Matrix has no buttons) as a numbered list where a typed number picks, as keycaps on
notifications (react, or answer in the thread), as a bullet list where a number typed would be
an answer (handlers/picking.py); links as links, keycaps for reactions."""

from __future__ import annotations

import html
from typing import Any

from flows.types import Button, Reply

KEYCAPS = ("1️⃣", "2️⃣", "3️⃣", "4️⃣", "5️⃣", "6️⃣", "7️⃣", "8️⃣", "9️⃣", "🔟")
HTML_FORMAT = "org.matrix.custom.html"


def keycap_number(key: str) -> int | None:
    """1..10 for a keycap reaction ("1️⃣", also without the emoji variation selector)."""
    cleaned = key.replace("\ufe0f", "")
    for number, keycap in enumerate(KEYCAPS, start=1):
        if cleaned == keycap.replace("\ufe0f", ""):
            return number
    return None


def options(reply: Reply) -> list[tuple[int, Button]]:
    """(index in reply.buttons, button) of the buttons that are choices, in shown order."""
    return [(i, b) for i, b in enumerate(reply.buttons) if b.action and not b.url]


def links(reply: Reply) -> list[Button]:
    return [b for b in reply.buttons if b.url]


def text_content(reply: Reply, *, with_options: bool = True) -> dict[str, Any]:
    """An m.text (or m.notice) content for the reply's text, options and links."""
    plain: list[str] = [reply.text] if reply.text else []
    rich: list[str] = [_html_text(reply.text)] if reply.text else []
    shown = options(reply) if with_options else []
    if shown and reply.options == "numbered":
        plain.append("\n".join(f"{n}. {b.label}" for n, (_i, b) in enumerate(shown, start=1)))
        rich.append(
            "<ol>" + "".join(f"<li>{html.escape(b.label)}</li>" for _i, b in shown) + "</ol>"
        )
    elif shown and reply.options == "notice":  # chosen by reaction or in the thread
        marks = [KEYCAPS[n] if n < len(KEYCAPS) else "•" for n in range(len(shown))]
        plain.append("\n".join(f"{m} {b.label}" for m, (_i, b) in zip(marks, shown, strict=True)))
        rich.append(
            "<br>".join(
                f"{m} {html.escape(b.label)}" for m, (_i, b) in zip(marks, shown, strict=True)
            )
        )
    elif shown:  # named: a number typed here is an answer, the label picks
        plain.append("\n".join(f"• {b.label}" for _i, b in shown))
        rich.append(
            "<ul>" + "".join(f"<li>{html.escape(b.label)}</li>" for _i, b in shown) + "</ul>"
        )
    for button in links(reply):
        plain.append(f"{button.label}: {button.url}")
        rich.append(
            f'<a href="{html.escape(button.url, quote=True)}">{html.escape(button.label)}</a>'
        )
    body = "\n".join(plain) or " "
    return {
        "msgtype": "m.text",
        "body": body,
        "format": HTML_FORMAT,
        "formatted_body": "<br>".join(rich) or html.escape(body),
    }


def media_content(
    reply: Reply, url: str | None, encrypted_file: dict[str, Any] | None
) -> dict[str, Any]:
    """m.image / m.file for an uploaded file (encrypted rooms use `file`, others `url`)."""
    assert reply.media is not None
    media = reply.media
    content: dict[str, Any] = {
        "msgtype": "m.image" if media.kind == "image" else "m.file",
        "body": media.filename,
        "filename": media.filename,
        "info": {"mimetype": media.mime, "size": len(media.data)},
    }
    size = image_size(media.data) if media.kind == "image" else None
    if size is not None:
        content["info"]["w"], content["info"]["h"] = size
    if encrypted_file is not None:
        content["file"] = encrypted_file
    else:
        content["url"] = url
    return content


def thread_relation(root_event_id: str) -> dict[str, Any]:
    """m.relates_to that puts a message into a thread (with a fallback reply for old clients)."""
    return {
        "rel_type": "m.thread",
        "event_id": root_event_id,
        "is_falling_back": True,
        "m.in_reply_to": {"event_id": root_event_id},
    }


def _html_text(text: str) -> str:
    return html.escape(text).replace("\n", "<br>")


def image_size(data: bytes) -> tuple[int, int] | None:
    """Width and height of a PNG (what the bot sends: QR codes), else None."""
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    return None
