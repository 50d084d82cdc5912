"""/mydata holds the resident's reports and follows; /deleteme removes their words, photo and
follows, while the defect itself stays public (others follow it), anonymised."""

from __future__ import annotations

import io
import json

from PIL import Image
from sqlalchemy import select, text
from sqlmodel import SQLModel

from storage.models.defects import DefectEvent, DefectFollower, DefectReport
from storage.models.outbox import StoredFile
from tests.defects.conftest import MARKT, WALLSTRASSE, located, north_of, report_anna
from tests.support.chat import Transcript


def jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (20, 20), (10, 120, 10)).save(buffer, "JPEG")
    return buffer.getvalue()


async def test_export_and_delete_a_reporter(chat: Transcript, people: dict[str, int]) -> None:
    number = await report_anna(chat)
    await chat.send("anna", "Müll am Markt, Anna Schulte hat es gesehen")
    await chat.send("anna", located(MARKT))
    await chat.upload("anna", "photo.jpg", "image/jpeg", jpeg())
    await chat.send("anna", "Sperrmüll neben dem Papierkorb, anna@example.org")
    await chat.send("anna", "ja")
    await chat.send("ben", "street light broken")
    await chat.send("ben", located(north_of(WALLSTRASSE, 3)))
    await chat.press("ben", "Follow no.")

    await chat.send("anna", "/mydata")
    export = next(r.media for r in chat.last["anna"] if r.media is not None)
    data = json.loads(export.data)["data"]
    assert {r["id"] for r in data["defect_report"]} == {number, number + 1}
    assert len(data["defect_follower"]) == 2
    assert any("Sperrmüll" in (r["description"] or "") for r in data["defect_report"])

    await chat.send("anna", "/deleteme")
    await chat.press("anna", "Ja, meine Daten löschen")
    async with chat.db.uow() as uow:
        kept = list((await uow.session.execute(select(DefectReport))).scalars())
        assert [r.id for r in kept] == [number, number + 1]
        assert all(r.description is None and r.photo_file_id is None for r in kept)
        assert all(r.photo_token is None for r in kept)
        assert kept[0].category == "lighting" and kept[0].confirmations == 1
        follows = (await uow.session.execute(select(DefectFollower.citizen_id))).scalars().all()
        assert list(follows) == [people["ben"]]  # Ben still follows and will hear
        photos = (
            await uow.session.execute(
                select(StoredFile).where(StoredFile.purpose == "defect-photo")
            )
        ).all()
        assert photos == []
        events = (await uow.session.execute(select(DefectEvent))).scalars().all()
        assert all(e.text is None for e in events if e.citizen_id == people["anna"])
        for table in SQLModel.metadata.sorted_tables:
            rows = (await uow.session.execute(text(f'SELECT * FROM "{table.name}"'))).all()
            dump = repr(rows)
            assert "Schulte" not in dump, table.name
            assert "anna@example.org" not in dump, table.name
