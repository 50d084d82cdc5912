"""Cases (submitted applications), their history, Digitallotsen sessions and transit passes."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.types import json_field, moment_field, personal


class Case(SQLModel, table=True):
    """One application. Kept anonymised after the resident's deletion: files must be kept."""

    __tablename__ = "case_file"
    __table_args__ = (
        Index("ix_case_queue", "department", "status", "created_at"),
        {"info": {"erase": "anonymise"}},
    )

    id: int | None = Field(default=None, primary_key=True)
    reference: str = Field(max_length=40, unique=True)
    citizen_id: int = Field(foreign_key="citizen.id", index=True)
    form: str = Field(max_length=50)
    department: str = Field(max_length=50)
    status: str = Field(default="submitted", max_length=20)
    answers: dict[str, Any] = json_field(personal=True)
    summary: str | None = personal(max_length=300)  # one line for queues and rooms
    # staff are not foreign keys: a staff member's own deletion must not touch residents' cases
    assignee_id: int | None = None
    assignee_name: str | None = Field(default=None, max_length=100)
    expected_on: date | None = None
    # what the approval decided (dog tax and tag number, the daycare, the permit's terms)
    decision: dict[str, Any] = json_field()
    created_at: datetime = moment_field()
    updated_at: datetime = moment_field()
    closed_at: datetime | None = moment_field(nullable=True)


class NumberCounter(SQLModel, table=True):
    """The last number given per series and year: case references (series "AH": AH-2027-000001
    follows AH-2026-004711), dog tag numbers. Counted up in the database, never in Python."""

    __tablename__ = "number_counter"

    series: str = Field(primary_key=True, max_length=20)
    year: int = Field(primary_key=True)
    last: int = 0


class CaseEvent(SQLModel, table=True):
    """The history of a case: every status change, question, answer, note and added file."""

    __tablename__ = "case_event"
    __table_args__ = {"info": {"erase": "anonymise"}}

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case_file.id", index=True)
    citizen_id: int = Field(foreign_key="citizen.id", index=True)  # the case's resident
    at: datetime = moment_field()
    actor_id: int | None = None  # who acted (the resident or a staff member)
    actor_name: str | None = Field(default=None, max_length=100)  # staff first name
    kind: str = Field(max_length=20)  # submitted, taken, question, answer, info, note, ...
    status: str | None = Field(default=None, max_length=20)  # status after this event
    text: str | None = personal()
    file_id: int | None = Field(  # blanked on deletion, as the resident's files are deleted
        default=None, foreign_key="stored_file.id", sa_column_kwargs={"info": {"personal": True}}
    )
    internal: bool = False  # staff notes: never shown to the resident


class HelperSession(SQLModel, table=True):
    """A resident talking to a human helper (Digitallotse) through the helpdesk room."""

    __tablename__ = "helper_session"
    __table_args__ = {"info": {"erase": "delete"}}

    id: int | None = Field(default=None, primary_key=True)
    citizen_id: int = Field(foreign_key="citizen.id", index=True)
    status: str = Field(default="open", max_length=10)  # open, closed
    helper_id: int | None = None  # the staff member who answered first
    helper_name: str | None = Field(default=None, max_length=100)
    messages: int = 0
    opened_at: datetime = moment_field()
    last_at: datetime = moment_field()
    closed_at: datetime | None = moment_field(nullable=True)
    closed_by: str | None = Field(default=None, max_length=10)  # resident, staff


class TransitPass(SQLModel, table=True):
    """A monthly subsidised transit pass, bought after the case was approved."""

    __tablename__ = "transit_pass"
    __table_args__ = (
        UniqueConstraint("citizen_id", "month"),
        {"info": {"erase": "anonymise"}},
    )

    id: int | None = Field(default=None, primary_key=True)
    citizen_id: int = Field(foreign_key="citizen.id", index=True)
    case_id: int = Field(foreign_key="case_file.id", index=True)
    payment_id: int | None = Field(default=None, foreign_key="payment.id", unique=True)
    month: str = Field(max_length=7)  # "2026-12"
    code: str = Field(max_length=16, unique=True)
    valid_from: date
    valid_until: date
    created_at: datetime = moment_field()
