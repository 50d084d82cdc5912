"""The price-curve picture (PNG, Pillow): past days, the next 30 days, the floor, today."""

from __future__ import annotations

import io
from datetime import date

from PIL import Image, ImageDraw, ImageFont

from services.auction.price import Rule, curve
from services.money import format_money

WIDTH, HEIGHT = 800, 450
LEFT, RIGHT, TOP, BOTTOM = 90, 30, 50, 70
PAST, FUTURE, FLOOR, TODAY, GRID, TEXT = (
    "#1f5fa8",
    "#8fb3dd",
    "#c0392b",
    "#2e7d32",
    "#e3e3e3",
    "#222222",
)


FONTS = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",  # Debian/Ubuntu fonts-dejavu-core
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",  # Fedora, Alpine
    "DejaVuSans.ttf",
)
_FOLD = str.maketrans(
    {
        "ä": "ae",
        "ö": "oe",
        "ü": "ue",
        "Ä": "Ae",
        "Ö": "Oe",
        "Ü": "Ue",
        "ß": "ss",
        "€": "EUR",
        "–": "-",
    }
)


def _font(size: int) -> tuple[ImageFont.FreeTypeFont | ImageFont.ImageFont, bool]:
    """A font with umlauts and € if the system has DejaVu Sans; else Pillow's own (ASCII)."""
    for path in FONTS:
        try:
            return ImageFont.truetype(path, size), True
        except OSError:
            continue
    return ImageFont.load_default(size=size), False


def _plain(text: str, full: bool) -> str:
    text = "".join(" " if ch.isspace() else ch for ch in text)
    return text if full else text.translate(_FOLD).encode("ascii", "replace").decode()


def price_curve_png(
    *,
    title: str,
    start_cents: int,
    floor_cents: int,
    rule: Rule,
    start_day: date,
    today: date,
    lang: str,
    labels: dict[str, str],
    ahead: int = 30,
) -> bytes:
    """`labels`: translated "price", "today", "floor", "day" texts."""
    today_index = max(0, (today - start_day).days)
    last = today_index + ahead
    prices = curve(start_cents, floor_cents, rule, 0, last)
    image = Image.new("RGB", (WIDTH, HEIGHT), "white")
    draw = ImageDraw.Draw(image)
    (small, full), (normal, _full) = _font(13), _font(17)

    def euros(cents: int) -> str:
        return _plain(format_money(cents, lang), full)

    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    top_price = start_cents * 1.05
    low_price = max(0.0, floor_cents * 0.9 if floor_cents else 0.0)

    def x(index: int) -> float:
        return LEFT + plot_w * index / max(1, last)

    def y(cents: float) -> float:
        return TOP + plot_h * (1 - (cents - low_price) / max(1.0, top_price - low_price))

    draw.text((LEFT, 12), _plain(title[:70], full), fill=TEXT, font=normal)
    for step in range(6):  # price grid and labels
        cents = low_price + (top_price - low_price) * step / 5
        draw.line([(LEFT, y(cents)), (WIDTH - RIGHT, y(cents))], fill=GRID)
        label = euros(round(cents))
        draw.text((LEFT - 8, y(cents)), label, fill=TEXT, font=small, anchor="rm")
    for index in range(0, last + 1, max(1, last // 8)):  # day labels
        day = date.fromordinal(start_day.toordinal() + index)
        draw.line([(x(index), TOP), (x(index), TOP + plot_h)], fill=GRID)
        draw.text(
            (x(index), TOP + plot_h + 8),
            f"{day.day}.{day.month}.",
            fill=TEXT,
            font=small,
            anchor="mt",
        )
    draw.line(
        [(LEFT, TOP), (LEFT, TOP + plot_h), (WIDTH - RIGHT, TOP + plot_h)], fill=TEXT, width=2
    )
    draw.text((LEFT, HEIGHT - 24), _plain(labels["day"], full), fill=TEXT, font=small)
    draw.text((12, TOP - 22), _plain(labels["price"], full), fill=TEXT, font=small)
    floor_y = y(floor_cents)
    for start in range(LEFT, WIDTH - RIGHT, 14):  # dashed floor line
        draw.line([(start, floor_y), (min(start + 8, WIDTH - RIGHT), floor_y)], fill=FLOOR, width=2)
    draw.text(
        (WIDTH - RIGHT, floor_y - 6),
        _plain(labels["floor"], full) + " " + f"{euros(floor_cents)}",
        fill=FLOOR,
        font=small,
        anchor="rb",
    )
    points = [(x(i), y(p)) for i, p in enumerate(prices)]
    if today_index > 0:
        draw.line(points[: today_index + 1], fill=PAST, width=4)
    draw.line(points[today_index:], fill=FUTURE, width=3)
    tx, ty = points[today_index]
    draw.line([(tx, TOP), (tx, TOP + plot_h)], fill=TODAY, width=1)
    draw.ellipse([(tx - 6, ty - 6), (tx + 6, ty + 6)], fill=TODAY)
    price_text = _plain(labels["today"], full) + f": {euros(prices[today_index])}"
    draw.text((min(tx + 10, WIDTH - RIGHT - 150), ty - 24), price_text, fill=TODAY, font=normal)
    out = io.BytesIO()
    image.save(out, "PNG", optimize=True)
    return out.getvalue()
