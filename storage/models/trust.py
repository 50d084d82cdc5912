"""Trust: the town's signing keys, the tokens signed with them (resident cards, digital keys),
identity checks at the counter and the resident card."""

from __future__ import annotations

from datetime import date, datetime

from sqlmodel import Field, SQLModel

from storage.types import moment_field, personal


class SigningKey(SQLModel, table=True):
    """An Ed25519 key of the town. The private half is kept encrypted (AES-GCM with the key
    secret); retired keys stay to verify what they signed until it expired."""

    __tablename__ = "signing_key"
    __table_args__ = {"info": {"erase": "keep"}}

    id: int | None = Field(default=None, primary_key=True)
    kid: str = Field(max_length=20, unique=True)
    public_key: str = Field(max_length=60)  # base64url of the 32 raw bytes
    private_key: str = Field(max_length=200)  # base64url of nonce + AES-GCM ciphertext
    created_at: datetime = moment_field()
    retired_at: datetime | None = moment_field(nullable=True)
    last_expires: datetime | None = moment_field(nullable=True)  # latest expiry it signed


class IssuedToken(SQLModel, table=True):
    """One signed token (its id, never its content): what the revocation list is made of."""

    __tablename__ = "issued_token"
    __table_args__ = {"info": {"erase": "keep"}}

    jti: str = Field(primary_key=True, max_length=32)
    kind: str = Field(max_length=20, index=True)
    kid: str = Field(max_length=20)
    issued_at: datetime = moment_field()
    not_before: datetime = moment_field()
    expires: datetime = moment_field(index=True)
    revoked_at: datetime | None = moment_field(nullable=True)
    reason: str = Field(default="", max_length=200)


class IdentityCode(SQLModel, table=True):
    """A one-time code a resident shows at the counter to have their identity checked."""

    __tablename__ = "identity_code"
    __table_args__ = {"info": {"erase": "delete"}}

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=16, unique=True)
    citizen_id: int = Field(foreign_key="citizen.id", index=True)
    created_at: datetime = moment_field()
    expires_at: datetime = moment_field()
    used_at: datetime | None = moment_field(nullable=True)


class IdentityCheck(SQLModel, table=True):
    """A level of trust given to a resident: what staff confirmed, when and by whom. It holds
    while the resident's name and address stay as confirmed and it is not ended."""

    __tablename__ = "identity_check"
    __table_args__ = {"info": {"erase": "delete"}}

    id: int | None = Field(default=None, primary_key=True)
    citizen_id: int = Field(foreign_key="citizen.id", index=True)
    level: str = Field(default="verified", max_length=20)
    first_name: str = personal(default="", max_length=100)
    last_name: str = personal(default="", max_length=100)
    birth_date: date | None = personal()
    street: str = personal(default="", max_length=200)
    postal_code: str = personal(default="", max_length=10)
    town: str = personal(default="", max_length=100)
    resident_since: date | None = None
    verified_at: datetime = moment_field()
    verified_by: int | None = None  # the staff member's citizen id (no key: staff may leave)
    ended_at: datetime | None = moment_field(nullable=True)
    end_reason: str = personal(default="", max_length=200)


class ResidentCard(SQLModel, table=True):
    """The Ahaus-Karte: a signed credential of a verified resident of the town."""

    __tablename__ = "resident_card"
    __table_args__ = {"info": {"erase": "delete"}}

    id: int | None = Field(default=None, primary_key=True)
    citizen_id: int = Field(foreign_key="citizen.id", index=True)
    token_id: str = Field(max_length=32, unique=True)
    token: str = personal(default="", max_length=1000)
    issued_at: datetime = moment_field()
    expires_at: datetime = moment_field()
    revoked_at: datetime | None = moment_field(nullable=True)
