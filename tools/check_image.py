"""The container image's commands, run without Docker (tools/check_wheel.sh calls this).

Reads the last stage of the Dockerfile and does what the image does with the wheel that
check_wheel.sh built: the same install (a venv, the locked versions from constraints.txt), the
same environment (ENV, with the image's paths mapped into a scratch folder), the same working
directory, ENTRYPOINT + CMD (`stadtlotse run`, no terminal, as in a container), the HEALTHCHECK
command until it passes, then /readyz and /metrics, `stadtlotse backup` as the operations guide
says, and a stop with SIGTERM as `docker stop` sends it (the program must exit 0).

    python tools/check_image.py WHEEL WORKDIR
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
START_PERIOD = 90.0  # seconds the program may take to answer its health check


def fail(message: str) -> None:
    print(f"check_image: {message}")
    raise SystemExit(1)


def last_stage(dockerfile: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the final stage, continuation lines joined."""
    text = re.sub(r"\\\n\s*", " ", dockerfile)
    lines = [line.strip() for line in text.splitlines()]
    instructions = [line.split(None, 1) for line in lines if line and not line.startswith("#")]
    froms = [i for i, parts in enumerate(instructions) if parts[0].upper() == "FROM"]
    return [(p[0].upper(), p[1] if len(p) > 1 else "") for p in instructions[froms[-1] :]]


def env_of(stage: list[tuple[str, str]]) -> dict[str, str]:
    env: dict[str, str] = {}
    for instruction, args in stage:
        if instruction == "ENV":
            for pair in shlex.split(args):
                key, _, value = pair.partition("=")
                env[key] = value
    return env


def exec_form(stage: list[tuple[str, str]], instruction: str) -> list[str]:
    for name, args in stage:
        if name == instruction:
            if instruction == "HEALTHCHECK":
                args = args[args.index("CMD") + 3 :]
            return list(json.loads(args))
    fail(f"the Dockerfile has no {instruction}")
    return []


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run(cmd: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, capture_output=True, text=True, **kwargs)  # type: ignore[call-overload, no-any-return]


def main(wheel: Path, work: Path) -> None:
    stage = last_stage((ROOT / "Dockerfile").read_text(encoding="utf-8"))
    installs = [args for name, args in stage if name == "RUN" and "pip install" in args]
    if not installs or "-c /tmp/constraints.txt" not in installs[0]:
        fail("the image must install the wheel with -c constraints.txt")
    venv, data = work / "opt-stadtlotse", work / "var-lib-stadtlotse"
    paths = {"/opt/stadtlotse": str(venv), "/var/lib/stadtlotse": str(data)}

    def mapped(value: str) -> str:
        for inside, outside in paths.items():
            value = value.replace(inside, outside)
        return value

    print("check_image: the image's install (venv, locked versions)")
    for step in (
        [sys.executable, "-m", "venv", str(venv)],
        [str(venv / "bin/python"), "-m", "pip", "install", "--quiet", "--no-cache-dir",
         "-c", str(ROOT / "constraints.txt"), str(wheel)],
    ):  # fmt: skip
        done = run(step)
        if done.returncode != 0:
            fail(f"{' '.join(step)} failed:\n{done.stdout}{done.stderr}")
    data.mkdir(parents=True)

    env = {k: v for k, v in os.environ.items() if not k.startswith("STADTLOTSE_")}
    env.pop("PYTHONPATH", None)
    env.update({key: mapped(value) for key, value in env_of(stage).items()})
    port = free_port()
    env["STADTLOTSE_WEB_PORT"] = str(port)
    if env.get("STADTLOTSE_WEB_HOST") != "0.0.0.0":
        fail("the image must listen on all interfaces (STADTLOTSE_WEB_HOST=0.0.0.0)")
    workdir = mapped(next(args for name, args in stage if name == "WORKDIR"))
    command = exec_form(stage, "ENTRYPOINT") + exec_form(stage, "CMD")
    command[0] = str(venv / "bin" / command[0])
    print(f"check_image: {' '.join(command)} (as the container runs it)")
    log = work / "run.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, cwd=workdir, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=out
        )
    try:
        health = exec_form(stage, "HEALTHCHECK")
        health[0] = str(venv / "bin" / health[0])
        deadline = time.monotonic() + START_PERIOD
        while run(health, env=env).returncode != 0:
            if process.poll() is not None or time.monotonic() > deadline:
                fail(f"the HEALTHCHECK never passed:\n{log.read_text(errors='replace')}")
            time.sleep(1)
        print("check_image: HEALTHCHECK passes")
        for path, expected in (("/readyz", '"ready":true'), ("/metrics", "stadtlotse_leader")):
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as answer:
                body = answer.read().decode()
            if expected not in body:
                fail(f"GET {path} lacks {expected!r}: {body[:500]}")
        backup = run([str(venv / "bin/stadtlotse"), "backup", "--out", str(work / "b.tar.gz")],
                     cwd=workdir, env=env)  # fmt: skip
        if backup.returncode != 0:
            fail(f"stadtlotse backup failed: {backup.stderr}")
        print("check_image: /readyz, /metrics and stadtlotse backup answer")
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)  # docker stop
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
                fail("stadtlotse run did not stop within 20 s of SIGTERM")
    if process.returncode != 0:
        fail(f"stadtlotse run exited {process.returncode}:\n{log.read_text(errors='replace')}")
    if "Traceback" in log.read_text(errors="replace"):
        fail(f"a traceback while running:\n{log.read_text(errors='replace')}")
    print("check_image: ok, stopped cleanly on SIGTERM")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
