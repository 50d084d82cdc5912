"""Capabilities that need wiring in the running program (channels, payment providers, the
scheduler) put a module here. Each module may define any of:

    def setup(app: App) -> None            # fill app.env (provider, links, checks), add channels
    def cli(commands: argparse._SubParsersAction) -> None   # add `stadtlotse` subcommands
    def web(app: App) -> list[fastapi.APIRouter]            # routes of the web app
    def hot_routes(app: App) -> dict[str, ASGIApp]  # exact POST paths served before FastAPI
    async def run(app: App) -> None        # a background task while `stadtlotse run` runs
    async def demo(app: App, uow: UnitOfWork, now: datetime) -> str   # `stadtlotse demo-data`
"""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType


def modules() -> list[ModuleType]:
    return [
        importlib.import_module(f"{__name__}.{m.name}")
        for m in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name)
    ]
