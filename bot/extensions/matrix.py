"""The Matrix channel in the running program: set up when STADTLOTSE_MATRIX_HOMESERVER is set;
`stadtlotse run` logs in and keeps syncing on the replica that holds the Matrix role."""

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


# No `run` here: `stadtlotse run` starts the channel with its role, on the replica that sends
# (bot/commands/run.py, bot/roles.py).
