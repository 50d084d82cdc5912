"""Conversation state, menus (the buttons we showed) and processed updates."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.types import json_field, moment_field, personal


class Conversation(SQLModel, table=True):
    """Where one person stands in one chat. Survives restarts; `version` guards replicas."""

    __tablename__ = "conversation"
    __table_args__ = (
        UniqueConstraint("channel", "chat_id", "user_id"),
        {"info": {"erase": "delete"}},
    )

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=20)
    chat_id: str = Field(max_length=255)
    user_id: str = Field(max_length=255)
    citizen_id: int = Field(foreign_key="citizen.id", index=True)
    step: str = Field(default="", max_length=100)
    data: dict[str, Any] = json_field(personal=True)
    version: int = 0
    updated_at: datetime = moment_field()


class Menu(SQLModel, table=True):
    """Buttons as shown: the channel only ever sees `id:index`. A conversation menu is current
    while its generation equals the conversation's version; a detached menu (on a notification)
    stays valid and its actions check rights and state themselves."""

    __tablename__ = "menu"
    __table_args__ = (
        # notification menus of a chat, newest first (typed labels, staff room numbers)
        Index("ix_menu_chat", "channel", "chat_id", "created_at"),
        {"info": {"erase": "delete"}},
    )

    id: str = Field(primary_key=True, max_length=16)
    conversation_id: int | None = Field(default=None, foreign_key="conversation.id", index=True)
    citizen_id: int | None = Field(default=None, foreign_key="citizen.id", index=True)
    channel: str = Field(max_length=20)
    chat_id: str = Field(max_length=255)
    generation: int = 0
    text: str | None = personal()
    buttons: list[dict[str, str]] = Field(default_factory=list, sa_type=JSON)
    created_at: datetime = moment_field(index=True)


class ProcessedUpdate(SQLModel, table=True):
    """Idempotency: an update id seen once is never processed twice."""

    __tablename__ = "processed_update"
    __table_args__ = {"info": {"erase": "keep"}}

    channel: str = Field(primary_key=True, max_length=20)
    key: str = Field(primary_key=True, max_length=255)
    at: datetime = moment_field(index=True)


class FormDraft(SQLModel, table=True):
    """Answers to a form not yet sent: a pause does not lose them."""

    __tablename__ = "form_draft"
    __table_args__ = (UniqueConstraint("citizen_id", "form"), {"info": {"erase": "delete"}})

    id: int | None = Field(default=None, primary_key=True)
    citizen_id: int = Field(foreign_key="citizen.id", index=True)
    form: str = Field(max_length=50)
    answers: dict[str, Any] = json_field(personal=True)
    field: str = Field(default="", max_length=50)
    updated_at: datetime = moment_field()
