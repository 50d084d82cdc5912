"""The pure parts of the Matrix channel: rendering, reading events, pacing (no homeserver)."""

from __future__ import annotations

from bot.matrix import events, render
from bot.matrix.pacing import Pacer
from flows.types import Button, Media, Reply


def test_menu_as_numbered_list_with_html_and_links() -> None:
    reply = Reply(
        text="Hello <Anna>\nWhat now?",
        buttons=[
            Button("Wallet", "wallet.show"),
            Button("Website", url="https://ahaus.de/?a=1&b=2"),
            Button("Help & more", "help.show"),
        ],
    )
    content = render.text_content(reply)
    assert content["body"] == (
        "Hello <Anna>\nWhat now?\n1. Wallet\n2. Help & more\nWebsite: https://ahaus.de/?a=1&b=2"
    )
    assert content["formatted_body"] == (
        "Hello &lt;Anna&gt;<br>What now?<br><ol><li>Wallet</li><li>Help &amp; more</li></ol>"
        '<br><a href="https://ahaus.de/?a=1&amp;b=2">Website</a>'
    )
    assert [i for i, _b in render.options(reply)] == [0, 2]


def test_media_content_plain_and_encrypted() -> None:
    data = (
        b"\x89PNG\r\n\x1a\n"
        + b"\x00\x00\x00\rIHDR"
        + (7).to_bytes(4, "big")
        + (9).to_bytes(4, "big")
    )
    reply = Reply(media=Media("image", "qr.png", "image/png", data))
    plain = render.media_content(reply, "mxc://localhost/abc", None)
    assert plain["msgtype"] == "m.image" and plain["url"] == "mxc://localhost/abc"
    assert plain["info"] == {"mimetype": "image/png", "size": len(data), "w": 7, "h": 9}
    secret = render.media_content(reply, None, {"url": "mxc://x/y", "iv": "i"})
    assert "url" not in secret and secret["file"]["url"] == "mxc://x/y"
    pdf = Reply(media=Media("document", "a.pdf", "application/pdf", b"%PDF"))
    assert render.media_content(pdf, "mxc://x/z", None)["msgtype"] == "m.file"


def test_keycaps() -> None:
    assert render.keycap_number("1️⃣") == 1
    assert render.keycap_number("3\u20e3") == 3  # without the variation selector
    assert render.keycap_number("🔟") == 10
    assert render.keycap_number("👍") is None


def test_commands_replies_and_threads() -> None:
    assert events.parse_text("!wallet", {}) == events.Parsed("command", command="wallet")
    assert events.parse_text("/link AB12-CD34", {}).text == "AB12-CD34"
    assert events.parse_text("! not a command", {}).kind == "text"
    assert events.parse_text("/", {}).kind == "text"
    thread = {"m.relates_to": render.thread_relation("$root")}
    parsed = events.parse_text("2", thread)
    assert (parsed.kind, parsed.text, parsed.thread_root, parsed.reply_to) == (
        "text",
        "2",
        "$root",
        "",
    )
    reply = {"m.relates_to": {"m.in_reply_to": {"event_id": "$menu"}}}
    quoted = "> <@bot:localhost> What now?\n> 1. Wallet\n\nWallet"
    parsed = events.parse_text(quoted, reply)
    assert (parsed.text, parsed.reply_to) == ("Wallet", "$menu")


def test_reactions() -> None:
    content = {"m.relates_to": {"rel_type": "m.annotation", "event_id": "$m", "key": "2️⃣"}}
    assert events.parse_reaction(content) == events.Parsed("reaction", reacts_to="$m", number=2)
    content["m.relates_to"]["key"] = "👍"
    assert events.parse_reaction(content) is None


def test_pacing_per_room_and_overall() -> None:
    now = [100.0]
    pacer = Pacer(room_rate=1.0, room_burst=3, send_rate=10.0, clock=lambda: now[0])
    for _ in range(3):
        assert pacer.wait("!a") == 0
        pacer.book("!a")
    assert pacer.wait("!a") == 1.0  # burst used up: one a second
    assert pacer.wait("!b") == 0  # another room is not held back
    for _ in range(7):
        pacer.book("!b" + str(_))
    assert pacer.wait("!c") > 0  # ten a second over all rooms
    now[0] += 1.0
    assert pacer.wait("!a") == 0
