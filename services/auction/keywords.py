"""Keyword matching for deal alerts, precomputed: which subscribed keywords an item's text
contains (auction_keyword_hit), recorded when an item is listed or a keyword is subscribed."""

from __future__ import annotations

import re

from sqlalchemy import exists, insert, literal, select
from sqlmodel import col

from services.auction.due import NEVER_DUE
from services.errors import InvalidInput
from storage.models.auction import LISTED, AuctionItem, AuctionKeywordHit, AuctionSubscription
from storage.uow import UnitOfWork

_KEYWORD = re.compile(r"[^\W_][\w\- ]{1,39}")


def clean_keyword(text: str) -> str:
    keyword = " ".join(text.split()).casefold()
    if not _KEYWORD.fullmatch(keyword):
        raise InvalidInput(
            "A keyword has 2 to 40 letters or digits, for example fahrrad or iphone."
        )
    return keyword


async def index_item_keywords(uow: UnitOfWork, item: AuctionItem) -> None:
    """Record which subscribed keywords the new item's text contains."""
    keywords = (
        await uow.session.execute(
            select(AuctionSubscription.keyword)
            .where(AuctionSubscription.active == True, AuctionSubscription.keyword != "")  # noqa: E712
            .distinct()
        )
    ).scalars()
    hits = [
        {"keyword": k, "item_id": item.id, "due_dayno": item.start_dayno}  # checked first night
        for k in keywords
        if k in item.search_text
    ]
    if hits:
        await uow.session.execute(insert(AuctionKeywordHit), hits)


async def index_keyword(uow: UnitOfWork, keyword: str) -> None:
    """Record which items on offer contain a newly subscribed keyword (one scan); they are
    never due until the subscription schedules them (services.auction.due)."""
    hit = AuctionKeywordHit
    known = exists().where(hit.keyword == keyword, hit.item_id == AuctionItem.id)
    query = select(literal(keyword), AuctionItem.id, literal(NEVER_DUE)).where(
        col(AuctionItem.status).in_((LISTED, "reserved")),
        col(AuctionItem.search_text).contains(keyword, autoescape=True),
        ~known,
    )
    await uow.session.execute(
        insert(AuctionKeywordHit).from_select(["keyword", "item_id", "due_dayno"], query)
    )
