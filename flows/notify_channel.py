"""/notifications: which linked channel (Telegram, Matrix, console) gets the resident's news."""

from __future__ import annotations

from flows.context import Ctx
from flows.menu import back_to_menu
from flows.registry import Router
from flows.types import Button
from services.i18n import N_
from services.identity import accounts as identity

router = Router("notify_channel")
router.add_keywords("notify.choose", ["benachrichtigungen", "notifications", "nachrichten"])

CHANNEL_NAMES = {"telegram": "Telegram", "matrix": "Matrix", "console": "Console"}


async def _reachable_channels(ctx: Ctx) -> list[str]:
    accounts = await identity.accounts_of(ctx.uow, ctx.citizen_id)
    return sorted({a.channel for a in accounts if a.unreachable_at is None and a.chat_id})


@router.command("notifications", "benachrichtigungen", help=N_("choose where I send you news"))
async def notifications_command(ctx: Ctx, args: str) -> None:
    await choose(ctx, "")


@router.action("notify.choose")
async def choose(ctx: Ctx, arg: str) -> None:
    channels = await _reachable_channels(ctx)
    current = ctx.citizen.notify_channel
    text = (
        ctx.t("I send your news to {channel}.", channel=CHANNEL_NAMES.get(current, current))
        if current in channels
        else ctx.t("I send your news to the chat you used last.")
    )
    if len(channels) < 2:
        ctx.say(
            text
            + "\n"
            + ctx.t(
                "Link another channel with /link to choose where news should go "
                "(for example Matrix or Telegram)."
            ),
            [back_to_menu(ctx)],
        )
        return
    ctx.say(
        text + "\n" + ctx.t("Where should I send news from now on?"),
        [Button(CHANNEL_NAMES.get(ch, ch), "notify.set", ch) for ch in channels]
        + [back_to_menu(ctx)],
    )


@router.action("notify.set")
async def set_channel(ctx: Ctx, arg: str) -> None:
    if arg not in await _reachable_channels(ctx):
        await choose(ctx, "")
        return
    ctx.citizen.notify_channel = arg
    ctx.done()
    ctx.say(
        ctx.t("From now on I send your news to {channel}.", channel=CHANNEL_NAMES.get(arg, arg)),
        [back_to_menu(ctx)],
    )
