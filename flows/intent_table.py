"""What free text can mean: topics (a capability or a question about one) with the words that
point to them, in German and English, and the kinds of question ("how much?", "what do I bring?")
that turn a topic into an answer instead of a form. Read by flows/intent.py.

Words are written as people write them; they are folded (case, umlauts, punctuation) and stemmed
when the index is built. A weight says how sure a word makes us: 3 names the thing, 2 points to
it, 1 only hints. A destination is "action" or "action:arg" of a registered button action."""

from __future__ import annotations

from dataclasses import dataclass, field

from services.i18n import N_


@dataclass(frozen=True)
class Topic:
    key: str
    label: str  # msgid: the suggestion's button
    go: str  # where the topic leads when no question is asked
    words: dict[float, str]  # weight -> comma-separated words and phrases
    acts: dict[str, str] = field(default_factory=dict)  # kind of question -> destination
    social: bool = False  # small talk: only when nothing else was understood
    generic: bool = False  # yields to any specific topic found beside it ("Kita beantragen")


def _form(key: str, office: str, *, go: str = "") -> dict[str, str]:
    return {
        "status": "case.list",
        "cost": f"info.fee:{key}",
        "bring": f"info.bring:{key}",
        "hours": f"info.office:{office}",
        "contact": f"info.office:{office}",
        "apply": f"form.open:{key}",
        "how": go or f"form.open:{key}",  # "how do I register my shop?": the form shows how
    }


# Kinds of question, strongest first: the first one found in a text decides.
ACTS: dict[str, str] = {
    "status": "wo ist mein, wo ist meine, wo bleibt, wo steht, wie ist der stand, status, "
    "bearbeitungsstand, wie weit, schon bearbeitet, bearbeitet, noch nichts gehoert, "
    "nichts gehoert, nix gehoert, noch nichts, noch nix, "
    "where is my, whats the status, progress, still waiting, any news on my, how far, "
    "havent heard, heard nothing, not heard, heard anything, processed",
    "cost": "kostet, kosten, kostenlos, hoehe, gebuehr, gebuehren, preis, preise, teuer, wie viel, "
    "wieviel, wie hoch, betrag, steuersatz, saetze, tarif, zahlen, zahlt, zahle, bezahlen, "
    "gratis, how much, cost, costs, price, prices, fee, fees, rate, rates, charge, expensive, "
    "pay, free, for free, free of charge, annual, jaehrlich, im jahr, pro jahr, per year, "
    "a year, zwei hunde, drei hunde, zweiten hund, zweiter hund, second dog, two dogs, "
    "three dogs",
    "bring": "mitbringen, mitnehmen, unterlagen, dokumente, nachweis, nachweise, papiere, "
    "brauche ich, benoetige ich, voraussetzungen, was muss ich, bring, documents, papers, "
    "paperwork, requirements, what do i need, need to bring, proof",
    "hours": "oeffnungszeiten, oeffnungszeit, geoeffnet, wann offen, heute offen, ist offen, "
    "offen hat, sprechzeiten, sprechstunde, wann auf, opening hours, opening times, open today, "
    "when open, is open, are you open, when is, hours, closed, geschlossen, office hours, "
    "open hours",
    "contact": "kontakt, telefon, telefonnummer, email, e mail, anrufen, erreiche, erreichen, "
    "wo finde ich, wo ist das, wo ist der, wo ist die, contact, phone, call, reach, "
    "where is the, where can i find",
    "how": "wie funktioniert, funktioniert, ablauf, wie laeuft, erklaer, erklaeren, "
    "how does, how do, how it works, work, works, explain",
    "apply": "beantragen, antrag stellen, antrag, formular, anmelden, registrieren, apply, "
    "application, register, sign up, form, bestellen, order",
}
# a question with no topic
ACT_ALONE: dict[str, str] = {
    "status": "case.list",
    "cost": "info.fee",
    "bring": "info.bring",
    "hours": "info.office:buergerbuero",
    "contact": "info.office:buergerbuero",
    "how": "help.show",
    "apply": "apply.menu",
}

