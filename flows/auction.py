"""The lost-and-found auction for residents: browse by category, an item with photo, today's
and tomorrow's price and the price curve, buy at today's price, wish prices, purchases and
pickup codes. Deal alerts: flows/auction_alerts.py; staff listing: flows/auction_staff.py."""

from __future__ import annotations

from decimal import Decimal

from babel.numbers import format_decimal

from flows.checkout import offer_checkout
from flows.context import Ctx
from flows.menu import back_to_menu
from flows.registry import Router
from flows.types import Button, Media
from flows.wallet import qr_media
from services import codes, i18n
from services.auction import buying as auction_buy
from services.auction import items as auction
from services.auction import pickup, reservations
from services.auction import wishes as auction_wishes
from services.auction.buying import COLLECTED, LISTED, PAID, PENDING, RESERVED, SOLD, AuctionItem
from services.auction.curve import price_curve_png
from services.auction.price import day_of
from services.errors import Conflict, InvalidInput
from services.i18n import N_
from services.money import babel_locale, parse_amount
from services.numbers import ID_MAX, parse_id, parse_int

router = Router("auction")
router.menu(
    N_("Lost and found auction"),
    "auction.home",
    order=60,
    keywords=["fundsachen", "auktion", "auction", "lost and found", "fund", "fundbüro"],
)
PAGE = 8


def rule_sentence(ctx: Ctx, item: AuctionItem | None = None) -> str:
    config = auction.rules(ctx.city)
    rate_bp = item.rate_bp if item else config.rule.rate_bp
    variant = item.variant if item else config.variant
    rate = format_decimal(Decimal(rate_bp) / 100, locale=babel_locale(ctx.lang))
    if variant == "compound":
        return ctx.t(
            "The price falls every night by {rate} % of the day before until it reaches the "
            "floor; whoever buys first gets the item.",
            rate=rate,
        )
    return ctx.t(
        "The price falls every night by {rate} % of the start price until it reaches the "
        "floor; whoever buys first gets the item.",
        rate=rate,
    )


def category_name(ctx: Ctx, key: str) -> str:
    found = auction.rules(ctx.city).category(key)
    return found.name(ctx.lang) if found else key


@router.command("auktion", "auction", "fundsachen", help=N_("lost and found auction"))
async def auction_command(ctx: Ctx, args: str) -> None:
    await home(ctx, "")


@router.action("auction.home")
async def home(ctx: Ctx, arg: str) -> None:
    counts = await auction.category_counts(ctx.uow)
    buttons = [
        Button(f"{c.name(ctx.lang)} ({counts.get(c.key, 0)})", "auction.browse", f"{c.key}:0")
        for c in auction.rules(ctx.city).categories
    ]
    buttons.append(ctx.button("All items", "auction.browse", ":0"))
    buttons.append(ctx.button("My deal alerts", "auction.alerts"))
    buttons.append(ctx.button("My purchases", "auction.purchases"))
    if ctx.has_role("staff", auction.LISTING_DEPARTMENT):
        buttons.append(ctx.button("List a found item", "auction.list"))
    buttons.append(back_to_menu(ctx))
    ctx.say(
        ctx.t(
            "Lost and found auction of {city}: {n} items on offer.",
            city=ctx.city.name,
            n=sum(counts.values()),
        )
        + "\n"
        + rule_sentence(ctx)
        + "\n"
        + ctx.t("Choose a category:"),
        buttons,
    )


@router.action("auction.browse")
async def browse(ctx: Ctx, arg: str) -> None:
    category, _sep, offset_text = arg.partition(":")
    offset = parse_int(offset_text, high=ID_MAX) or 0
    items, total = await auction.browse(ctx.uow, category, offset=offset, limit=PAGE)
    day = auction.today(ctx.city, ctx.now)
    title = category_name(ctx, category) if category else ctx.t("All items")
    if not items:
        ctx.say(
            ctx.t("{category}: nothing on offer at the moment.", category=title),
            [ctx.button("My deal alerts", "auction.alerts"), ctx.button("Back", "auction.home")],
        )
        return
    buttons = [
        Button(
            f"{item.title[:40]} – {ctx.money(auction.price_for_day(item, day))}"
            + (" ⏳" if item.status == RESERVED else ""),
            "auction.item",
            str(item.id),
        )
        for item in items
    ]
    if offset + PAGE < total:
        buttons.append(ctx.button("More", "auction.browse", f"{category}:{offset + PAGE}"))
    buttons.append(ctx.button("Back", "auction.home"))
    ctx.say(
        ctx.t(
            "{category}: {first}–{last} of {total}, today's prices:",
            category=title,
            first=offset + 1,
            last=offset + len(items),
            total=total,
        ),
        buttons,
    )


def _item_id(arg: str) -> int:
    item_id = parse_id(arg)
    if item_id is None:
        raise InvalidInput("This item is not in the auction.")
    return item_id


@router.deeplink("fund")
async def item_link(ctx: Ctx, rest: str) -> None:
    await show_item(ctx, rest)


