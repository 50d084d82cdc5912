"""Defect reports ("Mängelmelder"): the report, who follows it, its history.

A report is public by nature (category, place, status, public notes are shown on /meldungen and
through Open311); who reported it is not. The reporter is a resident (chat) or the contact
details an Open311 client sent along (`contact`), both never shown publicly."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.types import json_field, moment_field, personal


class DefectReport(SQLModel, table=True):
    """One reported defect. Kept anonymised after the reporter's deletion: the defect is still
    there and others may follow it; the reporter's own words and photo go."""

    __tablename__ = "defect_report"
    __table_args__ = (
        Index("ix_defect_nearby", "category", "status", "lat"),
        Index("ix_defect_requested", "created_at"),
        Index("ix_defect_queue", "department", "status", "created_at"),
        {"info": {"erase": "anonymise"}},
    )

    id: int | None = Field(default=None, primary_key=True)
    token: str = Field(max_length=20, unique=True)  # Open311 token; never personal
    citizen_id: int | None = Field(default=None, foreign_key="citizen.id", index=True)
    source: str = Field(default="chat", max_length=10)  # chat, api
    client: str | None = Field(default=None, max_length=60)  # the API key's name, for api
    category: str = Field(max_length=40)  # Open311 service_code
    department: str = Field(max_length=50)
    status: str = Field(default="submitted", max_length=20)  # see services.defects.states
    lat: float
    lon: float
    address: str = Field(default="", max_length=200)  # a street, public
    zipcode: str = Field(default="", max_length=10)
    description: str | None = personal()  # the reporter's words
    attributes: dict[str, Any] = json_field()  # Open311 attributes (lamp post number ...)
    contact: dict[str, Any] = json_field(personal=True)  # e-mail, name, phone of API reporters
    media_url: str | None = Field(default=None, max_length=500)  # an API client's own photo URL
    photo_file_id: int | None = Field(  # re-encoded without EXIF; blanked with the reporter
        default=None, foreign_key="stored_file.id", sa_column_kwargs={"info": {"personal": True}}
    )
    photo_token: str | None = personal(max_length=24)  # the photo's public URL part
    status_note: str | None = Field(default=None, max_length=2000)  # the latest public note
    confirmations: int = 0  # residents who said "me too" by following it
    assignee_name: str | None = Field(default=None, max_length=100)
    created_at: datetime = moment_field()
    updated_at: datetime = moment_field()
    closed_at: datetime | None = moment_field(nullable=True)


class DefectFollower(SQLModel, table=True):
    """A resident who hears about every change of a report (its reporter or a follower)."""

    __tablename__ = "defect_follower"
    __table_args__ = (
        UniqueConstraint("report_id", "citizen_id"),
        {"info": {"erase": "delete"}},
    )

    id: int | None = Field(default=None, primary_key=True)
    report_id: int = Field(foreign_key="defect_report.id", index=True)
    citizen_id: int = Field(foreign_key="citizen.id", index=True)
    role: str = Field(default="follower", max_length=10)  # reporter, follower
    created_at: datetime = moment_field()


class DefectEvent(SQLModel, table=True):
    """The history of a report. `public` events (closing notes, forwarding reasons) are shown
    on /meldungen and through Open311; the others only to staff and the reporter."""

    __tablename__ = "defect_event"
    __table_args__ = {"info": {"erase": "anonymise"}}

    id: int | None = Field(default=None, primary_key=True)
    report_id: int = Field(foreign_key="defect_report.id", index=True)
    citizen_id: int | None = Field(default=None, foreign_key="citizen.id", index=True)
    at: datetime = moment_field()
    kind: str = Field(max_length=20)  # submitted, confirmed, taken, question, answer, note ...
    status: str = Field(max_length=20)  # the report's status after this event
    actor_id: int | None = None  # staff are no foreign keys (their deletion keeps the history)
    actor_name: str | None = Field(default=None, max_length=100)
    department: str | None = Field(default=None, max_length=50)  # forwarded to
    text: str | None = personal()
    public: bool = False
