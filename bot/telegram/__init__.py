"""The Telegram channel (python-telegram-bot as a client): adapter, rendering, webhook."""

from bot.telegram.channel import TelegramChannel, webhook_path

__all__ = ["TelegramChannel", "webhook_path"]
