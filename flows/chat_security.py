"""/room: whether this chat is end-to-end encrypted, said plainly. The channel adapters that
know it register a check in `env.chat_security[channel] = async (chat_id) -> bool | None`."""

from __future__ import annotations

from flows.context import Ctx
from flows.registry import Router
from services import i18n
from services.i18n import N_

router = Router("chat_security")
router.add_keywords("room.security", ["verschlüsselt", "encrypted", "verschlüsselung"])

ENCRYPTED = N_(
    "🔒 This room is end-to-end encrypted: only you and I can read it, not the server. "
    "I send your personal data (profile, forms, codes) only here."
)
NOT_ENCRYPTED = N_(
    "⚠️ This room is not end-to-end encrypted: the operators of the chat server can read it. "
    "For more privacy, start a new direct chat with me with encryption switched on – "
    "I will then answer there."
)
UNKNOWN = N_("I cannot tell whether this chat is end-to-end encrypted.")


def security_text(lang: str, encrypted: bool | None) -> str:
    if encrypted is None:
        return i18n.translate(lang, UNKNOWN)
    return i18n.translate(lang, ENCRYPTED if encrypted else NOT_ENCRYPTED)


@router.command("room", "raum", help=N_("is this chat end-to-end encrypted?"))
async def room_command(ctx: Ctx, args: str) -> None:
    await show(ctx, "")


@router.action("room.security")
async def show(ctx: Ctx, arg: str) -> None:
    check = ctx.env.chat_security.get(ctx.inbound.channel)
    encrypted = await check(ctx.inbound.chat_id) if check is not None else None
    ctx.say(security_text(ctx.lang, encrypted))