@router.action("auction.item")
async def show_item(ctx: Ctx, arg: str) -> None:
    item = await auction.get_item(ctx.uow, _item_id(arg))
    day = auction.today(ctx.city, ctx.now)
    today_price = auction.price_for_day(item, day)
    lines = [item.title]
    if item.description:
        lines.append(i18n.content(ctx.lang, item.description))
    lines.append(
        ctx.t(
            "Category: {category} · found {when} at {place}",
            category=category_name(ctx, item.category),
            when=ctx.date(item.found_on),
            place=item.found_place or "–",
        )
    )
    buttons: list[Button] = []
    if item.status in (LISTED, RESERVED):
        tomorrow = auction.price_for_day(item, day + 1)
        lines.append(
            ctx.t(
                "Today's price: {today} · tomorrow: {tomorrow} · floor: {floor}",
                today=ctx.money(today_price),
                tomorrow=ctx.money(tomorrow),
                floor=ctx.money(item.floor_cents),
            )
        )
        lines.append(rule_sentence(ctx, item))
        holding = (
            await reservations.holding_reservation(ctx.uow, item.id or 0)
            if item.status == RESERVED
            else None
        )
        if (
            holding is not None
            and holding.status == PENDING
            and holding.citizen_id == ctx.citizen_id
        ):
            # the winner sees their own reservation and pays from here
            lines.append(
                ctx.t(
                    "Reserved for you at {price} until {deadline}. Please pay by then.",
                    price=ctx.money(holding.price_cents),
                    deadline=ctx.datetime(holding.expires_at),
                )
            )
            buttons.append(ctx.button("Pay now", "auction.pay", str(holding.id)))
        elif item.status == RESERVED:
            lines.append(
                ctx.t("Someone is paying for it right now; if they do not, it is offered again.")
            )
        else:
            buttons.append(ctx.button("Buy at today's price", "auction.buy", str(item.id)))
        wish = await auction_wishes.my_wish(ctx.uow, ctx.citizen_id, item.id or 0)
        if wish is not None:
            lines.append(ctx.t("Your wish price: {amount}.", amount=ctx.money(wish.amount_cents)))
            buttons.append(ctx.button("Change my wish price", "auction.wish", str(item.id)))
            buttons.append(ctx.button("Withdraw my wish price", "auction.unwish", str(item.id)))
        elif today_price > item.floor_cents:
            buttons.append(ctx.button("Set a wish price", "auction.wish", str(item.id)))
        buttons.append(ctx.button("Price curve", "auction.curve", str(item.id)))
        buttons.append(
            ctx.button("Alert me about similar items", "auction.alert_new", item.category)
        )
    elif item.status == SOLD:
        lines.append(ctx.t("This item has been sold."))
    else:
        lines.append(ctx.t("This auction has ended."))
    buttons.append(ctx.button("Back", "auction.browse", f"{item.category}:0"))
    stored = await auction.photo(ctx.uow, item)
    media = None
    if stored is not None:
        extension = "png" if stored.mime == "image/png" else "jpg"
        media = Media("image", f"fund-{item.id}.{extension}", stored.mime, stored.data)
    ctx.say("\n".join(lines), buttons, media=media)


@router.action("auction.curve")
async def show_curve(ctx: Ctx, arg: str) -> None:
    item = await auction.get_item(ctx.uow, _item_id(arg))
    picture = price_curve_png(
        title=item.title,
        start_cents=item.start_cents,
        floor_cents=item.floor_cents,
        rule=auction.rule_of(item),
        start_day=day_of(item.start_dayno),
        today=ctx.today(),
        lang=ctx.lang,
        labels={
            "price": ctx.t("Price"),
            "today": ctx.t("Today"),
            "floor": ctx.t("Floor"),
            "day": ctx.t("Day"),
        },
    )
    ctx.say(
        ctx.t(
            "Price curve of {title}: past days, the next 30 days and the floor.", title=item.title
        ),
        [ctx.button("Back", "auction.item", str(item.id))],
        media=Media("image", f"price-curve-{item.id}.png", "image/png", picture),
    )


# ---------------------------------------------------------------- buying and paying
def _payments_wired(ctx: Ctx) -> None:
    if ctx.env.payments is None:
        raise Conflict(
            "Payments are not available at the moment, so nothing was reserved. "
            "Please try again later."
        )


@router.action("auction.buy")
async def buy(ctx: Ctx, arg: str) -> None:
    _payments_wired(ctx)
    reservation = await auction_buy.buy(ctx.uow, ctx.city, ctx.citizen_id, _item_id(arg), ctx.now)
    await _checkout(ctx, reservation.id or 0)


@router.action("auction.pay")
async def pay(ctx: Ctx, arg: str) -> None:
    _payments_wired(ctx)
    await _checkout(ctx, _item_id(arg))


