"""The HTML of /meldungen: open and recently closed reports as a list and on a map, German or
English, readable on a phone. What it shows is what Open311 shows (services.defects.open311):
category, place, date, status, the public notes, the scrubbed description and the photo."""

from __future__ import annotations

import json
from html import escape
from typing import Any

from services.city import City
from services.defects.config import rules
from services.defects.open311 import Public, media_url
from services.defects.states import LABELS, OPEN_STATES
from services.i18n import N_, format_date, translate

ASSETS = "/meldungen/assets"


def _t(lang: str, message: str, **params: Any) -> str:
    return escape(translate(lang, message, params))


def _item(lang: str, city: City, item: Public, public_url: str) -> str:
    report = item.report
    category = rules(city).category(report.category)
    name = category.name(lang) if category else report.category
    is_open = report.status in OPEN_STATES
    day = format_date(lang, report.created_at.astimezone(city.tz).date())
    status = translate(lang, LABELS.get(report.status, report.status))
    place = report.address or f"{report.lat:.5f}, {report.lon:.5f}"
    parts = [
        f'<li class="report {"open" if is_open else "closed"}" id="report-{report.id}" '
        f'data-id="{report.id}" data-status="{"open" if is_open else "closed"}" '
        f'data-category="{escape(report.category)}">',
        f"<h2>{_t(lang, N_('No. {number}'), number=report.id)} · {escape(name)}</h2>",
        f'<p class="meta"><span class="place">{escape(place)}</span> · '
        f'<time datetime="{report.created_at.astimezone(city.tz).isoformat()}">{escape(day)}</time>'
        f' · <span class="status">{escape(status)}</span></p>',
    ]
    if item.description:
        parts.append(f'<p class="description">{escape(item.description)}</p>')
    if item.notes:
        parts.append('<ul class="notes">')
        for note in item.notes:
            when = format_date(lang, note.at.astimezone(city.tz).date())
            parts.append(f"<li>{escape(when)}: {escape(note.text or '')}</li>")
        parts.append("</ul>")
    photo = media_url(report, public_url) if report.photo_token else None
    if photo:
        alt = _t(lang, N_("Photo of report no. {number}"), number=report.id)
        parts.append(
            f'<p class="photo"><img src="{escape(photo)}" alt="{alt}" loading="lazy" '
            'width="320"></p>'
        )
    parts.append("</li>")
    return "".join(parts)


def page(lang: str, city: City, shown: list[Public], public_url: str) -> str:
    defects = rules(city)
    center = list(defects.map_center)
    if center == [0.0, 0.0] and shown:
        center = [shown[0].report.lat, shown[0].report.lon]
    markers = [
        {
            "id": item.report.id,
            "lat": item.report.lat,
            "lon": item.report.lon,
            "open": item.report.status in OPEN_STATES,
            "title": translate(lang, N_("No. {number}"), {"number": item.report.id})
            + " · "
            + (c.name(lang) if (c := defects.category(item.report.category)) else ""),
            "place": item.report.address,
            "status": translate(lang, LABELS.get(item.report.status, item.report.status)),
        }
        for item in shown
    ]
    data = {
        "center": center,
        "zoom": defects.map_zoom,
        "tiles": defects.tile_url,
        "attribution": defects.tile_attribution,
        "more": translate(lang, N_("Details in the list")),
        "reports": markers,
    }
    payload = json.dumps(data, ensure_ascii=False).replace("</", "<\\/")
    open_count = sum(1 for item in shown if item.report.status in OPEN_STATES)
    items = "".join(_item(lang, city, item, public_url) for item in shown)
    empty = f'<p class="empty">{_t(lang, N_("No reports at the moment."))}</p>' if not shown else ""
    other = "en" if lang == "de" else "de"
    switch = "English" if other == "en" else "Deutsch"
    title = _t(lang, N_("Defect reports in {town}"), town=city.name)
    intro = _t(
        lang,
        N_(
            "{open} open and {closed} recently closed reports. Report a defect in the chat: "
            'write "Mangel melden" to the town\'s bot.'
        ),
        open=open_count,
        closed=len(shown) - open_count,
    )
    map_label = _t(lang, N_("Map of the reports"))
    apps = _t(lang, N_("The same data for apps (Open311 GeoReport v2):"))
    attribution = escape(defects.tile_attribution)
    return f"""<!doctype html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="stylesheet" href="{ASSETS}/leaflet/leaflet.css">
<link rel="stylesheet" href="{ASSETS}/meldungen.css">
</head>
<body>
<header>
<h1>{title}</h1>
<p class="intro">{intro}</p>
<nav class="lang"><a href="?lang={other}" hreflang="{other}">{switch}</a></nav>
</header>
<main>
<div id="map" role="img" aria-label="{map_label}"></div>
<ul class="reports" id="reports">{items}</ul>{empty}
</main>
<footer><p>{apps} <a href="/open311/v2/requests.json">/open311/v2/requests.json</a>
· {attribution} · Leaflet</p></footer>
<script type="application/json" id="reports-data">{payload}</script>
<script src="{ASSETS}/leaflet/leaflet.js"></script>
<script src="{ASSETS}/meldungen.js"></script>
</body>
</html>
"""
