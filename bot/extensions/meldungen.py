"""The public page of defect reports: /meldungen."""

from __future__ import annotations

from fastapi import APIRouter

from bot.bootstrap import App
from bot.meldungen import routes


def web(app: App) -> list[APIRouter]:
    return [routes.router(app)]
