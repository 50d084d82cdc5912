"""The fake Telegram server, driven by the real python-telegram-bot client."""

from __future__ import annotations

import asyncio
import datetime as dtm
import struct
import zlib
from collections.abc import AsyncIterator

import httpx
import pytest
from aiohttp import web
from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    ReactionTypeEmoji,
    Update,
)
from telegram.constants import ChatAction, ParseMode
from telegram.error import (
    BadRequest,
    Conflict,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TimedOut,
)
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes

from .fake_telegram import SECRET_HEADER, FakeTelegram, ManualClock

# PTB 22.2+ warns when RetryAfter.retry_after is read as an int.
pytestmark = pytest.mark.filterwarnings("ignore:.*retry_after.*:DeprecationWarning")

ANNA = 4711
GROUP = -100123


def png(width: int = 3, height: int = 2) -> bytes:
    """A valid, tiny, white PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    pixels = zlib.compress(b"".join(b"\x00" + b"\xff" * width for _ in range(height)))
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def retry_seconds(error: RetryAfter) -> float:
    value = error.retry_after  # int now, a timedelta once PTB_TIMEDELTA is the default
    return value.total_seconds() if isinstance(value, dtm.timedelta) else float(value)


def keyboard(*data: str | None) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(d or "?", callback_data=d) for d in data]])


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
async def fake(clock: ManualClock) -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(clock=clock) as server:
        yield server


@pytest.fixture
async def bot(fake: FakeTelegram) -> AsyncIterator[Bot]:
    client = Bot(fake.token, base_url=fake.base_url, base_file_url=fake.base_file_url)
    async with client:  # initialize() calls getMe
        yield client


# --------------------------------------------------------------------------- basics


async def test_get_me(bot: Bot, fake: FakeTelegram) -> None:
    me = await bot.get_me()
    assert me.is_bot and me.username == "stadtlotse_bot" and me.id == 123
    assert [r.method for r in fake.requests] == ["getMe", "getMe"]
    assert all(r.status == 200 for r in fake.requests)


async def test_wrong_token_and_unknown_method(fake: FakeTelegram) -> None:
    with pytest.raises(InvalidToken):
        async with Bot("999:WRONG", base_url=fake.base_url):
            pass
    assert fake.requests[-1].status == 401
    async with Bot(fake.token, base_url=fake.base_url) as client:
        with pytest.raises(EndPointNotFound):
            await client.do_api_request("sendSmokeSignal", {"chat_id": 1})
    assert fake.requests[-1].status == 404


async def test_raw_http_bodies_and_error_shapes(fake: FakeTelegram) -> None:
    async with httpx.AsyncClient(base_url=f"{fake.base_url}{fake.token}/") as client:
        reply = await client.post("sendMessage", json={"chat_id": ANNA, "text": "per JSON"})
        assert reply.json()["result"]["text"] == "per JSON"
        reply = await client.get("sendMessage", params={"chat_id": str(ANNA), "text": "per GET"})
        assert reply.json()["result"]["chat"] == {
            "id": ANNA,
            "type": "private",
            "first_name": "Anna",
        }
        reply = await client.post("sendMessage", data={"chat_id": str(ANNA), "text": "per Form"})
        assert reply.json()["ok"] is True
        reply = await client.post("sendMessage", json={"chat_id": ANNA, "text": "zu schnell"})
        assert reply.status_code == 429
        assert reply.json() == {
            "ok": False,
            "error_code": 429,
            "description": "Too Many Requests: retry after 1",
            "parameters": {"retry_after": 1},
        }
        reply = await client.post("sendMessage", json={"text": "an wen?"})
        assert reply.json() == {
            "ok": False,
            "error_code": 400,
            "description": "Bad Request: chat_id is empty",
        }
        reply = await client.post("fooBar")
        assert reply.status_code == 404 and reply.json()["description"] == "Not Found"
        reply = await client.post(f"{fake.base_url}1:WRONG/getMe")
        assert reply.status_code == 401
        assert reply.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}


async def test_send_message_with_inline_keyboard_is_recorded(bot: Bot, fake: FakeTelegram) -> None:
    markup = InlineKeyboardMarkup(
        [
            [InlineKeyboardButton("Ja", callback_data="m1:0")],
            [InlineKeyboardButton("Stadtwebsite", url="https://example.org/rathaus")],
        ]
    )
    message = await bot.send_message(ANNA, "Möchten Sie fortfahren?", reply_markup=markup)

    assert message.message_id == 1 and message.chat.id == ANNA and message.from_user
    assert message.from_user.is_bot
    assert message.reply_markup == markup
    [sent] = fake.sent(ANNA)
    assert (sent.kind, sent.text, sent.message_id) == ("text", "Möchten Sie fortfahren?", 1)
    assert sent.callback_data == ["m1:0"]
    assert sent.buttons[1]["url"] == "https://example.org/rathaus"
    [record] = fake.calls("sendMessage")
    assert record.params["chat_id"] == ANNA
    assert record.params["reply_markup"]["inline_keyboard"][0][0]["text"] == "Ja"
    second = await bot.send_message(ANNA, "Noch etwas")
    assert second.message_id == 2  # ids grow per chat
    assert (await bot.send_message(GROUP, "Hallo Gruppe")).message_id == 1


async def test_callback_data_is_limited_to_64_bytes(bot: Bot, fake: FakeTelegram) -> None:
    await bot.send_message(ANNA, "ok", reply_markup=keyboard("ä" * 32))  # 64 bytes
    for data in ("x" * 65, "ä" * 33):
        with pytest.raises(BadRequest, match=r"(?i)BUTTON_DATA_INVALID"):
            await bot.send_message(ANNA, "zu lang", reply_markup=keyboard(data))
    assert len(fake.sent()) == 1
    assert [r.status for r in fake.calls("sendMessage")] == [200, 400, 400]


async def test_text_and_button_validation(bot: Bot) -> None:
    await bot.send_message(ANNA, "x" * 4096)
    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await bot.send_message(ANNA, "x" * 4097)
    with pytest.raises(BadRequest, match=r"(?i)message text is empty"):
        await bot.send_message(ANNA, "   ")
    with pytest.raises(BadRequest, match=r"(?i)Text buttons are unallowed"):
        await bot.send_message(ANNA, "x", reply_markup=keyboard(None))
    with pytest.raises(BadRequest, match=r"(?i)caption is too long"):
        await bot.send_photo(ANNA, png(), caption="x" * 1025)


@pytest.mark.parametrize(
    ("text", "mode", "error"),
    [
        ("<b>fett</b> &amp; <a href='https://x.de'>Link</a>", ParseMode.HTML, None),
        ('<span class="tg-spoiler">geheim</span>', ParseMode.HTML, None),
        ("<b>offen", ParseMode.HTML, "can't parse entities"),
        ("<b><i>falsch</b></i>", ParseMode.HTML, "can't parse entities"),
        ("Zeile<br>Zeile", ParseMode.HTML, "can't parse entities"),
        ("1 < 2", ParseMode.HTML, "can't parse entities"),
        ("Termin am 12\\.05\\. *fett* [Link](https://x.de/a-b.c)", ParseMode.MARKDOWN_V2, None),
        ("Termin am 12.05.", ParseMode.MARKDOWN_V2, "Character '.' is reserved"),
        ("`a.b` ok", ParseMode.MARKDOWN_V2, None),
        ("x", "html5", "unsupported parse_mode"),
    ],
)
async def test_parse_modes(bot: Bot, text: str, mode: str, error: str | None) -> None:
    if error is None:
        await bot.send_message(ANNA, text, parse_mode=mode)
    else:
        with pytest.raises(BadRequest, match=f"(?i){error}"):
            await bot.send_message(ANNA, text, parse_mode=mode)


async def test_html_length_counts_visible_text(bot: Bot) -> None:
    await bot.send_message(ANNA, "<b>" + "x" * 4096 + "</b>", parse_mode=ParseMode.HTML)


async def test_blocked_chat_is_forbidden(bot: Bot, fake: FakeTelegram) -> None:
    fake.block_chat(ANNA)
    with pytest.raises(Forbidden, match=r"(?i)bot was blocked by the user"):
        await bot.send_message(ANNA, "Hallo?")
    with pytest.raises(Forbidden):
        await bot.send_chat_action(ANNA, ChatAction.TYPING)
    fake.unblock_chat(ANNA)
    await bot.send_message(ANNA, "Wieder da")
    assert [m.text for m in fake.sent()] == ["Wieder da"]


# --------------------------------------------------------------------------- rate limits


async def test_private_chat_rate_limit_with_burst(
    bot: Bot, fake: FakeTelegram, clock: ManualClock
) -> None:
    for i in range(3):  # the burst allowance
        await bot.send_message(ANNA, f"Nachricht {i}")
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(ANNA, "eine zu viel")
    assert retry_seconds(caught.value) == 1
    assert fake.rate_limited == 1
    assert fake.requests[-1].status == 429
    await bot.send_message(ANNA + 1, "andere Person")  # other chats are unaffected

    clock.advance(1.0)
    await bot.send_message(ANNA, "wieder erlaubt")
    with pytest.raises(RetryAfter):
        await bot.send_message(ANNA, "schon wieder zu schnell")
    assert len(fake.sent(ANNA)) == 4 and fake.rate_limited == 2


async def test_group_rate_limit_and_edits_count(
    bot: Bot, fake: FakeTelegram, clock: ManualClock
) -> None:
    first = await bot.send_message(GROUP, "0")
    for i in range(1, 19):
        await bot.send_message(GROUP, str(i))
    await bot.edit_message_text("0 (bearbeitet)", GROUP, first.message_id)  # the 20th
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(GROUP, "21")
    assert retry_seconds(caught.value) == 3  # 20 per minute: one every 3 seconds
    clock.advance(3)
    await bot.send_message(GROUP, "21")


async def test_global_rate_limit_and_switching_limits_off(
    bot: Bot, fake: FakeTelegram, clock: ManualClock
) -> None:
    for chat in range(1, 31):
        await bot.send_message(chat, "Rundbrief")
    with pytest.raises(RetryAfter):
        await bot.send_message(31, "Rundbrief")
    clock.advance(1)
    await bot.send_message(31, "Rundbrief")

    fake.limits.enabled = False
    for _ in range(50):
        await bot.send_message(ANNA, "ohne Bremse")
    assert fake.rate_limited == 1


# --------------------------------------------------------------------------- updates


async def test_get_updates_and_offset_confirmation(bot: Bot, fake: FakeTelegram) -> None:
    pushed_text = await fake.send_text(ANNA, "/start gutschein-42", first_name="Anna")
    menu = await bot.send_message(ANNA, "Menü", reply_markup=keyboard("m1:0", "m1:1"))
    pushed_press = await fake.press_button(ANNA, menu.message_id, "m1:1")
    assert pushed_text.status is None and pushed_press.callback_query_id

    first, second = await bot.get_updates(timeout=0)
    assert first.update_id < second.update_id
    assert first.message and first.message.text == "/start gutschein-42"
    assert first.message.from_user and first.message.from_user.language_code == "de"
    assert first.message.chat.type == "private" and first.message.message_id == 1
    assert first.message.parse_entities() == {first.message.entities[0]: "/start"}
    answer = await first.message.reply_text("Antwort", do_quote=True)
    assert answer.reply_to_message and answer.reply_to_message.text == "/start gutschein-42"
    assert fake.sent(ANNA)[-1].reply_to == first.message.message_id
    with pytest.raises(BadRequest, match=r"(?i)message to be replied not found"):
        await bot.send_message(ANNA, "x", reply_to_message_id=99)
    query = second.callback_query
    assert query and query.data == "m1:1" and isinstance(query.message, Message)
    assert query.message.message_id == menu.message_id == 2
    assert query.message.reply_markup == keyboard("m1:0", "m1:1")

    assert len(await bot.get_updates(timeout=0)) == 2  # not confirmed yet
    assert await bot.get_updates(offset=second.update_id + 1, timeout=0) == ()
    assert (await bot.get_webhook_info()).pending_update_count == 0

    await query.answer("Erledigt")
    press = fake.button_presses[query.id]
    assert press.answered and press.answer_text == "Erledigt"
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await bot.answer_callback_query(query.id)
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await bot.answer_callback_query("4711")


async def test_long_polling_wakes_on_push(bot: Bot, fake: FakeTelegram) -> None:
    poll = asyncio.create_task(bot.get_updates(timeout=30, read_timeout=40))
    await fake.wait_until(lambda: bool(fake.calls("getUpdates")))
    await fake.send_text(ANNA, "Hallo", chat_id=GROUP)
    [update] = await asyncio.wait_for(poll, 5)
    assert update.message and update.message.chat.type == "supergroup"
    assert update.message.chat.id == GROUP and update.message.from_user
    assert update.message.from_user.id == ANNA


async def test_reactions_need_allowed_updates(bot: Bot, fake: FakeTelegram) -> None:
    await fake.react(ANNA, 1, "👍")
    assert await bot.get_updates(timeout=0) == ()
    await fake.react(ANNA, 1, "👍")
    [update] = await bot.get_updates(timeout=0, allowed_updates=["message", "message_reaction"])
    assert update.message_reaction
    assert update.message_reaction.new_reaction == (ReactionTypeEmoji("👍"),)


async def test_resident_photo_and_document_can_be_downloaded(bot: Bot, fake: FakeTelegram) -> None:
    image = png(4, 3)
    await fake.send_photo(ANNA, image, caption="Schlagloch")
    await fake.send_document(ANNA, b"%PDF-1.4 ...", filename="antrag.pdf")
    photo_update, document_update = await bot.get_updates(timeout=0)
    assert photo_update.message and photo_update.message.caption == "Schlagloch"
    size = photo_update.message.photo[-1]
    assert (size.width, size.height) == (4, 3)
    file = await bot.get_file(size.file_id)
    assert bytes(await file.download_as_bytearray()) == image
    assert document_update.message and document_update.message.document
    document = document_update.message.document
    assert document.file_name == "antrag.pdf" and document.mime_type == "application/pdf"
    file = await bot.get_file(document.file_id)
    assert bytes(await file.download_as_bytearray()) == b"%PDF-1.4 ..."
    with pytest.raises(BadRequest, match=r"(?i)invalid file_id"):
        await bot.get_file("nope")


# --------------------------------------------------------------------------- sending media


async def test_send_photo_and_document_bytes(bot: Bot, fake: FakeTelegram) -> None:
    image = png()
    message = await bot.send_photo(ANNA, image, caption="Ihr QR-Code", filename="qr.png")
    assert message.photo and message.caption == "Ihr QR-Code"
    await bot.send_document(ANNA, b"%PDF-1.7 Bescheid", filename="bescheid.pdf")

    photo, document = fake.sent(ANNA)
    assert (photo.kind, photo.text, photo.data, photo.filename) == (
        "photo",
        "Ihr QR-Code",
        image,
        "qr.png",
    )
    assert document.kind == "document" and document.document == b"%PDF-1.7 Bescheid"
    assert document.filename == "bescheid.pdf" and document.mime_type == "application/pdf"
    upload = fake.calls("sendPhoto")[0].params["photo"]
    assert upload == {"filename": "qr.png", "size": len(image), "content_type": "image/png"}

    resent = await bot.send_photo(ANNA, message.photo[-1].file_id)  # by file_id
    assert fake.sent(ANNA)[-1].data == image and resent.photo
    with pytest.raises(BadRequest, match=r"(?i)IMAGE_PROCESS_FAILED"):
        await bot.send_photo(ANNA, b"not an image")


# --------------------------------------------------------------------------- edits & more


async def test_edits_keep_history_and_reject_no_ops(bot: Bot, fake: FakeTelegram) -> None:
    message = await bot.send_message(ANNA, "Frage?", reply_markup=keyboard("a", "b"))
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_text(
            "Frage?", ANNA, message.message_id, reply_markup=keyboard("a", "b")
        )
    edited = await bot.edit_message_text("Antwort: a", ANNA, message.message_id)
    assert isinstance(edited, type(message)) and edited.edit_date and edited.reply_markup is None
    await bot.edit_message_reply_markup(ANNA, message.message_id, reply_markup=keyboard("neu"))
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await bot.edit_message_text("x", ANNA, 99)

    [sent] = fake.sent(ANNA)
    assert sent.text == "Antwort: a" and sent.callback_data == ["neu"]
    assert [(v.text, v.reply_markup is not None) for v in sent.history] == [
        ("Frage?", True),
        ("Antwort: a", False),
    ]
    assert await bot.delete_message(ANNA, message.message_id)
    assert fake.sent(ANNA)[0].deleted
    with pytest.raises(BadRequest, match=r"(?i)message to delete not found"):
        await bot.delete_message(ANNA, message.message_id)


async def test_chat_actions_and_commands(bot: Bot, fake: FakeTelegram) -> None:
    await bot.send_chat_action(ANNA, ChatAction.UPLOAD_DOCUMENT)
    await bot.set_my_commands([("start", "Loslegen"), ("hilfe", "Hilfe")], language_code="de")
    assert fake.commands[("default", "de")][1] == {"command": "hilfe", "description": "Hilfe"}
    assert [c.command for c in await bot.get_my_commands(language_code="de")] == ["start", "hilfe"]
    with pytest.raises(BadRequest, match=r"(?i)BOT_COMMAND_INVALID"):
        await bot.set_my_commands([("Start!", "Nein")])


async def test_fail_next(bot: Bot, fake: FakeTelegram) -> None:
    fake.fail_next(1, "disconnect")
    with pytest.raises(NetworkError):
        await bot.send_message(ANNA, "eins")
    fake.fail_next(2, 500)
    await bot.get_me()  # only sending methods fail by default
    for _ in range(2):
        with pytest.raises(NetworkError, match=r"(?i)Internal Server Error"):
            await bot.send_message(ANNA, "zwei")
    fake.fail_next(1, "timeout")
    with pytest.raises(TimedOut):
        await bot.send_message(ANNA, "drei", read_timeout=0.2)
    fake.fail_next(1, 502, methods=["getUpdates"])
    with pytest.raises(NetworkError):
        await bot.get_updates(timeout=0)

    await bot.send_message(ANNA, "vier")
    assert [m.text for m in fake.sent()] == ["vier"]
    assert [r.status for r in fake.calls("sendMessage")] == [0, 500, 500, 0, 200]
    assert fake.calls("sendMessage")[0].params["text"] == "eins"


async def test_wait_for_sent(bot: Bot, fake: FakeTelegram) -> None:
    async def reply_later() -> None:
        await fake.wait_until(lambda: bool(fake.calls("getMe")))
        await bot.send_message(ANNA, "Antwort")

    task = asyncio.create_task(reply_later())
    [message] = await fake.wait_for_sent(1, chat_id=ANNA)
    assert message.text == "Antwort"
    await task
    with pytest.raises(TimeoutError, match="Antwort"):
        await fake.wait_for_sent(2, timeout=0.05)


# --------------------------------------------------------------------------- webhook


async def test_webhook_delivery_with_secret(bot: Bot, fake: FakeTelegram) -> None:
    received: list[dict[str, object]] = []

    async def receive(request: web.Request) -> web.Response:
        if request.headers.get(SECRET_HEADER) != "geheim-123":
            return web.Response(status=403)
        received.append(await request.json())
        return web.Response()

    app = web.Application()
    app.router.add_post("/telegram", receive)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}/telegram"
    try:
        await bot.set_webhook(url, secret_token="geheim-123")
        assert (await bot.get_webhook_info()).url == url
        with pytest.raises(Conflict):
            await bot.get_updates(timeout=0)

        result = await fake.send_text(ANNA, "Hallo Webhook")
        assert result.status == 200
        assert received == [result.update]
        update = Update.de_json(received[0], bot)
        assert update.message and update.message.text == "Hallo Webhook"

        wrong = await fake.send_text(ANNA, "Fälschung", secret_override="falsch")
        assert wrong.status == 403 and len(received) == 1
        info = await bot.get_webhook_info()
        assert info.last_error_message and "403" in info.last_error_message

        await bot.delete_webhook()
        await fake.send_text(ANNA, "wieder per Polling")
        [polled] = await bot.get_updates(timeout=0)
        assert polled.message and polled.message.text == "wieder per Polling"
    finally:
        await runner.cleanup()


# --------------------------------------------------------------------------- end to end


async def test_ptb_application_polling_end_to_end(fake: FakeTelegram) -> None:
    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message
        payload = " ".join(context.args or [])
        await update.effective_message.reply_text(
            f"Willkommen! ({payload})", reply_markup=keyboard("menu:0")
        )

    async def pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query
        await query.answer()
        await query.edit_message_text(f"Gewählt: {query.data}")

    app = (
        Application.builder()
        .token(fake.token)
        .base_url(fake.base_url)
        .base_file_url(fake.base_file_url)
        .build()
    )
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CallbackQueryHandler(pressed))
    async with app:
        await app.start()
        assert app.updater
        await app.updater.start_polling(poll_interval=0, timeout=5)
        try:
            await fake.send_text(ANNA, "/start gutschein-42")
            [welcome] = await fake.wait_for_sent(1)
            assert welcome.text == "Willkommen! (gutschein-42)"

            pushed = await fake.press_button(ANNA, welcome.message_id, "menu:0")
            press = fake.button_presses[pushed.callback_query_id or ""]
            await fake.wait_until(lambda: press.answered and welcome.text == "Gewählt: menu:0")
            assert welcome.reply_markup is None and len(welcome.history) == 1
        finally:
            await app.updater.stop()
            await app.stop()
