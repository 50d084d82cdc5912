"""A broken street light reported on Matrix: the location arrives as an m.location event from
a real client through Synapse."""

from __future__ import annotations

from nio import RoomSendResponse
from sqlalchemy import select

from storage.models.defects import DefectReport
from tests.matrix.support import BotRunner, Resident


async def test_report_with_a_matrix_location(bot: BotRunner, resident: Resident) -> None:
    await bot.start()
    room = await resident.open_dm(bot.user_id)
    await resident.next_answer(room, 0, contains="What would you like to do?")

    count = len(resident.from_bot(room))
    await resident.send(room, "street light broken")
    await resident.next_answer(room, count, contains="where is it?")
    count = len(resident.from_bot(room))
    sent = await resident.client.room_send(
        room,
        "m.room.message",
        {
            "msgtype": "m.location",
            "body": "Location at 52.0772, 7.0062",
            "geo_uri": "geo:52.0772,7.0062;u=20",
            "org.matrix.msc3488.location": {"uri": "geo:52.0772,7.0062;u=20"},
        },
        ignore_unverified_devices=True,
    )
    assert isinstance(sent, RoomSendResponse), sent
    await resident.next_answer(room, count, contains="Please describe briefly")
    count = len(resident.from_bot(room))
    await resident.send(room, "dark since Monday")
    await resident.next_answer(room, count, contains="Would you like to hear")
    count = len(resident.from_bot(room))
    await resident.send(room, "yes")
    done = await resident.next_answer(room, count, contains="Thank you! Your report no. 1")
    assert any("Street lighting, Wallstraße" in s.body for s in done)
    async with bot.db.uow() as uow:
        [report] = (await uow.session.execute(select(DefectReport))).scalars().all()
        assert (report.lat, report.lon) == (52.0772, 7.0062)
