"""Signed tokens: the town vouches for a resident card or a digital key.

Format (URL-safe ASCII, fits a URL path and a QR code):

    v1.<kid>.<payload>.<signature>

`payload` is base64url (no padding) of compact JSON
`{"claims": {...}, "exp": 1767225600, "jti": "...", "kind": "card", "nbf": 1764543600}`
(times in Unix seconds, UTC). `signature` is base64url of the Ed25519 signature over the
ASCII bytes `v1.<kid>.<payload>`. `kid` names the key; the public keys are published as
`/.well-known/stadtlotse-keys.json` (JWK, "OKP"/"Ed25519") and the ids of revoked tokens as
`/.well-known/stadtlotse-revoked.json`, so a token can be checked offline.

Keys: the first `issue` makes a key; `rotate` retires the current one and makes another.
Retired keys stay in the key set, so what they signed stays valid until it expires.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import secrets
from collections.abc import Container
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import or_, select, text, update

from services.errors import NotFound
from services.trust import secret as key_secret
from storage.models.trust import IssuedToken, SigningKey
from storage.uow import UnitOfWork

VERSION = "v1"
FIRST_KEY_LOCK = 0x5354_4B45_5931  # advisory lock id while the first signing key is made
REASONS = (
    "ok",
    "malformed",
    "signature",
    "unknown_key",
    "wrong_kind",
    "not_yet_valid",
    "expired",
    "revoked",
)


@dataclass(frozen=True)
class Verdict:
    valid: bool
    reason: str  # one of REASONS
    claims: dict[str, Any]  # empty unless the signature checked out
    token_id: str  # "" when malformed


@dataclass(frozen=True)
class KeySet:
    """The town's public keys by kid, retired ones included."""

    keys: dict[str, Ed25519PublicKey] = field(default_factory=dict)
    published: tuple[dict[str, Any], ...] = ()  # the JWK entries, as published

    def to_json(self) -> dict[str, Any]:
        return {"keys": list(self.published)}

    @classmethod
    def from_json(cls, document: dict[str, Any]) -> KeySet:
        """Read a published key document (what a merchant's or a lock's app keeps offline)."""
        keys: dict[str, Ed25519PublicKey] = {}
        entries = []
        for entry in document.get("keys", []):
            if entry.get("kty") != "OKP" or entry.get("crv") != "Ed25519":
                continue
            raw = _b64decode(str(entry.get("x", "")))
            if raw is None or len(raw) != 32:
                continue
            keys[str(entry["kid"])] = Ed25519PublicKey.from_public_bytes(raw)
            entries.append(dict(entry))
        return cls(keys, tuple(entries))


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes | None:
    """Strict base64url without padding: anything but the one canonical spelling is refused
    (a changed unused bit in the last character would otherwise decode to the same bytes)."""
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        return None
    return data if _b64encode(data) == text else None


def _seconds(moment: datetime) -> int:
    if moment.tzinfo is None:
        raise ValueError("naive datetime: pass an aware one")
    return int(moment.timestamp())


