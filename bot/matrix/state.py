"""The Matrix channel's rows: session and sync position, rooms, menu messages, thread roots."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col

from services.identity import accounts as identity
from storage.db import Database
from storage.models.conversation import Conversation, Menu
from storage.models.identity import ChannelAccount, Citizen
from storage.models.matrix import (
    DIRECT,
    MatrixRoomInfo,
    MatrixSentEvent,
    MatrixSession,
    MatrixThread,
)

CHANNEL = "matrix"
SENT_EVENTS_KEPT = timedelta(days=90)


class MatrixState:
    def __init__(self, db: Database) -> None:
        self.db = db

    # ---------------------------------------------------------------- session
    async def session(self, user_id: str) -> MatrixSession | None:
        async with self.db.uow() as uow:
            found = await uow.session.get(MatrixSession, user_id)
            uow.session.expunge_all()  # keep the loaded values after the read-only session ends
            return found

    async def save_session(
        self, user_id: str, homeserver: str, device_id: str, token: str, now: datetime
    ) -> None:
        async with self.db.uow() as uow:
            row = await uow.session.get(MatrixSession, user_id)
            if row is None or row.homeserver != homeserver or row.device_id != device_id:
                if row is not None:
                    await uow.session.delete(row)
                    await uow.session.flush()
                uow.session.add(
                    MatrixSession(
                        user_id=user_id,
                        homeserver=homeserver,
                        device_id=device_id,
                        access_token=token,
                        updated_at=now,
                    )
                )
            else:
                row.access_token = token
                row.updated_at = now
            await uow.commit()

    async def save_sync_token(self, user_id: str, token: str, now: datetime) -> None:
        async with self.db.uow() as uow:
            await uow.session.execute(
                update(MatrixSession)
                .where(MatrixSession.user_id == user_id)
                .values(sync_token=token, updated_at=now)
            )
            await uow.commit()

    # ---------------------------------------------------------------- rooms
    async def rooms(self) -> dict[str, MatrixRoomInfo]:
        async with self.db.uow() as uow:
            rows = await uow.session.execute(
                select(MatrixRoomInfo).where(MatrixRoomInfo.left_at.is_(None))
            )
            found = {r.room_id: r for r in rows.scalars()}
            uow.session.expunge_all()
            return found

    async def save_room(self, info: MatrixRoomInfo) -> MatrixRoomInfo:
        async with self.db.uow() as uow:
            merged = await uow.session.merge(info)
            await uow.commit()
            return merged

    async def direct_room_of(self, user_id: str) -> MatrixRoomInfo | None:
        async with self.db.uow() as uow:
            rows = await uow.session.execute(
                select(MatrixRoomInfo)
                .where(
                    MatrixRoomInfo.kind == DIRECT,
                    MatrixRoomInfo.owner == user_id,
                    MatrixRoomInfo.left_at.is_(None),
                )
                .order_by(col(MatrixRoomInfo.created_at).desc())
            )
            first = rows.scalars().first()
            uow.session.expunge_all()
            return first

    async def room_left(self, room_id: str, owner: str, now: datetime) -> None:
        """The bot left the room (or was removed): a resident's room stops receiving news."""
        async with self.db.uow() as uow:
            await uow.session.execute(
                update(MatrixRoomInfo).where(MatrixRoomInfo.room_id == room_id).values(left_at=now)
            )
            if owner:
                await uow.session.execute(
                    update(ChannelAccount)
                    .where(
                        ChannelAccount.channel == CHANNEL,
                        ChannelAccount.external_id == owner,
                        ChannelAccount.chat_id == room_id,
                    )
                    .values(unreachable_at=now, encrypted=False)
                )
            await uow.commit()

    async def mark_account(self, user_id: str, room_id: str, encrypted: bool) -> None:
        """The resident's direct room and whether it is encrypted, on their channel account;
        the room row belongs to the resident from now on."""
        async with self.db.uow() as uow:
            await uow.session.execute(
                update(ChannelAccount)
                .where(
                    ChannelAccount.channel == CHANNEL,
                    ChannelAccount.external_id == user_id,
                    ChannelAccount.chat_id == room_id,
                )
                .values(encrypted=encrypted)
            )
            account = await identity.find_account(uow, CHANNEL, user_id)
            if account is not None:
                await uow.session.execute(
                    update(MatrixRoomInfo)
                    .where(MatrixRoomInfo.room_id == room_id, MatrixRoomInfo.owner == user_id)
                    .values(citizen_id=account.citizen_id, encrypted=encrypted)
                )
            await uow.commit()

    async def language_and_roles(
        self, user_id: str, default: str
    ) -> tuple[str, set[tuple[str, str]]]:
        async with self.db.uow() as uow:
            account = await identity.find_account(uow, CHANNEL, user_id)
            if account is None:
                return default, {("resident", "")}
            citizen = await uow.session.get(Citizen, account.citizen_id)
            lang = citizen.language if citizen is not None else default
            return lang, await identity.roles_of(uow, account.citizen_id)

    # ---------------------------------------------------------------- menus and threads
    async def remember_menu(
        self, event_id: str, room_id: str, menu_id: str, thread_root: str, now: datetime
    ) -> None:
        async with self.db.uow() as uow:
            uow.session.add(
                MatrixSentEvent(
                    event_id=event_id,
                    room_id=room_id,
                    menu_id=menu_id,
                    thread_root=thread_root,
                    created_at=now,
                )
            )
            await uow.commit()

    async def menu_and_thread(self, event_id: str, room_id: str) -> tuple[Menu, str] | None:
        """The menu shown by one of our messages, and the thread that message is in."""
        if not event_id:
            return None
        async with self.db.uow() as uow:
            sent = (
                await uow.session.execute(
                    select(MatrixSentEvent).where(MatrixSentEvent.event_id == event_id)
                )
            ).scalar_one_or_none()
            if sent is None or sent.room_id != room_id:
                return None
            menu = await uow.session.get(Menu, sent.menu_id)
            uow.session.expunge_all()
            return (menu, sent.thread_root) if menu is not None else None

    async def latest_menu_in_thread(self, room_id: str, root: str, user_id: str) -> Menu | None:
        """The newest menu in a thread that this person may pick from: a notification's, or
        one shown to this person in their own conversation there."""
        async with self.db.uow() as uow:
            rows = await uow.session.execute(
                select(Menu)
                .join(MatrixSentEvent, MatrixSentEvent.menu_id == Menu.id)
                .outerjoin(Conversation, Conversation.id == Menu.conversation_id)
                .where(
                    MatrixSentEvent.room_id == room_id,
                    or_(MatrixSentEvent.event_id == root, MatrixSentEvent.thread_root == root),
                    or_(Menu.conversation_id.is_(None), Conversation.user_id == user_id),
                )
                .order_by(MatrixSentEvent.id.desc())
                .limit(1)
            )
            latest = rows.scalar_one_or_none()
            uow.session.expunge_all()
            return latest

    async def in_a_step(self, chat_id: str, user_id: str) -> bool:
        """The person is in the middle of something here (a flow waits for their text)."""
        async with self.db.uow() as uow:
            step = (
                await uow.session.execute(
                    select(Conversation.step).where(
                        Conversation.channel == CHANNEL,
                        Conversation.chat_id == chat_id,
                        Conversation.user_id == user_id,
                    )
                )
            ).scalar_one_or_none()
            return bool(step)

    async def menu_of(self, event_id: str, room_id: str) -> Menu | None:
        found = await self.menu_and_thread(event_id, room_id)
        return found[0] if found is not None else None

    async def thread_roots(self) -> dict[tuple[str, str], str]:
        async with self.db.uow() as uow:
            rows = await uow.session.execute(
                select(MatrixThread.room_id, MatrixThread.key, MatrixThread.root_event_id)
            )
            return {(room, key): root for room, key, root in rows.all()}

    async def set_thread_root(self, room_id: str, key: str, event_id: str, now: datetime) -> None:
        try:
            async with self.db.uow() as uow:
                uow.session.add(
                    MatrixThread(room_id=room_id, key=key, root_event_id=event_id, created_at=now)
                )
                await uow.commit()
        except IntegrityError:
            pass  # another message about the same thing won the race: it stays the root

    async def forget_old(self, now: datetime) -> None:
        async with self.db.uow() as uow:
            await uow.session.execute(
                delete(MatrixSentEvent).where(MatrixSentEvent.created_at < now - SENT_EVENTS_KEPT)
            )
            await uow.commit()
