"""Channel-neutral conversations, one module per capability. Importing the package registers
every flow's router (see flows.registry)."""

from __future__ import annotations

import importlib
import pkgutil


def load_all() -> None:
    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")


load_all()
