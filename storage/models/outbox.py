"""Notifications (the transactional outbox), the audit log and stored files."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, LargeBinary
from sqlmodel import Field, SQLModel

from storage.types import json_field, moment_field, personal

PENDING, SENT, FAILED, PARKED, CANCELLED = "pending", "sent", "failed", "parked", "cancelled"


class Notification(SQLModel, table=True):
    """A message to deliver, written in the same transaction as the change it reports.
    Addressed to a citizen (channel chosen at send time) or to a department's staff room;
    rendered in the recipient's language at send time from `key` and `params`."""

    __tablename__ = "notification"
    __table_args__ = (
        Index("ix_notification_due", "status", "next_attempt_at"),
        {"info": {"erase": "delete"}},
    )

    id: int | None = Field(default=None, primary_key=True)
    citizen_id: int | None = Field(default=None, foreign_key="citizen.id", index=True)
    department: str | None = Field(default=None, max_length=50)  # staff room target
    channel: str | None = Field(default=None, max_length=20)  # resolved when sent
    chat_id: str | None = Field(default=None, max_length=255)
    key: str  # a msgid
    params: dict[str, Any] = json_field(personal=True)
    buttons: list[dict[str, str]] = Field(default_factory=list, sa_type=JSON)
    media_file_id: int | None = Field(default=None, foreign_key="stored_file.id")
    thread: str | None = Field(default=None, max_length=255)  # reply in this thread (staff rooms)
    ref: str | None = Field(default=None, max_length=100, index=True)  # what it is about
    dedupe_key: str | None = Field(default=None, max_length=200, unique=True)
    status: str = Field(default=PENDING, max_length=12)
    attempts: int = 0
    next_attempt_at: datetime = moment_field()
    last_error: str | None = None
    external_id: str | None = Field(default=None, max_length=255)  # message id once sent
    created_at: datetime = moment_field()
    sent_at: datetime | None = moment_field(nullable=True)


class AuditEntry(SQLModel, table=True):
    """Who changed what, when: every staff, merchant, marketing and admin action."""

    __tablename__ = "audit_entry"
    __table_args__ = {"info": {"erase": "anonymise"}}

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = moment_field(index=True)
    actor_citizen_id: int | None = Field(default=None, foreign_key="citizen.id", index=True)
    actor: str = Field(default="", max_length=100)  # "citizen:12", "cli", "system"
    action: str = Field(max_length=60)
    subject: str = Field(
        default="", max_length=100, index=True
    )  # "voucher:5", "case:AH-2026-00012"
    details: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)


class StoredFile(SQLModel, table=True):
    """An uploaded photo or PDF, kept in the database: never in a folder the web app serves."""

    __tablename__ = "stored_file"
    __table_args__ = {"info": {"erase": "delete"}}

    id: int | None = Field(default=None, primary_key=True)
    citizen_id: int | None = Field(default=None, foreign_key="citizen.id", index=True)
    purpose: str = Field(default="", max_length=50)
    filename: str | None = personal(max_length=255)
    mime: str = Field(max_length=100)
    size: int
    sha256: str = Field(max_length=64)
    data: bytes = Field(sa_type=LargeBinary)
    created_at: datetime = moment_field()