TOPICS: list[Topic] = [
    # ------------------------------------------------ lost, found, moving: before the forms
    Topic("lost", N_("Lost property office"), "info.lost", {
        3.5: "verloren, vermisst, vermisse, verlegt, liegen gelassen, liegengelassen, abhanden, "
        "weggelaufen, entlaufen, gefunden, finde nicht, nicht mehr finden, fundbuero, "
        "lost, misplaced, cant find, can not find, cannot find, ran away, run away, "
        "left behind, found, lost property, left my, forgot my, liegen lassen, vergessen, "
        "verschwunden, abgegeben, abgeben, abgehauen, weggekommen, gone, dropped, hand in, "
        "handed in, took my, taken, fundsachen abgeben, "
        "did someone find, has anyone found, anyone found, jemand gefunden, left her, left his, "
        "left our",
        3: "missing",
        2: "fundsache, gestohlen, stolen, weg, fehlt, fehlen, "
        "verlustanzeige, verlustmeldung, abhandengekommen, verloren gegangen, lost item, "
        "lost items, lost something, found something, gefundenes, fund abgeben",
        1.5: "finde, nicht mehr",
    }),
    Topic("moving", N_("Registering a move"), "info.moving", {
        3.5: "umzug, neue adresse anmelden, nach dem umzug",
        3: " umziehen, umgezogen, ziehe um, ummelden, ummeldung, wohnsitz, neue wohnung, "
        "meldebescheinigung, wohnungsgeberbestaetigung, zugezogen, neu in ahaus, "
        "moving house, moved, move to, new address, change of address, registration of address, "
        "moving, wohne jetzt, adresswechsel, adressaenderung, ziehen nach, ziehen um, "
        "relocated, relocate, relocating, new home, "
        "einwohnermeldeamt, meldeamt, zuzug, wegzug, anmeldebestaetigung, address change, "
        "moved to, moving in, moving out, residence registration, register my residence, "
        "hergezogen, hierher gezogen, where do i register, wo melde ich mich an",
    }),
    # ------------------------------------------------ applications
    Topic("dogtax", N_("Dog tax registration"), "form.open:dogtax", {
        3.5: "hundesteuer, hundemarke, hundeanmeldung, dog tax, dog licence, dog license, "
        "dog registration, register my dog, register a dog",
        2: "hund, hunde, hundes, welpe, welpen, dog, dogs, puppy, wauwau, fiffi, dackel, "
        "labrador, schaeferhund, terrier, pudel, adopted a dog, "
        "hundesteuermarke, steuermarke, hundehalter, hundehaltung, dog owner, my dog, our dog",
        1.5: "steuer, tax",
    }, _form("dogtax", "steuern")),
    Topic("business", N_("Business registration"), "form.open:business", {
        3.5: "gewerbe, gewerbeanmeldung, gewerbeschein, gewerbeamt, kleingewerbe, "
        "selbststaendig, selbststaendigkeit, existenzgruendung, business registration, "
        "register a business, trade licence, self employed, start a business, "
        "onlineshop, online shop, webshop",
        2: "firma, business, company, laden eroeffnen, shop, freelancer, freiberuflich, "
        "eroeffnen, gruenden, open a, start a company, nebengewerbe, bakery, friseur, "
        "aufmachen, imbiss, restaurant, my new shop, freelance, "
        "gewerbeabmeldung, gewerbeummeldung, gewerbeanzeige, firmengruendung, "
        "unternehmen gruenden, gruendung, startup, sole trader, gewerbetreibend, "
        "handwerksbetrieb",
    }, _form("business", "ordnung")),
    Topic("space", N_("Special use of public space"), "form.open:space", {
        3.5: "sondernutzung, sondernutzungserlaubnis, geruest, baugeruest, halteverbot, "
        "parkverbot, absperrung, aussengastronomie, public space, scaffolding, "
        "no parking zone, street use, skip on the street, moving truck, moving van, "
        "removal van, parking spaces, block parking, market stall, stellplatz",
        2: "container, bauschuttcontainer, terrasse, stuehle draussen, infostand, marktstand, "
        "moebelwagen, umzugswagen, gehweg nutzen, skip, terrace, sidewalk, pavement, stall, "
        "aussenplaetze, aussenbereich, aussenflaeche, outdoor seating, "
        "sondernutzungsantrag, strassensperrung, absperren, baustelleneinrichtung, road closure, "
        "block the road, kran, crane, werbetafel, aufsteller, kundenstopper",
        1.5: "erlaubnis, genehmigung, permit, stand",
    }, _form("space", "ordnung")),
    Topic("daycare", N_("Daycare registration"), "form.open:daycare", {
        3.5: "kita, kitaplatz, kindergarten, kindergartenplatz, krippe, krippenplatz, "
        "kindertagesstaette, betreuungsplatz, tagesmutter, daycare, day care, nursery, "
        "childcare, child care, preschool, kinderbetreuung, "
        "kinderkrippe, kinderbetreuungsplatz, tagespflege, kita anmelden, kindergartenanmeldung, "
        "day nursery, childminder, child minder, creche, u3 platz",
        2: "betreuung, kleinkind, kind anmelden, kinder, kind, child, toddler, baby",
    }, _form("daycare", "kita")),
    # naming the Sozialticket is asking for it; a bus ticket is a question first
    Topic("sozialticket", N_("Subsidised transit ticket"), "form.open:transit", {
        3.5: "sozialticket, deutschlandticket sozial, sozialpass, social ticket",
    }, _form("transit", "buergerbuero", go="info.transit") | {"cost": "info.transit"}),
    Topic("transit", N_("Subsidised transit ticket"), "info.transit", {
        3.5: "deutschlandticket, oepnv, nahverkehr, bus ticket, busticket, "
        "monatskarte, public transport, transit, transport ticket, bus pass, travel pass, "
        "wenig einkommen, geringes einkommen, low income, wenig geld",
        2: "bus, busfahren, bahn, zug, bahnticket, fahrkarte, train, metro, fahrschein, "
        "verbilligte fahrkarte, ermaessigte fahrkarte, reduced fare, reduced ticket, "
        "cheap ticket, guenstige fahrkarte, "
        "bus und bahn, regionalbus, ermaessigung, sozialrabatt, reduced price ticket, "
        "concession ticket, low income ticket, abo",
    }, _form("transit", "buergerbuero", go="info.transit") | {"cost": "info.transit"}),
    Topic("cases", N_("My applications"), "case.list", {
        3.5: "mein antrag, meine antraege, meinen antrag, meinem antrag, meine anfrage, "
        "vorgang, vorgaenge, bearbeitungsstand, my application, my applications, my case, "
        "my cases, my request, application status, cases, "
        "eingereicht, meine einreichung, mein fall, aktenzeichen, vorgangsnummer, "
        "reference number, application number, submitted",
        2: "bescheid, entscheidung, antwort vom amt, decision",
    }),
    Topic("apply", N_("Apply for something"), "apply.menu", {
        2.5: "antrag, antraege, beantragen, formular, formulare, antrag stellen, apply, "
        "application, applications, forms, form, online antrag",
        1: "anmelden, anmeldung, register, registration",
    }, {"status": "case.list", "cost": "info.fee", "bring": "info.bring"}, generic=True),
    # ------------------------------------------------ money and tickets
    Topic("mytickets", N_("My tickets"), "events.mine", {
        3.5: "meine tickets, meine karten, meine eintrittskarten, meine buchung, my tickets, "
        "my booking, my bookings, ticket stornieren, cancel my ticket",
    }),
    Topic("gift", N_("Claim a gift"), "gift.enter", {
        3.5: "geschenkcode, geschenk einloesen, gift code, redeem a gift, claim a gift, "
        "gutschein geschenkt, geschenkt bekommen",
        2: "geschenk, gift, einloesen, redeem",
    }),
    Topic("wallet", N_("Wallet"), "wallet.show", {
        3.5: "wallet, brieftasche, geldboerse, guthaben, restguthaben, kontostand, balance, "
        "meine gutscheine, meine gutschein, mein gutschein, my vouchers, my voucher, "
        "my wallet, how much is left, wie viel ist noch drauf, was ist noch drauf, "
        "ist auf meinem, on my voucher, zeig meine gutscheine, show me my vouchers, "
        "gekauften gutscheine, purchased vouchers, bought vouchers, "
        "mein guthaben, restwert, saldo, my qr code, meine codes, my codes, meine qr codes, "
        "qr code",
        4: "noch drauf, ist noch drauf, drauf, left on my",
        3: "gutschein einloesen, voucher einloesen, redeem voucher, redeem a voucher",
        2: "passes, ausweis",
    }),
    Topic("vouchers", N_("Buy a city voucher"), "voucher.buy", {
        3.5: "gutschein, gutscheine, stadtgutschein, geschenkgutschein, gutscheinkarte, "
        "voucher, vouchers, city voucher, gift card, gift voucher, winteraktion, "
        "gutschein kaufen, buy a voucher, "
        "einkaufsgutschein, ahaus gutschein, gutscheinkauf, gift certificate, present voucher",
        1: "kaufen, buy, verschenken",
    }, {"cost": "voucher.buy", "how": "voucher.buy"}),
    Topic("redeem", N_("Redeem a voucher"), "merchant.redeem", {
        4: "gutschein einloesen, voucher einloesen, redeem voucher, redeem a voucher",
        3: "einloesen, redeem, kasse, abkassieren, scan voucher, gutschein scannen",
    }),
    Topic("turnover", N_("Today's turnover"), "merchant.turnover", {
        3.5: "umsatz, tagesumsatz, turnover, todays sales, abrechnung",
    }),
    Topic("events", N_("Events"), "events.list", {
        3: "going on, whats going on, los in",
        3.5: "veranstaltung, veranstaltungen, veranstaltungskalender, event, events, konzert, "
        "konzerte, termine in ahaus, was ist los, was ist heute los, whats on, what is on, "
        "concert, festival, eintrittskarte, theater, lesung, "
        "was kann man heute, what can i do today, unternehmen",
        2: "ticket, tickets, karten, fest, feier, markt, party, show, kino, ausflug, wochenende, "
        "laeuft, happening, coming up, samstag, sonntag, freitag, saturday, sunday, friday, "
        "tonight, heute abend, tipps, naechste woche, next week, diese woche, this week, "
        "veranstaltungshinweise, programm, freizeit, ausgehen, was geht, whats happening, "
        "activities, things to do, fuehrung, tour, ausstellung, exhibition",
        1.5: "los",
    }),
    # named occasions: also looked for in the titles of the upcoming events (flows/understand.py)
    Topic("occasions", N_("Events"), "events.list", {
        3.5: "weihnachtsmarkt, kirmes, stadtfest, schuetzenfest, karneval, christmas market, "
        "flohmarkt, kulturnacht",
    }),
    Topic("alerts", N_("Deal alerts"), "auction.alerts", {
        3.5: "schnaeppchen, schnaeppchenalarm, suchauftrag, deal alert, deal alerts, "
        "benachrichtigen wenn, notify me when, search alert",
    }),
    Topic("auction", N_("Lost and found auction"), "auction.home", {
        3: "for sale, zu verkaufen",
        3.5: "auktion, auction, versteigerung, versteigern, ersteigern, fundsachen, "
        "fundsachenauktion, lost and found, fundstuecke",
        2: "gebraucht, guenstig, bieten, gebot, wunschpreis, bid, second hand, cheap, bargain, "
        "versteigert, ersteigert, preis sinkt, falling price, dutch auction",
    }, {"how": "info.auction", "cost": "info.auction", "hours": "info.auction",
        "contact": "info.auction", "bring": "info.auction"}),
    # ------------------------------------------------ defects
    Topic("mydefects", N_("My reports"), "defect.mine", {
        3.5: "meine meldungen, meine meldung, my reports, my report",
    }),
    Topic("defects", N_("Report a defect"), "defect.start", {
        3: "drain, blocked",
        3.5: "kaputt, defekt, laterne, strassenlaterne, strassenlampe, beleuchtung, schlagloch, "
        "wilder muell, muell, sperrmuell, abfall, verkehrsschild, schild, gehweg kaputt, "
        "graffiti, ampel, mangel, maengel, maengelmelder, schaden, beschaedigt, "
        "broken, defect, streetlight, street light, streetlamp, street lamp, pothole, litter, "
        "rubbish, garbage, dumping, fly tipping, traffic sign, damaged, not working, "
        "funktioniert nicht, geht nicht, dunkel, light is out, cracked, aufgebrochen, "
        "ausgefallen, umgestuerzt, umgestuerzter, fell, fallen, verdreht, kaputte, "
        "gullydeckel, kanaldeckel, manhole, muelleimer, quillt ueber, ueberfuellt, overflowing, "
        "flackert, flickering, flickers, "
        "loch in der strasse, schaden an, kaputter, defekte, verstopft, ueberschwemmt, "
        "wasser steht, blocked drain, fallen tree, gefahrenstelle, hazard, verschmutzt, dirty, "
        "illegal dumping, vandalismus, vandalism, beschmiert, gully, abfluss",
        2: "lampe, licht, loch, baum, spielplatz, bank, lamp, light, hole, tree",
        1.5: "strasse, street, weg",  # a street alone is an address, not yet a report
    }),
    # ------------------------------------------------ people, data, settings
    Topic("helper", N_("Talk to a person"), "helper.start", {
        3.5: "echter mensch, lotse, digitallotse, digitallotsen, mitarbeiter, "
        "sachbearbeiter, persoenlich sprechen, mit jemandem sprechen, rueckruf, "
        "human, real person, talk to a person, talk to someone, speak to someone, agent, "
        "call me back, staff member, speak with, speak to, ansprechpartner, call someone, "
        "zurueckrufen, anrufen lassen, employee, mitarbeiter der stadt, city employee, "
        "help from a, hilfe von einem, can a human, "
        "mitarbeiterin, sachbearbeiterin, beraterin, persoenlicher kontakt, live chat, operator, "
        "customer service, kundenservice, hotline",
        2.5: "mensch",
        2: "support, beratung, berater, hilfe von, person, someone, jemand, jemanden",
    }),
    Topic("english", "English", "language.set:en", {
        3.5: "english, englisch, in english, auf englisch, speak english, do you speak english",
    }),
    Topic("german", "Deutsch", "language.set:de", {
        3.5: "deutsch, german, auf deutsch, in german, sprechen sie deutsch",
    }),
    Topic("language", N_("Language / Sprache"), "language.choose", {
        3.5: "sprache, sprache aendern, language, change language, andere sprache",
    }),
    Topic("delete", N_("Delete my data"), "deleteme.ask", {
        4: "daten loeschen, konto loeschen, account loeschen, alles loeschen, "
        "meine daten loeschen, delete my data, delete account, delete my account, delete me, "
        "delete everything, "
        "vergessen werden, forget me, remove my data, erase my data, close my account, "
        "konto kuendigen, erase everything, remove my account, benutzerkonto loeschen",
        3.5: "loeschen, delete, erase, abmelden von stadtlotse",
    }),
    Topic("mydata", N_("My data"), "mydata.export", {
        3: "meine daten, my data, datenauskunft, auskunft, export, datenschutz, dsgvo, gdpr, "
        "was wissen sie ueber mich, what do you know about me, gespeicherte daten, stored data, "
        "datenkopie, data export, download my data, meine gespeicherten daten",
        2: "daten, data, speichert, speichern, about me, ueber mich",
    }),
    Topic("link", N_("Link accounts"), "link.start", {
        3.5: "verknuepfen, konten verbinden, konto verbinden, link, link account, "
        "link accounts, zusammenfuehren, anderes geraet, anderen geraet, gleiche konto, "
        "gleiches konto, other device, same account, "
        "synchronisieren, mit telegram verbinden, connect telegram, connect matrix, "
        "merge accounts",
    }),
    Topic("profile", N_("My profile"), "profile.show", {
        3.5: "profil, profile, meine adresse, adresse aendern, name aendern, namen aendern, "
        "telefonnummer aendern, my address, change my address, my name, e mail aendern, "
        "change my email, "
        "persoenliche daten, kontaktdaten, handynummer, contact details, personal details",
    }),
    Topic("news", N_("News and offers"), "news.show", {
        3.5: "newsletter, neuigkeiten, angebote, news, offers, aktionen, "
        "aktuelles, newsletter abbestellen",
    }),
    Topic("notifications", N_("Notifications"), "notify.choose", {
        3.5: "benachrichtigungen, benachrichtigung, notifications, notification, nachrichten, "
        "keine nachrichten mehr, stumm, mute, stop messages, weniger nachrichten",
    }),
    Topic("offices", N_("Opening hours and contacts"), "info.office:buergerbuero", {
        3.5: "buergerbuero, buergeramt, rathaus, stadtverwaltung, stadthaus, verwaltung, "
        "town hall, city hall, citizens office, council office, "
        "stadt ahaus, buergerservice, service center, behoerde",
    }, {"hours": "info.office:buergerbuero", "contact": "info.office:buergerbuero"}),
    Topic("taxoffice", N_("Tax office"), "info.office:steuern", {
        3.5: "steueramt, kaemmerei, steuerbuero, tax office",
    }),
    Topic("orderoffice", N_("Public order office"), "info.office:ordnung", {
        3.5: "ordnungsamt, public order office, gewerbeamt",
    }),
    Topic("youthoffice", N_("Youth and family services"), "info.office:kita", {
        3.5: "jugendamt, familienbuero, youth office",
    }),
    Topic("help", N_("Help"), "help.show", {
        3: "hilfe, help, was kannst du, was kannst du alles, was kann ich hier, befehle, "
        "commands, what can you do, what can i do, anleitung, how does this work, "
        "wie geht das, instructions, how does this bot work, i dont understand, "
        "ich verstehe nicht",
    }),
    Topic("menu", N_("Main menu"), "menu.main", {
        3: "menu, menue, hauptmenue, start, zurueck, back, home, uebersicht, overview",
    }),
    # ------------------------------------------------ small talk
    Topic("thanks", N_("Thanks"), "talk.thanks", {
        3: "danke, danke schoen, dankeschoen, vielen dank, besten dank, merci, super danke, "
        "thanks, thank you, thx, ty, cheers, much appreciated, great thanks, "
        "dank dir, danke dir, thanks a lot, many thanks, thank u, tnx, dankee",
    }, social=True),
    Topic("hello", N_("Hello"), "talk.hello", {
        3: "hallo, hello, hi, hey, moin, moin moin, servus, guten tag, guten morgen, "
        "guten abend, gruess gott, good morning, good afternoon, good evening, howdy, "
        "na, hallochen, huhu, "
        "hiya, good day, tach, gudn tach, moinsen",
    }, social=True),
    Topic("bye", N_("Goodbye"), "talk.bye", {
        3: "tschuess, tschau, ciao, bye, goodbye, good bye, auf wiedersehen, bis bald, "
        "bis dann, goodbye and thanks, see you, schoenen tag noch, have a nice day, "
        "gute nacht, good night, "
        "bis spaeter, talk to you later, bye bye, later, "
        "cya, see ya, tschoe, adieu, bis morgen, ade, machs gut, take care",
    }, social=True),
]
