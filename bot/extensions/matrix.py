"""The Matrix channel in the running program: set up when STADTLOTSE_MATRIX_HOMESERVER is set;
`stadtlotse run` logs in (start) and keeps syncing (run)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.matrix.channel import MatrixChannel

if TYPE_CHECKING:
    from bot.bootstrap import App


def setup(app: App) -> None:
    if not app.settings.matrix_homeserver:
        return
    channel = MatrixChannel(app.settings, app.db, app.dispatcher, app.city, app.clock)
    app.channels[channel.name] = channel
    app.env.chat_security[channel.name] = channel.is_encrypted


async def run(app: App) -> None:
    channel = app.channels.get(MatrixChannel.name)
    if not isinstance(channel, MatrixChannel):
        return
    await channel.started.wait()
    await channel.run()
