"""Write a German catalogue from a Python dict of msgid -> German text.

Usage: python tools/write_po.py MODULE NAME  (MODULE defines TRANSLATIONS: dict[str, str])
Writes services/locales/de/NAME.po. Developers may also edit .po files directly."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import write_po


def write(translations: dict[str, str], name: str) -> Path:
    catalog = Catalog(locale="de", project="Stadtlotse", charset="utf-8")
    for msgid, msgstr in translations.items():
        catalog.add(msgid, msgstr)
    target = Path(__file__).resolve().parent.parent / "services" / "locales" / "de" / f"{name}.po"
    with target.open("wb") as handle:
        write_po(handle, catalog, width=100, omit_header=False, sort_output=True)
    return target


if __name__ == "__main__":
    spec = importlib.util.spec_from_file_location("translations", sys.argv[1])
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    print(write(module.TRANSLATIONS, sys.argv[2]))
