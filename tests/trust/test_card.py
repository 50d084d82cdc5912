"""The resident card: in the wallet with its check link, the public /v/ page (German, English,
in Chromium), the published keys and revocations, offline checks, and what revokes it."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from bot.bootstrap import App, build_app
from bot.settings import Settings
from bot.web import create_web_app
from services.city import City
from services.clock import FrozenClock
from services.identity import privacy
from services.trust import card as cards
from services.trust import tokens
from storage.db import Database
from storage.models.identity import Citizen
from tests.conftest import START
from tests.support import browser
from tests.support import trust as verified
from tests.support.chat import Transcript

PUBLIC = "http://127.0.0.1:8080"


@pytest.fixture
def app(db: Database, city: City, clock: FrozenClock) -> App:
    settings = Settings(public_url=PUBLIC, _env_file=None)  # type: ignore[call-arg]
    return build_app(settings, clock=clock, db=db, city=city)


@pytest.fixture
async def web(app: App) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_web_app(app))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


async def card_of(chat: Transcript, citizen_id: int) -> str:
    """Verify the resident at the counter (as staff would) and return their card's token."""
    async with chat.db.uow() as uow:
        await verified.verify(uow, chat.city, citizen_id, chat.clock.now())
        citizen = await uow.session.get(Citizen, citizen_id)
        assert citizen is not None
        card = await cards.ensure(uow, chat.city, citizen, chat.clock.now())
        assert card is not None
        await uow.commit()
        return card.token


async def test_the_card_in_the_wallet_shows_its_check_link(
    chat: Transcript, people: dict[str, int]
) -> None:
    token = await card_of(chat, people["anna"])
    wallet = await chat.send("anna", "/wallet")
    assert "Ahaus-Karte" in wallet
    shown = await chat.press("anna", "Ahaus-Karte")
    link = f"{PUBLIC}/v/{token}"
    assert link in shown  # the link as text next to the QR code
    assert "Anna S." in shown and "Schulte" not in shown
    assert "Einwohner seit" in shown and "Gültig bis 25.11.2027" in shown
    media = [r.media for r in chat.last["anna"] if r.media]
    assert media and media[0].filename == "ahaus-karte.png"
    ben = await chat.send("ben", "Ahaus-Karte")
    assert "persönlich geprüft wurde" in ben  # not verified: no card, told how to get one


async def test_the_check_page_in_german_and_english(
    web: httpx.AsyncClient, chat: Transcript, people: dict[str, int]
) -> None:
    token = await card_of(chat, people["anna"])
    german = await web.get(f"/v/{token}", headers={"Accept-Language": "de-DE,de;q=0.9"})
    assert german.status_code == 200
    assert "✓ Gültig" in german.text and "Anna S." in german.text
    assert "Ahaus-Karte" in german.text and "25.11.2027" in german.text
    for secret in ("Schulte", "Marktstraße", "1980", "48683"):
        assert secret not in german.text  # only what the card shows
    assert german.headers["cache-control"] == "no-store"
    english = await web.get(f"/v/{token}?lang=en")
    assert "✓ Valid" in english.text and "Ahaus card" in english.text
    by_header = await web.get(f"/v/{token}", headers={"Accept-Language": "en-GB,en"})
    assert "✓ Valid" in by_header.text


async def test_unknown_malformed_and_forged_tokens_get_the_same_answer(
    web: httpx.AsyncClient, chat: Transcript, people: dict[str, int]
) -> None:
    token = await card_of(chat, people["anna"])
    version, kid, body, signature = token.split(".")
    flipped = signature[:10] + ("A" if signature[10] != "A" else "B") + signature[11:]
    answers = set()
    for bad in (
        "nonsense",
        "v1.unknown.e30.AAAA",
        f"{version}.{kid}.{body}.{flipped}",  # one character changed
        f"{version}.nokey.{body}.{signature}",  # a key the town does not have
        token[:-3],
    ):
        page = await web.get(f"/v/{bad}")
        assert page.status_code == 200
        assert "✗ Nicht gültig" in page.text and "Anna" not in page.text
        answers.add(page.text)
    assert len(answers) == 1


async def test_expired_and_revoked_cards(
    web: httpx.AsyncClient, app: App, chat: Transcript, people: dict[str, int]
) -> None:
    token = await card_of(chat, people["anna"])
    async with chat.db.uow() as uow:
        verdict = await tokens.check_online(uow, token, kind="card", now=chat.clock.now())
        await tokens.revoke(uow, verdict.token_id, "test", chat.clock.now())
        await uow.commit()
    revoked = await web.get(f"/v/{token}?lang=en")
    assert "✗ Not valid" in revoked.text and "This card was revoked." in revoked.text
    assert "Anna" not in revoked.text
    other = await card_of(chat, people["ben"])
    chat.clock.advance(timedelta(days=366))
    expired = await web.get(f"/v/{other}?lang=en")
    assert "This card has expired." in expired.text


