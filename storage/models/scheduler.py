"""Scheduler bookkeeping: one row per job and period, so a job never runs twice for a period."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.types import moment_field


class JobRun(SQLModel, table=True):
    __tablename__ = "job_run"
    __table_args__ = (UniqueConstraint("job", "period"), {"info": {"erase": "keep"}})

    id: int | None = Field(default=None, primary_key=True)
    job: str = Field(max_length=60)
    period: str = Field(max_length=40)  # "2026-11-25" for a daily job, "2026-11-25T10:07" ...
    started_at: datetime = moment_field()
    finished_at: datetime | None = moment_field(nullable=True)
    result: str = Field(default="", max_length=500)