async def _checkout(ctx: Ctx, reservation_id: int) -> None:
    payment = await auction_buy.start_payment(
        ctx.uow, ctx.env, ctx.citizen_id, reservation_id, ctx.now
    )
    reservation = await reservations.my_reservation(ctx.uow, ctx.citizen_id, reservation_id)
    item = await auction.get_item(ctx.uow, reservation.item_id)
    text = ctx.t(
        "{title} is reserved for you at {price}. If it is not paid in time, the reservation "
        "lapses and nothing is charged.",
        title=item.title,
        price=ctx.money(reservation.price_cents),
    )
    offer_checkout(ctx, payment, text, [ctx.button("Back", "auction.item", str(item.id))])


@router.action("auction.pickup")
async def show_pickup(ctx: Ctx, arg: str) -> None:
    reservation = await reservations.my_reservation(ctx.uow, ctx.citizen_id, _item_id(arg))
    item = await auction.get_item(ctx.uow, reservation.item_id)
    if reservation.status not in (PAID, COLLECTED) or not reservation.pickup_code:
        raise Conflict("This purchase is not paid.")
    config = auction.rules(ctx.city)
    code = codes.display(reservation.pickup_code)
    if reservation.status == COLLECTED:
        text = ctx.t(
            "{title}: picked up on {day}. Pickup code {code} (used).",
            title=item.title,
            day=ctx.date((reservation.collected_at or ctx.now).date()),
            code=code,
        )
    else:
        text = ctx.t(
            "{title} is paid ({price}). Show this pickup code at {place}: {code}\n"
            "Opening hours: {hours}. Please collect it within {days} days and bring an ID.",
            title=item.title,
            price=ctx.money(reservation.price_cents),
            place=config.pickup_place,
            code=code,
            hours=config.pickup_hours(ctx.lang),
            days=config.pickup_days,
        )
    ctx.say(
        text,
        [ctx.button("My purchases", "auction.purchases"), back_to_menu(ctx)],
        media=qr_media(f"pickup-{reservation.id}", reservation.pickup_code),
        private=True,
    )


@router.action("auction.purchases")
async def purchases(ctx: Ctx, arg: str) -> None:
    mine = await pickup.purchases(ctx.uow, ctx.citizen_id)
    if not mine:
        ctx.say(
            ctx.t("You have not bought anything in the auction yet."),
            [ctx.button("Back", "auction.home")],
        )
        return
    labels = {
        "pending": N_("waiting for payment"),
        "paid": N_("paid – ready for pickup"),
        "collected": N_("picked up"),
    }
    buttons = []
    lines = [ctx.t("Your purchases:")]
    for reservation, item in mine[:10]:
        lines.append(
            f"• {item.title} – {ctx.money(reservation.price_cents)} – "
            f"{ctx.t(labels[reservation.status])}"
        )
        action = "auction.pay" if reservation.status == "pending" else "auction.pickup"
        buttons.append(Button(item.title[:40], action, str(reservation.id)))
    buttons.append(ctx.button("Back", "auction.home"))
    ctx.say("\n".join(lines), buttons)


# ---------------------------------------------------------------- wish prices
@router.action("auction.wish")
async def wish(ctx: Ctx, arg: str) -> None:
    item = await auction.get_item(ctx.uow, _item_id(arg))
    if item.status not in (LISTED, RESERVED):
        raise Conflict("This auction has ended.")
    price = auction.price_for_day(item, auction.today(ctx.city, ctx.now))
    ctx.ask(
        "auction.wish_amount",
        ctx.t(
            "Your wish price for {title}: between {floor} and {below}. When the price falls to "
            "it, the highest wish wins and pays its wish price. Please type an amount, e.g. "
            "{example}.",
            title=item.title,
            floor=ctx.money(item.floor_cents),
            below=ctx.money(price - 1),
            example=ctx.money(max(item.floor_cents, price * 9 // 10)),
        ),
        [ctx.button("Cancel", "auction.item", str(item.id))],
        item=item.id,
    )


@router.step("auction.wish_amount")
async def wish_amount(ctx: Ctx) -> None:
    item_id = int(ctx.data.get("item", 0))
    if ctx.inbound.kind != "text":
        ctx.say(ctx.t("Please type the amount as text, for example 45,00."))
        return
    amount = parse_amount(ctx.inbound.text)
    wish = await auction_wishes.place_wish(
        ctx.uow, ctx.city, ctx.citizen_id, item_id, amount, ctx.now
    )
    item = await auction.get_item(ctx.uow, item_id)
    ctx.done()
    ctx.say(
        ctx.t(
            "Noted: your wish price for {title} is {amount}. When the price reaches it "
            "and yours is the highest wish, the item is reserved for you and you are asked "
            "to pay.",
            title=item.title,
            amount=ctx.money(wish.amount_cents),
        ),
        [ctx.button("Back", "auction.item", str(item_id)), back_to_menu(ctx)],
    )


@router.action("auction.unwish")
async def unwish(ctx: Ctx, arg: str) -> None:
    await auction_wishes.withdraw_wish(ctx.uow, ctx.citizen_id, _item_id(arg))
    ctx.say(
        ctx.t("Your wish price was withdrawn."),
        [ctx.button("Back", "auction.item", arg), back_to_menu(ctx)],
    )
