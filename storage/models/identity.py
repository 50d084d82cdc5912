"""Residents, their channel accounts, roles and link codes."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.types import moment_field, personal

ROLES = ("resident", "staff", "marketing", "merchant", "organiser", "admin")


class Citizen(SQLModel, table=True):
    """One resident, whatever channels they use. Kept anonymised after deletion."""

    __tablename__ = "citizen"
    __table_args__ = {"info": {"erase": "anonymise"}}

    id: int | None = Field(default=None, primary_key=True)
    language: str = Field(default="de", max_length=5)
    # chosen with /language: never changed by guessing from what the person writes
    language_chosen: bool = Field(default=False)
    first_name: str | None = personal(max_length=100)
    last_name: str | None = personal(max_length=100)
    street: str | None = personal(max_length=200)
    postal_code: str | None = personal(max_length=10)
    town: str | None = personal(max_length=100)
    email: str | None = personal(max_length=254)
    phone: str | None = personal(max_length=30)
    birth_date: date | None = personal()
    notify_channel: str | None = Field(default=None, max_length=20)
    link_failures: int = 0
    link_blocked_until: datetime | None = moment_field(nullable=True)
    created_at: datetime = moment_field()
    deleted_at: datetime | None = moment_field(nullable=True)

    @property
    def full_name(self) -> str | None:
        parts = [p for p in (self.first_name, self.last_name) if p]
        return " ".join(parts) or None

    @property
    def postal_address(self) -> str | None:
        if not (self.street and self.postal_code and self.town):
            return None
        return f"{self.street}, {self.postal_code} {self.town}"


class ChannelAccount(SQLModel, table=True):
    """A person's account on one channel, pointing to their Citizen."""

    __tablename__ = "channel_account"
    __table_args__ = (
        UniqueConstraint("channel", "external_id"),
        {"info": {"erase": "delete"}},
    )

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=20)
    external_id: str = Field(max_length=255)
    chat_id: str = Field(max_length=255)  # the private chat for notifications
    citizen_id: int = Field(foreign_key="citizen.id", index=True)
    display_name: str | None = personal(max_length=200)
    encrypted: bool = False  # Matrix: the private room is end-to-end encrypted
    unreachable_at: datetime | None = moment_field(nullable=True)
    created_at: datetime = moment_field()


class RoleGrant(SQLModel, table=True):
    """A role beyond 'resident', with its scope (department or merchant key)."""

    __tablename__ = "role_grant"
    __table_args__ = (
        UniqueConstraint("citizen_id", "role", "scope"),
        {"info": {"erase": "delete"}},
    )

    id: int | None = Field(default=None, primary_key=True)
    citizen_id: int = Field(foreign_key="citizen.id", index=True)
    role: str = Field(max_length=20)
    scope: str = Field(default="", max_length=100)
    granted_at: datetime = moment_field()
    granted_by: str = Field(default="", max_length=100)


class LinkCode(SQLModel, table=True):
    """A short single-use code that joins another channel's account to this resident."""

    __tablename__ = "link_code"
    __table_args__ = {"info": {"erase": "delete"}}

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=16, unique=True)
    citizen_id: int = Field(foreign_key="citizen.id", index=True)
    created_at: datetime = moment_field()
    expires_at: datetime = moment_field()
    used_at: datetime | None = moment_field(nullable=True)
