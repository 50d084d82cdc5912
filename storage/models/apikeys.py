"""API keys of machine clients (Open311 apps, digital locks), one table for every purpose."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from storage.types import moment_field


class ApiKey(SQLModel, table=True):
    """A key for a machine client (an Open311 app, a digital lock). Only its SHA-256 is kept;
    `purpose` says what it may be used for. Writes are counted per window for rate limits."""

    __tablename__ = "api_key"
    __table_args__ = {"info": {"erase": "keep"}}

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=60, unique=True)
    purpose: str = Field(default="open311", max_length=30)
    key_hash: str = Field(max_length=64, unique=True)
    prefix: str = Field(max_length=8)  # the first characters, to recognise a key in lists
    rate_limit: int = 0  # writes per window; 0: the purpose's default
    window_start: datetime | None = moment_field(nullable=True)
    window_count: int = 0
    uses: int = 0
    created_at: datetime = moment_field()
    last_used_at: datetime | None = moment_field(nullable=True)
    revoked_at: datetime | None = moment_field(nullable=True)