def _moment(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


# --- checking (pure, offline) -------------------------------------------------------------


def _parse(token: str) -> tuple[str, bytes, dict[str, Any], bytes] | None:
    parts = token.strip().split(".")
    if len(parts) != 4 or parts[0] != VERSION or not parts[1] or len(token) > 4000:
        return None
    payload_raw = _b64decode(parts[2])
    signature = _b64decode(parts[3])
    if payload_raw is None or signature is None or len(signature) != 64:
        return None
    try:
        payload = json.loads(payload_raw)
    except (UnicodeDecodeError, ValueError):
        return None
    if not isinstance(payload, dict):
        return None
    kinds = {"kind": str, "jti": str, "nbf": int, "exp": int, "claims": dict}
    for name, kind in kinds.items():
        value = payload.get(name)
        if not isinstance(value, kind) or isinstance(value, bool):
            return None
    signed = f"{parts[0]}.{parts[1]}.{parts[2]}".encode("ascii")
    return parts[1], signed, payload, signature


def check(
    token: str, keyset: KeySet, *, kind: str, now: datetime, revoked: Container[str] = ()
) -> Verdict:
    """Is `token` a valid token of `kind` at `now`? Pure: needs only the public keys and the
    revocation list, so it runs offline (a merchant's phone, a lock)."""
    parsed = _parse(token)
    if parsed is None:
        return Verdict(False, "malformed", {}, "")
    kid, signed, payload, signature = parsed
    token_id = str(payload["jti"])
    public = keyset.keys.get(kid)
    if public is None:
        return Verdict(False, "unknown_key", {}, token_id)
    try:
        public.verify(signature, signed)
    except InvalidSignature:
        return Verdict(False, "signature", {}, token_id)
    claims = dict(payload["claims"])
    if payload["kind"] != kind:
        return Verdict(False, "wrong_kind", claims, token_id)
    if token_id in revoked:
        return Verdict(False, "revoked", claims, token_id)
    at = _seconds(now)
    if at < payload["nbf"]:
        return Verdict(False, "not_yet_valid", claims, token_id)
    if at >= payload["exp"]:
        return Verdict(False, "expired", claims, token_id)
    return Verdict(True, "ok", claims, token_id)


def validity(token: str) -> tuple[datetime, datetime] | None:
    """(not before, expires) as the token states them, unchecked: for display next to a verdict."""
    parsed = _parse(token)
    if parsed is None:
        return None
    payload = parsed[2]
    return _moment(payload["nbf"]), _moment(payload["exp"])


def sign(
    private: Ed25519PrivateKey,
    kid: str,
    *,
    kind: str,
    token_id: str,
    claims: dict[str, Any],
    not_before: datetime,
    expires: datetime,
) -> str:
    """The token for a payload, signed with `private` (pure; `issue` is the use case)."""
    payload = {
        "claims": claims,
        "exp": _seconds(expires),
        "jti": token_id,
        "kind": kind,
        "nbf": _seconds(not_before),
    }
    body = _b64encode(json.dumps(payload, separators=(",", ":"), sort_keys=True).encode())
    signed = f"{VERSION}.{kid}.{body}"
    return f"{signed}.{_b64encode(private.sign(signed.encode('ascii')))}"


def claims_of(token: str) -> dict[str, Any]:
    """The claims as the token states them, unchecked (for comparing with what it should say)."""
    parsed = _parse(token)
    return dict(parsed[2]["claims"]) if parsed is not None else {}


# --- keys ---------------------------------------------------------------------------------


def _secret(uow: UnitOfWork) -> bytes:
    given = uow.key_secret
    if callable(given):
        return given()
    return given or key_secret.from_environment()


def _seal(secret: bytes, kid: str, private: Ed25519PrivateKey) -> str:
    nonce = os.urandom(12)
    raw = private.private_bytes_raw()
    return _b64encode(nonce + AESGCM(secret).encrypt(nonce, raw, kid.encode("ascii")))


def _unseal(secret: bytes, key: SigningKey) -> Ed25519PrivateKey:
    sealed = _b64decode(key.private_key) or b""
    try:
        raw = AESGCM(secret).decrypt(sealed[:12], sealed[12:], key.kid.encode("ascii"))
    except InvalidTag as error:
        raise RuntimeError(
            f"signing key {key.kid} cannot be decrypted: STADTLOTSE_KEY_SECRET or the file "
            "signing-secret in the data directory is not the one it was made with"
        ) from error
    return Ed25519PrivateKey.from_private_bytes(raw)


async def _new_key(uow: UnitOfWork, now: datetime) -> tuple[SigningKey, Ed25519PrivateKey]:
    private = Ed25519PrivateKey.generate()
    kid = now.astimezone(UTC).strftime("%Y%m%d") + "-" + secrets.token_hex(3)
    key = SigningKey(
        kid=kid,
        public_key=_b64encode(private.public_key().public_bytes_raw()),
        private_key=_seal(_secret(uow), kid, private),
        created_at=now,
    )
    uow.session.add(key)
    await uow.session.flush()
    return key, private


async def _current_row(uow: UnitOfWork) -> SigningKey | None:
    return (
        await uow.session.execute(
            select(SigningKey)
            .where(SigningKey.retired_at.is_(None))
            .order_by(SigningKey.id.desc())
            .limit(1)
        )
    ).scalar_one_or_none()


async def _current(uow: UnitOfWork, now: datetime) -> tuple[SigningKey, Ed25519PrivateKey]:
    key = await _current_row(uow)
    if key is None:
        # the very first key: replicas issuing at once must not each make one. SQLite writes
        # one at a time anyway; on PostgreSQL the second waits here for the first to commit.
        if uow.dialect == "postgresql":
            lock = text("SELECT pg_advisory_xact_lock(:k)")
            await uow.session.execute(lock, {"k": FIRST_KEY_LOCK})
            key = await _current_row(uow)
        if key is None:
            return await _new_key(uow, now)
    return key, _unseal(_secret(uow), key)


async def rotate(uow: UnitOfWork, now: datetime) -> str:
    """Retire the current key(s) and make a new one; returns the new kid. Tokens signed with a
    retired key stay valid until they expire (the key stays in the key set)."""
    await uow.session.execute(
        update(SigningKey).where(SigningKey.retired_at.is_(None)).values(retired_at=now)
    )
    key, _private = await _new_key(uow, now)
    return key.kid


async def keyset(uow: UnitOfWork) -> KeySet:
    """Every public key, including retired ones."""
    rows = (await uow.session.execute(select(SigningKey).order_by(SigningKey.id))).scalars().all()
    keys: dict[str, Ed25519PublicKey] = {}
    entries: list[dict[str, Any]] = []
    for row in rows:
        raw = _b64decode(row.public_key) or b""
        keys[row.kid] = Ed25519PublicKey.from_public_bytes(raw)
        entry: dict[str, Any] = {
            "kid": row.kid,
            "kty": "OKP",
            "crv": "Ed25519",
            "alg": "EdDSA",
            "use": "sig",
            "x": row.public_key,
            "created": row.created_at.isoformat(),
        }
        if row.retired_at is not None:
            entry["retired"] = row.retired_at.isoformat()
        if row.last_expires is not None:
            entry["signs_until"] = row.last_expires.isoformat()
        entries.append(entry)
    return KeySet(keys, tuple(entries))


# --- tokens -------------------------------------------------------------------------------


async def issue(
    uow: UnitOfWork,
    kind: str,
    claims: dict[str, Any],
    *,
    not_before: datetime,
    expires: datetime,
    now: datetime,
) -> tuple[str, str]:
    """Sign a token of `kind` carrying `claims` (JSON values), valid from `not_before` until
    `expires`, with the current key (made on first use). Returns (token, token id)."""
    if expires <= not_before:
        raise ValueError("a token must expire after it becomes valid")
    key, private = await _current(uow, now)
    token_id = secrets.token_urlsafe(12)
    token = sign(
        private,
        key.kid,
        kind=kind,
        token_id=token_id,
        claims=claims,
        not_before=not_before,
        expires=expires,
    )
    uow.session.add(
        IssuedToken(
            jti=token_id,
            kind=kind,
            kid=key.kid,
            issued_at=now,
            not_before=not_before,
            expires=expires,
        )
    )
    await uow.session.execute(
        update(SigningKey)
        .where(
            SigningKey.id == key.id,
            or_(
                SigningKey.last_expires.is_(None),
                SigningKey.last_expires < expires,  # type: ignore[operator]
            ),
        )
        .values(last_expires=expires)
    )
    return token, token_id


async def revoke(uow: UnitOfWork, token_id: str, reason: str, now: datetime) -> None:
    """Revoke a token the town issued (again: nothing changes). Unknown ids raise NotFound."""
    token = await uow.session.get(IssuedToken, token_id)
    if token is None:
        raise NotFound("This token is unknown.")
    await uow.session.execute(
        update(IssuedToken)
        .where(
            IssuedToken.jti == token_id,
            IssuedToken.revoked_at.is_(None),
        )
        .values(revoked_at=now, reason=reason[:200])
    )


async def revoked_ids(uow: UnitOfWork) -> set[str]:
    rows = await uow.session.execute(
        select(IssuedToken.jti).where(IssuedToken.revoked_at.is_not(None))
    )
    return set(rows.scalars().all())


async def revocation_list(uow: UnitOfWork, now: datetime) -> dict[str, Any]:
    """The published list: revoked tokens that have not expired yet (expired ones fail anyway)."""
    rows = await uow.session.execute(
        select(IssuedToken.jti, IssuedToken.expires)
        .where(
            IssuedToken.revoked_at.is_not(None),
            IssuedToken.expires > now,
        )
        .order_by(IssuedToken.jti)
    )
    return {
        "updated": now.astimezone(UTC).isoformat(),
        "revoked": [{"jti": jti, "exp": _seconds(exp)} for jti, exp in rows.all()],
    }


async def check_online(uow: UnitOfWork, token: str, *, kind: str, now: datetime) -> Verdict:
    """`check` with the current keys and revocations from the database."""
    parsed = _parse(token)
    if parsed is None:
        return Verdict(False, "malformed", {}, "")
    token_id = str(parsed[2]["jti"])
    row = await uow.session.get(IssuedToken, token_id)
    revoked = {token_id} if row is not None and row.revoked_at is not None else set()
    return check(token, await keyset(uow), kind=kind, now=now, revoked=revoked)