async def test_published_keys_and_revocations_check_offline(
    web: httpx.AsyncClient, chat: Transcript, people: dict[str, int]
) -> None:
    token = await card_of(chat, people["anna"])
    keys = (await web.get("/.well-known/stadtlotse-keys.json")).json()
    assert keys["keys"][0]["kty"] == "OKP" and keys["keys"][0]["crv"] == "Ed25519"
    assert "d" not in keys["keys"][0]  # never the private half
    offline = tokens.KeySet.from_json(keys)
    now = chat.clock.now()
    assert tokens.check(token, offline, kind="card", now=now).valid
    assert (await web.get("/.well-known/stadtlotse-revoked.json")).json()["revoked"] == []
    # /deleteme revokes the card before erasing
    async with chat.db.uow() as uow:
        await privacy.close_holdings(uow, people["anna"], now)
        await privacy.erase_citizen(uow, people["anna"], now)
        await uow.commit()
    listed = (await web.get("/.well-known/stadtlotse-revoked.json")).json()
    revoked = {entry["jti"] for entry in listed["revoked"]}
    verdict = tokens.check(token, offline, kind="card", now=now, revoked=revoked)
    assert verdict.reason == "revoked"


def test_credential_verify_on_the_command_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import asyncio

    from bot.cli import main

    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("STADTLOTSE_DATABASE_URL", url)
    monkeypatch.setenv("STADTLOTSE_NOW", "2026-11-25T10:00:00+01:00")
    monkeypatch.setenv("STADTLOTSE_DATA_DIR", str(tmp_path / "data"))
    assert main(["demo-data"]) == 0
    link = next(
        line.split("check: ", 1)[1].rstrip(")")
        for line in capsys.readouterr().out.splitlines()
        if "check: " in line
    )

    assert main(["credential", "verify", link]) == 0
    out = capsys.readouterr().out
    assert out.startswith("valid") and "Anna S." in out
    token = link.rsplit("/v/", 1)[1]
    changed = token[:-5] + ("A" if token[-5] != "A" else "B") + token[-4:]
    assert main(["credential", "verify", changed]) == 1
    assert capsys.readouterr().out.startswith("not valid")
    assert main(["credential", "verify", token, "--at", "2028-01-01T00:00:00+01:00"]) == 1
    assert "expired" in capsys.readouterr().out

    # rotation: the card signed with the old key stays valid; offline with saved documents
    assert main(["keys", "rotate"]) == 0
    assert "1 older keys stay" in capsys.readouterr().out
    assert main(["credential", "verify", token]) == 0
    capsys.readouterr()

    async def documents() -> dict[str, object]:
        now = FrozenClock(START).now()
        db = Database(url)
        try:
            async with db.uow() as uow:
                keys = (await tokens.keyset(uow)).to_json()
                verdict = await tokens.check_online(uow, token, kind="card", now=now)
                await tokens.revoke(uow, verdict.token_id, "lost", now)
                revoked = await tokens.revocation_list(uow, now)
                await uow.commit()
                return {"keys": keys, "revoked": revoked}
        finally:
            await db.dispose()

    saved = asyncio.run(documents())
    (tmp_path / "keys.json").write_text(json.dumps(saved["keys"]))
    (tmp_path / "revoked.json").write_text(json.dumps(saved["revoked"]))
    offline = ["credential", "verify", token, "--keys", str(tmp_path / "keys.json")]
    assert main(offline) == 0  # without the revocation list it cannot know
    assert main([*offline, "--revoked", str(tmp_path / "revoked.json")]) == 1
    assert "revoked" in capsys.readouterr().out.splitlines()[-2]
    assert main(["credential", "verify", token]) == 1  # online knows at once


async def test_the_page_in_chromium(
    app: App, chat: Transcript, people: dict[str, int], request: pytest.FixtureRequest
) -> None:
    browser.chromium_or_skip()
    token = await card_of(chat, people["anna"])
    async with browser.serve(create_web_app(app)) as base:
        valid = await browser.dump_dom(f"{base}/v/{token}?lang=de", wait_ms=500)
        english = await browser.dump_dom(f"{base}/v/{token}?lang=en", wait_ms=500)
        invalid = await browser.dump_dom(f"{base}/v/{token[:-2]}xx?lang=en", wait_ms=500)
        out = Path(__file__).resolve().parents[2] / "var" / "test-output"
        shot = await browser.screenshot(
            f"{base}/v/{token}", out / f"card-{request.node.callspec.id}.png"
        )
    assert 'data-valid="true"' in valid and "Gültig" in valid and "Anna S." in valid
    assert "Valid" in english and "Resident since" in english
    assert 'data-valid="false"' in invalid and "Anna" not in invalid
    assert shot.exists()
