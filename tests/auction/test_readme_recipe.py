"""The README's auction recipe, run as it stands: demo data placed at the time machine's date,
a deal alert set days before, the night's step, the alert (never above the limit), buying and
paying, staff listing. Each line runs through bash as a reader would type it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]


def recipe() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("### Lost-and-found auction") :]
    block = re.search(r"```sh\n(.*?)```", section, re.S)
    assert block is not None, "the auction section has no sh block"
    return [line for line in block[1].splitlines() if line.strip()]


@pytest.mark.slow
def test_the_readme_auction_recipe_works_as_written(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STADTLOTSE_")}
    env["PYTHONPATH"] = str(ROOT)
    env["STADTLOTSE_DATA_DIR"] = str(tmp_path / "var")
    program = f"{sys.executable} -m bot.cli"
    lines = recipe()
    assert all(".venv/bin/stadtlotse" in line for line in lines[1:])
    script = "set -e\nmkdir -p var\n" + "\n".join(
        f"echo '### {n}'\n" + line.replace(".venv/bin/stadtlotse", program)
        for n, line in enumerate(lines)
    )
    done = subprocess.run(
        ["bash", "-c", script],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    steps = re.split(r"^### \d+\n", done.stdout.replace("\xa0", " "), flags=re.M)[1:]
    _export, demo, alert_set, night, alert_buy, staff = steps
    assert "demo" in demo.lower() or "anna" in demo
    assert "Schnäppchen-Alarm an: Fahrräder, bis 155,00 €" in alert_set
    # alerts never name an item above the limit, also not the ones "already that cheap"
    for price in re.findall(r" – (\d+,\d\d) €", alert_set):
        assert float(price.replace(",", ".")) <= 155, alert_set
    assert "1 alerts" in night
    assert (
        "Schnäppchen-Alarm: Damenfahrrad Gazelle, blau kostet jetzt 153,00 € (Ihr Limit: 155,00 €)"
        in (alert_buy)
    )
    assert "für 153,00 € für Sie reserviert" in alert_buy
    assert "ist bezahlt (153,00 €)" in alert_buy
    assert "Foto" in staff
    assert (tmp_path / "var" / "auction-demo.db").exists()
