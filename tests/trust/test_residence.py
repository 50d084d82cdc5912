"""What builds on a verified residence: residents-only campaigns, forms that need an identity
checked in person (accepted, marked pending, visible to staff)."""

from __future__ import annotations

from sqlalchemy import select

from services.campaigns import news
from services.campaigns import sending as campaigns
from services.cases import records as cases
from services.city import City
from services.identity import accounts as identity
from services.trust import residence
from storage.models.cases import CaseEvent
from tests.support import trust as verified
from tests.support.chat import Transcript


async def test_residents_only_means_checked_in_person(
    chat: Transcript, city: City, people: dict[str, int]
) -> None:
    now = chat.clock.now()
    async with chat.db.uow() as uow:
        for who in ("anna", "ben"):  # both typed 48683 into their profile
            await news.set_consent(uow, people[who], True, now=now, via="test")
        await verified.verify(uow, city, people["anna"], now)
        await uow.commit()
    async with chat.db.uow() as uow:
        assert await campaigns.count_recipients(uow, city, residents_only=True) == 1
        assert await campaigns.count_recipients(uow, city, residents_only=False) == 2
        assert await residence.is_verified_resident(uow, city, people["anna"])
        assert not await residence.is_verified_resident(uow, city, people["ben"])


async def test_a_form_needing_a_check_is_accepted_and_marked(
    chat: Transcript, city: City, people: dict[str, int]
) -> None:
    now = chat.clock.now()
    async with chat.db.uow() as uow:
        await verified.verify(uow, city, people["anna"], now)
        refs = {}
        for who in ("anna", "ben"):
            case = await cases.submit(
                uow,
                city,
                citizen_id=people[who],
                form="business",
                department="ordnung",
                answers={"trade": "Café"},
                summary="Café",
                now=now,
            )
            refs[who] = case.reference
        dog = await cases.submit(
            uow,
            city,
            citizen_id=people["ben"],
            form="dogtax",
            department="steuern",
            answers={},
            summary="Bello",
            now=now,
        )
        await uow.commit()
        kinds = {
            (case_id, kind)
            for case_id, kind in (
                await uow.session.execute(select(CaseEvent.case_id, CaseEvent.kind))
            ).all()
        }
    pending = {case_id for case_id, kind in kinds if kind == "identity"}
    assert len(pending) == 1  # ben's business registration only; not anna's, not the dog tax
    assert dog.id not in pending

    async with chat.db.uow() as uow:
        stefan = await identity.find_account(uow, "console", "stefan")
        assert stefan is not None
        await identity.grant_role(uow, stefan.citizen_id, "staff", "ordnung", now=now, by="test")
        await uow.commit()
    await chat.send("stefan", "/queue", room="ordnung")
    ben = await chat.press("stefan", refs["ben"], room="ordnung")
    assert "⚠️ Identitätsprüfung ausstehend" in ben
    assert "Identitätsprüfung ausstehend: Für diesen Antrag" in ben  # in the history too
    await chat.send("stefan", "/queue", room="ordnung")
    anna = await chat.press("stefan", refs["anna"], room="ordnung")
    assert "Identität: persönlich geprüft am" in anna and "ausstehend" not in anna
