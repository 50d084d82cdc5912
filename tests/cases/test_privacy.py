"""A resident with cases, files, a helper conversation and a transit pass can export and delete
their data: cases stay (the law), anonymised; nothing with their name or e-mail remains."""

from __future__ import annotations

from sqlalchemy import select, text
from sqlmodel import SQLModel

from services.identity import accounts as identity
from services.identity import privacy
from storage.models.cases import Case, CaseEvent
from tests.cases.conftest import PDF, walk
from tests.cases.test_transit import FakeProvider, approved_transit
from tests.support.chat import Transcript


async def test_delete_a_resident_with_cases(chat: Transcript, people: dict[str, int]) -> None:
    chat.env.payments = FakeProvider()
    anna = people["anna"]
    await chat.send("anna", "/language en")
    ref = await approved_transit(chat, anna, "2027-06-30")
    await chat.notifications("anna")
    await walk(chat, "anna", "/lotse", "I am Anna Schulte, anna@example.org")
    await chat.notifications("room:lotsen")
    await chat.send("anna", f"/case {ref}")
    await chat.press("anna", "Buy the monthly pass")
    await chat.press("anna", "Pay (demo)")
    await chat.send("petra", f"/case {ref}", room="buergerbuero")
    await chat.send("anna", "/cases")
    from tests.cases.conftest import submit_case

    other = await submit_case(chat, anna)
    await chat.notifications("room:steuern")
    await chat.press("stefan", "Rückfrage stellen", room="steuern")
    await chat.send("stefan", "The certificate, please.", room="steuern")
    await chat.press("stefan", "Ja", room="steuern")
    await chat.notifications("anna")
    await chat.press("anna", "Answer")
    await chat.upload("anna", "cert.pdf", "application/pdf", PDF)
    await chat.notifications("room:steuern")

    async with chat.db.uow() as uow:
        exported = await privacy.export_citizen(uow, anna)
        assert {"case_file", "case_event", "helper_session", "transit_pass"} <= set(exported)
        await identity.delete_citizen(uow, anna, chat.clock.now())
        await uow.commit()

    async with chat.db.uow() as uow:
        kept = list((await uow.session.execute(select(Case))).scalars())
        assert {c.reference for c in kept} == {ref, other}
        assert all(c.answers == {} and c.summary is None for c in kept)
        events = list((await uow.session.execute(select(CaseEvent))).scalars())
        assert events and all(e.text is None and e.file_id is None for e in events)
        for table in SQLModel.metadata.sorted_tables:
            rows = (await uow.session.execute(text(f'SELECT * FROM "{table.name}"'))).all()
            dump = repr(rows)
            assert "Schulte" not in dump, table.name
            assert "anna@example.org" not in dump, table.name
        await uow.commit()
