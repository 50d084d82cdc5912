"""Column helpers shared by all tables."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field


class UTCDateTime(TypeDecorator[datetime]):
    """Stores aware datetimes as UTC; always gives aware UTC datetimes back (SQLite too)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; pass an aware one")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def moment_field(*, nullable: bool = False, index: bool = False, personal: bool = False) -> Any:
    """An aware timestamp column."""
    kwargs: dict[str, Any] = {"nullable": nullable, "index": index}
    if personal:
        kwargs["info"] = {"personal": True}
    return Field(default=None, sa_type=UTCDateTime, sa_column_kwargs=kwargs)


def json_field(*, personal: bool = False) -> Any:
    extra: dict[str, Any] = {"info": {"personal": True}} if personal else {}
    return Field(default_factory=dict, sa_type=JSON, sa_column_kwargs=extra)


def personal(default: Any = None, *, max_length: int | None = None, index: bool = False) -> Any:
    """A column holding personal data: blanked when the resident asks to be deleted."""
    return Field(
        default=default,
        max_length=max_length,
        index=index,
        sa_column_kwargs={"info": {"personal": True}},
    )
