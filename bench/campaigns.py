"""Voucher campaigns at town scale, on SQLite and PostgreSQL.

1. Sending: a campaign to 36,000 residents who opted in — seconds to write the outbox rows
   (services.campaigns.sending.send: INSERT ... SELECT, one statement per message language, then one
   UPDATE per minute of sending that paces the due times, plus the commit). For comparison,
   the same rows written one ORM object at a time (services.notify.notify_citizen + flush),
   which is what a naive loop would do.
2. Claiming: 1,000 residents press "Claim voucher" at the same moment for 500 vouchers, each
   claim its own transaction. Claims per second, p50/p95 latency, and the over-issued count
   (vouchers beyond the campaign's number), which must be 0.

    python bench/campaigns.py [--residents 36000] [--claimers 1000] [--vouchers 500]
                              [--no-orm-baseline]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from common import fresh_database, postgres_available, run, save, summary_ms
from sqlalchemy import delete, func, insert, select

import flows  # noqa: F401  (registers every flow and city section)
from services import notify
from services.campaigns import claims as campaign_claims
from services.campaigns import sending as campaigns
from services.city import load_city
from services.errors import Conflict, LimitReached
from storage.db import Database
from storage.models.campaigns import Campaign, CampaignClaim, NewsConsent
from storage.models.identity import ChannelAccount, Citizen
from storage.models.outbox import Notification
from storage.models.vouchers import Voucher

NOW = datetime(2026, 11, 25, 10, tzinfo=ZoneInfo("Europe/Berlin"))
CITY = load_city()
BATCH = 5000


async def residents(db: Database, count: int) -> list[int]:
    """`count` residents with a Telegram account who opted in (every tenth uses English)."""
    async with db.uow() as uow:
        first = (
            await uow.session.execute(select(func.coalesce(func.max(Citizen.id), 0)))
        ).scalar_one()
        ids = list(range(first + 1, first + count + 1))
        for start in range(0, count, BATCH):
            chunk = ids[start : start + BATCH]
            await uow.session.execute(
                insert(Citizen),
                [
                    {
                        "id": cid,
                        "language": "en" if cid % 10 == 0 else "de",
                        "postal_code": "48683",
                        "created_at": NOW,
                        "link_failures": 0,
                    }
                    for cid in chunk
                ],
            )
            await uow.session.execute(
                insert(ChannelAccount),
                [
                    {
                        "channel": "telegram",
                        "external_id": str(cid),
                        "chat_id": str(cid),
                        "citizen_id": cid,
                        "encrypted": False,
                        "created_at": NOW,
                    }
                    for cid in chunk
                ],
            )
            await uow.session.execute(
                insert(NewsConsent),
                [
                    {"citizen_id": cid, "opted_in": True, "changed_at": NOW, "via": "bench"}
                    for cid in chunk
                ],
            )
        await uow.commit()
    if db.dialect == "postgresql":  # explicit ids: move the sequence past them
        async with db.engine.begin() as conn:
            await conn.exec_driver_sql(
                "SELECT setval(pg_get_serial_sequence('citizen', 'id'), "
                "(SELECT max(id) FROM citizen))"
            )
    return ids


async def new_campaign(db: Database, actor: int, total: int) -> int:
    async with db.uow() as uow:
        campaign = await campaigns.create(
            uow,
            CITY,
            actor,
            campaigns.CampaignDraft(
                name="Winterzauber",
                text_de="Der Ahauser Winterzauber ist eröffnet!",
                text_en="Ahaus Winter Magic has begun!",
                value_cents=1000,
                total=total,
                last_day=NOW.date() + timedelta(days=30),
            ),
            now=NOW,
        )
        await uow.commit()
        assert campaign.id is not None
        return campaign.id


async def measure_send(db: Database, actor: int) -> dict[str, Any]:
    campaign_id = await new_campaign(db, actor, 500)
    started = time.perf_counter()
    async with db.uow() as uow:
        written = await campaigns.send(uow, CITY, campaign_id, actor, now=NOW)
        await uow.commit()
    seconds = time.perf_counter() - started
    async with db.uow() as uow:
        rows = (
            await uow.session.execute(
                select(func.count())
                .select_from(Notification)
                .where(Notification.ref == f"campaign:{campaign_id}")
            )
        ).scalar_one()
    assert rows == written
    return {
        "campaign_id": campaign_id,
        "outbox_rows": written,
        "seconds": round(seconds, 3),
        "rows_per_second": round(written / seconds),
    }


async def measure_orm_baseline(db: Database, ids: list[int]) -> dict[str, Any]:
    """The same rows, one ORM object each (then removed again)."""
    started = time.perf_counter()
    async with db.uow() as uow:
        for cid in ids:
            notify.notify_citizen(
                uow,
                cid,
                campaigns.MESSAGE,
                {"name": "Winterzauber", "text": "..."},
                now=NOW,
                buttons=[notify.button("Claim voucher", campaigns.CLAIM_ACTION, "0")],
                ref="baseline",
                dedupe_key=f"baseline:{cid}",
            )
        await uow.commit()
    seconds = time.perf_counter() - started
    async with db.uow() as uow:
        await uow.session.execute(delete(Notification).where(Notification.ref == "baseline"))
        await uow.commit()
    return {
        "outbox_rows": len(ids),
        "seconds": round(seconds, 3),
        "rows_per_second": round(len(ids) / seconds),
    }


async def measure_claims(
    db: Database, actor: int, claimers: list[int], vouchers: int
) -> dict[str, Any]:
    campaign_id = await new_campaign(db, actor, vouchers)
    async with db.uow() as uow:
        await campaigns.send(uow, CITY, campaign_id, actor, now=NOW)
        await uow.commit()
    latencies: list[float] = []
    gate = asyncio.Event()

    async def attempt(who: int) -> int:
        await gate.wait()
        started = time.perf_counter()
        try:
            async with db.uow() as uow:
                await campaign_claims.claim(uow, CITY, campaign_id, who, now=NOW)
                await uow.commit()
                return 1
        except (Conflict, LimitReached):
            return 0
        finally:
            latencies.append(time.perf_counter() - started)

    tasks = [asyncio.create_task(attempt(who)) for who in claimers]
    await asyncio.sleep(0)
    started = time.perf_counter()
    gate.set()  # everyone at the same moment
    claimed = sum(await asyncio.gather(*tasks))
    seconds = time.perf_counter() - started
    async with db.uow() as uow:
        campaign = await uow.session.get(Campaign, campaign_id)
        assert campaign is not None
        counter = campaign.claimed
        issued = (
            await uow.session.execute(
                select(func.count())
                .select_from(CampaignClaim)
                .join(Voucher, Voucher.id == CampaignClaim.voucher_id)
                .where(CampaignClaim.campaign_id == campaign_id)
            )
        ).scalar_one()
        holders = (
            await uow.session.execute(
                select(func.count(func.distinct(CampaignClaim.citizen_id))).where(
                    CampaignClaim.campaign_id == campaign_id
                )
            )
        ).scalar_one()
    assert counter == claimed == issued, (counter, claimed, issued)
    return {
        "claimers": len(claimers),
        "vouchers": vouchers,
        "claimed": claimed,
        "refused": len(claimers) - claimed,
        "over_issued": max(0, issued - vouchers),
        "twice_to_one_resident": issued - holders,
        "seconds": round(seconds, 3),
        "claims_per_second": round(claimed / seconds, 1),
        "attempts_per_second": round(len(claimers) / seconds, 1),
        **summary_ms(latencies),
    }


async def measure(kind: str, args: argparse.Namespace) -> dict[str, Any]:
    db, cleanup = await fresh_database(kind, Path(tempfile.mkdtemp()))
    try:
        started = time.perf_counter()
        ids = await residents(db, args.residents)
        print(f"  {len(ids)} residents in {time.perf_counter() - started:.1f} s", flush=True)
        actor = ids[0]
        result: dict[str, Any] = {"send": await measure_send(db, actor)}
        print(f"  send: {result['send']}", flush=True)
        if args.orm_baseline:
            result["send_orm_baseline"] = await measure_orm_baseline(db, ids)
            print(f"  orm baseline: {result['send_orm_baseline']}", flush=True)
        result["claims"] = await measure_claims(db, actor, ids[: args.claimers], args.vouchers)
        print(f"  claims: {result['claims']}", flush=True)
        return result
    finally:
        await cleanup()


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--residents", type=int, default=36000)
    parser.add_argument("--claimers", type=int, default=1000)
    parser.add_argument("--vouchers", type=int, default=500)
    parser.add_argument("--no-orm-baseline", dest="orm_baseline", action="store_false")
    args = parser.parse_args()
    results: dict[str, Any] = {
        "residents_opted_in": args.residents,
        "claimers": args.claimers,
        "vouchers": args.vouchers,
    }
    kinds = ["sqlite"] + (["postgresql"] if await postgres_available() else [])
    for kind in kinds:
        print(f"measuring {kind} ...", flush=True)
        results[kind] = await measure(kind, args)
    if "postgresql" not in kinds:
        results["postgresql"] = "not reachable: skipped"
    save("campaigns", results)


if __name__ == "__main__":
    run(main)
