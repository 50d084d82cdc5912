"""Rendering rules, without a server: splitting, keyboards, callback data, link buttons."""

from __future__ import annotations

import pytest

from bot.telegram.render import MAX_TEXT, callback_data, plan, split_text, usable_url
from flows.types import Button, Media, Reply


def test_split_prefers_line_breaks_and_keeps_everything() -> None:
    text = "\n".join(f"Zeile {i}: " + "x" * 60 for i in range(200))
    chunks = split_text(text)
    assert len(chunks) > 1 and all(len(c) <= MAX_TEXT for c in chunks)
    assert all(c.startswith("Zeile") for c in chunks)
    assert "".join(chunks).replace("\n", "") == text.replace("\n", "")
    assert split_text("a" * 5000) == ["a" * 4096, "a" * 904]  # no break at all: hard cut


def test_keyboard_on_last_part_short_labels_share_rows() -> None:
    reply = Reply(
        text="y " * 3000,
        buttons=[Button("Ja", "x"), Button("Nein", "x"), Button("A much longer label here", "x")],
        menu="ABCDEFGHJKMN",
    )
    parts = plan(reply)
    assert len(parts) == 2 and parts[0].markup is None and parts[1].markup is not None
    rows = parts[1].markup.inline_keyboard
    assert [len(r) for r in rows] == [2, 1]
    assert rows[0][0].callback_data == "ABCDEFGHJKMN:0"


def test_callback_data_is_checked_for_64_bytes() -> None:
    assert callback_data("ABCDEFGHJKMN", 999) == "ABCDEFGHJKMN:999"
    with pytest.raises(ValueError, match="64 bytes"):
        callback_data("X" * 70, 1)


def test_local_links_become_text_and_media_caption_limits() -> None:
    assert not usable_url("http://127.0.0.1:8080/pay/1") and usable_url("https://ahaus.de")
    reply = Reply(text="Bitte bezahlen", buttons=[Button("Bezahlen", url="http://localhost/p")])
    [part] = plan(reply)
    assert part.markup is None and "Bezahlen: http://localhost/p" in part.text
    image = Media("image", "qr.png", "image/png", b"\x89PNG")
    assert plan(Reply(text="Ticket", media=image))[0].as_photo
    long_caption = plan(Reply(text="z" * 2000, media=image))
    assert long_caption[0].text == "" and long_caption[1].text == "z" * 2000
    pdf = Media("document", "a.pdf", "application/pdf", b"%PDF")
    assert not plan(Reply(media=pdf))[0].as_photo
