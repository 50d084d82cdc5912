"""Signed tokens: fixed keys, tampering, time, kinds, revocation, rotation, keys at rest."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select

from services.errors import NotFound
from services.trust import secret, tokens
from storage.db import Database
from storage.models.trust import SigningKey

SEED = bytes(range(32))  # a fixed key: the same token every run
KEY = Ed25519PrivateKey.from_private_bytes(SEED)
KEYSET = tokens.KeySet.from_json(
    {
        "keys": [
            {
                "kid": "fixed",
                "kty": "OKP",
                "crv": "Ed25519",
                "x": base64.urlsafe_b64encode(KEY.public_key().public_bytes_raw())
                .rstrip(b"=")
                .decode(),
            }
        ]
    }
)
T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def fixed_token(kind: str = "card", **claims: object) -> str:
    return tokens.sign(
        KEY,
        "fixed",
        kind=kind,
        token_id="abc123",
        claims=claims or {"first_name": "Anna"},
        not_before=T0,
        expires=T0 + timedelta(days=30),
    )


def test_fixed_key_gives_a_fixed_documented_token() -> None:
    token = fixed_token()
    version, kid, body, signature = token.split(".")
    assert (version, kid) == ("v1", "fixed")
    payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    assert payload == {
        "claims": {"first_name": "Anna"},
        "exp": int((T0 + timedelta(days=30)).timestamp()),
        "jti": "abc123",
        "kind": "card",
        "nbf": int(T0.timestamp()),
    }
    assert len(base64.urlsafe_b64decode(signature + "==")) == 64
    assert token == fixed_token()  # Ed25519 is deterministic
    assert all(c.isalnum() or c in "-_." for c in token)  # fits a URL path and a QR code
    verdict = tokens.check(token, KEYSET, kind="card", now=T0 + timedelta(hours=1))
    assert verdict == tokens.Verdict(True, "ok", {"first_name": "Anna"}, "abc123")


def test_every_changed_character_is_refused() -> None:
    token = fixed_token()
    now = T0 + timedelta(hours=1)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    for position in range(len(token)):
        if token[position] == ".":
            continue
        changed = alphabet[(alphabet.index(token[position]) + 1) % len(alphabet)]
        tampered = token[:position] + changed + token[position + 1 :]
        verdict = tokens.check(tampered, KEYSET, kind="card", now=now)
        assert not verdict.valid, position
        assert verdict.reason in {"malformed", "signature", "unknown_key"}
        assert verdict.claims == {}


@pytest.mark.parametrize(
    "token",
    ["", "v1", "v1.fixed.e30.", "v2.fixed.x.y", "v1.fixed.!!.??", "not a token at all", "a.b.c.d"],
)
def test_garbage_is_malformed(token: str) -> None:
    assert tokens.check(token, KEYSET, kind="card", now=T0) == tokens.Verdict(
        False, "malformed", {}, ""
    )


def test_time_kind_revocation_and_unknown_keys() -> None:
    token = fixed_token()
    inside = T0 + timedelta(days=1)
    assert tokens.check(token, KEYSET, kind="card", now=T0 - timedelta(seconds=1)).reason == (
        "not_yet_valid"
    )
    assert tokens.check(token, KEYSET, kind="card", now=T0).valid
    expired = tokens.check(token, KEYSET, kind="card", now=T0 + timedelta(days=30))
    assert (expired.valid, expired.reason, expired.claims) == (
        False,
        "expired",
        {"first_name": "Anna"},
    )
    assert tokens.check(token, KEYSET, kind="key", now=inside).reason == "wrong_kind"
    revoked = tokens.check(token, KEYSET, kind="card", now=inside, revoked={"abc123"})
    assert (revoked.reason, revoked.token_id) == ("revoked", "abc123")
    other = tokens.KeySet()
    assert tokens.check(token, other, kind="card", now=inside).reason == "unknown_key"
    forged = tokens.sign(
        Ed25519PrivateKey.generate(),
        "fixed",
        kind="card",
        token_id="abc123",
        claims={"first_name": "Anna"},
        not_before=T0,
        expires=T0 + timedelta(days=30),
    )
    assert tokens.check(forged, KEYSET, kind="card", now=inside).reason == "signature"


async def test_issue_check_revoke_online(db: Database) -> None:
    async with db.uow() as uow:
        token, token_id = await tokens.issue(
            uow, "card", {"n": 1}, not_before=T0, expires=T0 + timedelta(days=1), now=T0
        )
        await uow.commit()
    async with db.uow() as uow:
        keys = await tokens.keyset(uow)
        assert tokens.check(token, keys, kind="card", now=T0).valid
        verdict = await tokens.check_online(uow, token, kind="card", now=T0)
        assert (verdict.valid, verdict.claims, verdict.token_id) == (True, {"n": 1}, token_id)
        await tokens.revoke(uow, token_id, "lost", T0)
        await tokens.revoke(uow, token_id, "again", T0)  # nothing changes
        with pytest.raises(NotFound):
            await tokens.revoke(uow, "unknown", "x", T0)
        await uow.commit()
    async with db.uow() as uow:
        assert await tokens.revoked_ids(uow) == {token_id}
        assert (await tokens.check_online(uow, token, kind="card", now=T0)).reason == "revoked"
        listed = await tokens.revocation_list(uow, T0)
        assert [r["jti"] for r in listed["revoked"]] == [token_id]
        after = await tokens.revocation_list(uow, T0 + timedelta(days=2))
        assert after["revoked"] == []  # expired tokens need no listing


async def test_rotation_keeps_old_tokens_valid_until_they_expire(db: Database) -> None:
    async with db.uow() as uow:
        old_token, _ = await tokens.issue(
            uow, "key", {}, not_before=T0, expires=T0 + timedelta(days=10), now=T0
        )
        old_kid = old_token.split(".")[1]
        new_kid = await tokens.rotate(uow, T0 + timedelta(days=1))
        new_token, _ = await tokens.issue(
            uow,
            "key",
            {},
            not_before=T0,
            expires=T0 + timedelta(days=5),
            now=T0 + timedelta(days=1),
        )
        await uow.commit()
    assert new_kid != old_kid and new_token.split(".")[1] == new_kid
    async with db.uow() as uow:
        keys = await tokens.keyset(uow)
        document = keys.to_json()
    assert [k["kid"] for k in document["keys"]] == [old_kid, new_kid]
    assert "retired" in document["keys"][0] and "retired" not in document["keys"][1]
    assert document["keys"][0]["signs_until"].startswith("2026-12-11")
    offline = tokens.KeySet.from_json(json.loads(json.dumps(document)))
    at = T0 + timedelta(days=2)
    assert tokens.check(old_token, offline, kind="key", now=at).valid
    assert tokens.check(new_token, offline, kind="key", now=at).valid
    assert tokens.check(old_token, offline, kind="key", now=T0 + timedelta(days=10)).reason == (
        "expired"
    )


async def test_private_keys_are_stored_encrypted(db: Database) -> None:
    async with db.uow() as uow:
        await tokens.issue(uow, "card", {}, not_before=T0, expires=T0 + timedelta(days=1), now=T0)
        await uow.commit()
    async with db.uow() as uow:
        stored = (await uow.session.execute(select(SigningKey.private_key))).scalar_one()
    sealed = base64.urlsafe_b64decode(stored + "=" * (-len(stored) % 4))
    assert len(sealed) == 12 + 32 + 16  # nonce, the 32-byte seed, the GCM tag
    db.key_secret = secret.derive("a different secret")
    try:
        async with db.uow() as uow:
            with pytest.raises(RuntimeError, match="cannot be decrypted"):
                await tokens.issue(
                    uow, "card", {}, not_before=T0, expires=T0 + timedelta(days=1), now=T0
                )
    finally:
        db.key_secret = None


def test_secret_file_is_made_private_once(tmp_path: Path) -> None:
    first = secret.load(None, tmp_path / "data")
    path = tmp_path / "data" / "signing-secret"
    assert path.stat().st_mode & 0o777 == 0o600
    assert secret.load(None, tmp_path / "data") == first
    assert secret.load("from the setting", tmp_path / "data") != first
    assert len(first) == 32


async def test_parallel_first_issues_make_one_key(db: Database) -> None:
    import asyncio

    async def first() -> str:
        async with db.uow() as uow:
            token, _ = await tokens.issue(
                uow, "key", {}, not_before=T0, expires=T0 + timedelta(days=1), now=T0
            )
            await uow.commit()
            return token.split(".")[1]

    kids = await asyncio.gather(*(first() for _ in range(4)))
    assert len(set(kids)) == 1
    async with db.uow() as uow:
        assert len((await tokens.keyset(uow)).keys) == 1
