"""PTB's networking on aiohttp (bot/telegram/request.py) against a small local server: form
parameters and file uploads arrive as PTB means them, Telegram's error answers become PTB's
errors, a server that does not answer in time is a TimedOut, one that is not there a
NetworkError."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from telegram import Bot, InputFile
from telegram.error import BadRequest, NetworkError, RetryAfter, TimedOut

from bot.telegram.channel import retry_seconds
from bot.telegram.request import AiohttpRequest

TOKEN = "123:TEST"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Api:
    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, str], dict[str, bytes]]] = []
        self.stall = 0.0

    async def handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        form = await request.post()
        fields = {k: v for k, v in form.items() if isinstance(v, str)}
        files = {k: v.file.read() for k, v in form.items() if isinstance(v, web.FileField)}
        self.calls.append((method, fields, files))
        if self.stall:
            await asyncio.sleep(self.stall)
        if method == "getMe":
            result = {"id": 123, "is_bot": True, "first_name": "Lotse", "username": "lotse_bot"}
            return web.json_response({"ok": True, "result": result})
        if fields.get("text") == "too fast":
            body = {"ok": False, "error_code": 429, "description": "Too Many Requests",
                    "parameters": {"retry_after": 7}}  # fmt: skip
            return web.json_response(body, status=429)
        if fields.get("chat_id") == "0":
            body = {"ok": False, "error_code": 400, "description": "Bad Request: chat not found"}
            return web.json_response(body, status=400)
        message = {"message_id": 41, "date": 0, "chat": {"id": 5, "type": "private"}}
        return web.json_response({"ok": True, "result": message})


@pytest.fixture
async def api() -> AsyncIterator[tuple[Api, str]]:
    server = Api()
    app = web.Application()
    app.router.add_post("/bot{token}/{method}", server.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield server, f"http://127.0.0.1:{port}/bot"
    await runner.cleanup()


async def test_parameters_files_and_errors_arrive_as_ptb_means_them(api: tuple[Api, str]) -> None:
    server, base = api
    async with Bot(TOKEN, base_url=base, request=AiohttpRequest(4)) as bot:
        keyboard = {"inline_keyboard": [[{"text": "Ja", "callback_data": "M:0"}]]}
        sent = await bot.do_api_request(
            "sendMessage", api_kwargs={"chat_id": 5, "text": "Grüß Gott", "reply_markup": keyboard}
        )
        assert isinstance(sent, dict) and sent["message_id"] == 41
        method, fields, _ = server.calls[-1]
        assert method == "sendMessage" and fields["text"] == "Grüß Gott"
        assert json.loads(fields["reply_markup"]) == keyboard

        await bot.send_document(5, InputFile(b"%PDF-1.4 x", filename="Bescheid.pdf"))
        method, fields, files = server.calls[-1]
        assert method == "sendDocument" and fields["chat_id"] == "5"
        assert list(files.values()) == [b"%PDF-1.4 x"]

        with pytest.raises(RetryAfter) as limited:
            await bot.send_message(5, "too fast")
        assert retry_seconds(limited.value) == 7
        with pytest.raises(BadRequest, match=r"(?i)chat not found"):
            await bot.send_message(0, "x")


async def test_a_server_that_does_not_answer_is_a_timeout(api: tuple[Api, str]) -> None:
    server, base = api
    async with Bot(TOKEN, base_url=base, request=AiohttpRequest(2, read_timeout=0.2)) as bot:
        server.stall = 1.0
        with pytest.raises(TimedOut):
            await bot.send_message(5, "x")


async def test_a_server_that_is_not_there_is_a_network_error() -> None:
    request = AiohttpRequest(2)
    await request.initialize()
    try:
        with pytest.raises(NetworkError) as failed:
            await request.do_request(f"http://127.0.0.1:{free_port()}/bot1:x/getMe", "POST")
        assert not isinstance(failed.value, TimedOut)
    finally:
        await request.shutdown()
