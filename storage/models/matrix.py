"""What the Matrix channel keeps between restarts: its login (device and access token), the
sync position, the rooms it is in, the messages it sent that carry a menu, and thread roots."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from storage.types import moment_field, personal

DIRECT, STAFF = "direct", "staff"


class MatrixSession(SQLModel, table=True):
    """The bot's device on the homeserver. The same device id on every start keeps the
    end-to-end keys (in the crypto store beside the database) valid for residents."""

    __tablename__ = "matrix_session"
    __table_args__ = {"info": {"erase": "keep"}}

    user_id: str = Field(primary_key=True, max_length=255)
    homeserver: str = Field(max_length=255)
    device_id: str = Field(max_length=255)
    access_token: str = Field(max_length=512)
    sync_token: str | None = Field(default=None, max_length=512)  # next_batch, once handled
    updated_at: datetime = moment_field()


class MatrixRoomInfo(SQLModel, table=True):
    """A room the bot is in: a resident's direct room (one per resident) or a staff room.
    A direct room belongs to its resident once they are known: exported with their data,
    deleted with it."""

    __tablename__ = "matrix_room"
    __table_args__ = {"info": {"erase": "delete"}}

    room_id: str = Field(primary_key=True, max_length=255)
    kind: str = Field(max_length=10)  # "direct" or "staff"
    owner: str = personal(default="", max_length=255, index=True)  # a direct room's resident
    citizen_id: int | None = Field(default=None, foreign_key="citizen.id", index=True)
    department: str = Field(default="", max_length=50)
    encrypted: bool = False
    greeted: bool = False
    left_at: datetime | None = moment_field(nullable=True)
    created_at: datetime = moment_field()


class MatrixSentEvent(SQLModel, table=True):
    """A message the bot sent that shows a menu: keycap reactions on it and numbered replies in
    its thread pick from that menu."""

    __tablename__ = "matrix_sent_event"
    __table_args__ = {"info": {"erase": "keep"}}

    id: int | None = Field(default=None, primary_key=True)
    event_id: str = Field(max_length=255, unique=True)
    room_id: str = Field(max_length=255)
    menu_id: str = Field(max_length=16)
    thread_root: str = Field(default="", max_length=255, index=True)  # the thread it is in
    created_at: datetime = moment_field(index=True)


class MatrixThread(SQLModel, table=True):
    """Notifications about one thing (a case) go into one thread per staff room: the first
    message sent with a thread key becomes the root."""

    __tablename__ = "matrix_thread"
    __table_args__ = {"info": {"erase": "keep"}}

    room_id: str = Field(primary_key=True, max_length=255)
    key: str = Field(primary_key=True, max_length=255)
    root_event_id: str = Field(max_length=255)
    created_at: datetime = moment_field()
