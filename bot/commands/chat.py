"""`stadtlotse chat`: the console channel on standard input and output."""

from __future__ import annotations

import argparse
import sys

from bot.bootstrap import App, build_app
from bot.console import NAME, ConsoleChannel, parse_line, read_lines, session_key
from storage.migrate import upgrade


async def chat(args: argparse.Namespace) -> int:
    app = build_app(args.settings)
    await upgrade(app.db)
    try:
        await converse(app, args.user, room=args.room)
    finally:
        await app.close()
    return 0


async def converse(
    app: App, user: str, *, room: str = "", stdin: object = None, stdout: object = None
) -> None:
    """Read lines until end of input; answer each; show notifications meant for this chat."""
    out = stdout or sys.stdout
    console = ConsoleChannel(out)  # type: ignore[arg-type]
    app.channels[NAME] = console
    chat_id = f"room:{room}" if room else user
    source = stdin or sys.stdin
    echo = not getattr(source, "isatty", lambda: False)()
    key = session_key()
    queue = await read_lines(source)  # type: ignore[arg-type]
    if not echo:
        where = f"room {room}" if room else f"user {user}"
        out.write(f"Stadtlotse ({app.city.name}, {where}) – type /start or /help; Ctrl-D ends.\n")  # type: ignore[attr-defined]
    number = 0
    while True:
        line = await queue.get()
        if line is None:
            break
        number += 1
        if echo:
            out.write(f"> {line.rstrip()}\n")  # type: ignore[attr-defined]
        inbound = parse_line(
            line, user=user, chat=chat_id, key=f"{key}:{number}", is_group=bool(room)
        )
        if inbound is None:
            continue
        console.show(await app.dispatcher.handle(inbound))
        await app.sender.drain(only_chats={(NAME, chat_id)})
