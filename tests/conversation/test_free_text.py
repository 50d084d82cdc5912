"""Free text finds its place (issue 12, "Free text goes the wrong way"): each example as a
transcript through the console engine, in German and English."""

from __future__ import annotations

from tests.auction.support import list_item, person
from tests.cases.conftest import make_person, submit_case
from tests.events.conftest import make_event, make_organiser
from tests.support.chat import Transcript


async def test_a_lost_dog_is_the_lost_property_office_not_dog_tax(chat: Transcript) -> None:
    await make_person(chat, "anna", "Anna", "Schulte")
    answer = await chat.send("anna", "Ich habe meinen Hund verloren")
    assert "Fundbüro" in answer and "fundbuero@ahaus.de" in answer
    assert "Öffnungszeiten: Mo–Fr 8:00–12:30 Uhr" in answer
    assert "Hundesteuer" not in answer and "Wie heißt" not in answer
    answer = await chat.send("ben", "I lost my dog")
    assert "Lost property office" in answer and "Opening hours: Mon–Fri" in answer
    assert "Dog tax" not in answer


async def test_a_lost_bike_searches_the_auction(chat: Transcript) -> None:
    now = chat.clock.now()
    staff = await person(chat.db, "frank", now, "staff", "fundbuero")
    await list_item(chat.db, chat.city, staff, now)  # a blue Gazelle ladies' bike
    await make_person(chat, "anna", "Anna", "Schulte")
    answer = await chat.send("anna", "Ich habe mein Fahrrad verloren")
    assert "Fundbüro" in answer
    assert "Damenfahrrad Gazelle, blau" in answer  # an item on offer, as a button
    assert "Nichts Passendes" not in answer


async def test_dog_tax_price_is_told_before_any_form(chat: Transcript) -> None:
    await make_person(chat, "anna", "Anna", "Schulte")
    answer = await chat.send("anna", "wie viel kostet die Hundesteuer?")
    assert "54,00\xa0€" in answer and "72,00\xa0€" in answer and "84,00\xa0€" in answer
    assert "600,00\xa0€" in answer  # listed dogs
    assert "Antrag starten" in answer  # the offer
    assert "Wie heißt" not in answer  # no form started
    started = await chat.press("anna", "Antrag starten")
    assert "Hundesteuer" in started


async def test_where_is_my_application_lists_the_cases(chat: Transcript) -> None:
    anna = await make_person(chat, "anna", "Anna", "Schulte")
    ref = await submit_case(chat, anna)
    answer = await chat.send("anna", "Wo ist mein Antrag?")
    assert "Ihre Anträge" in answer and ref in answer


async def test_a_reference_typed_alone_opens_that_case_only_for_its_owner(
    chat: Transcript,
) -> None:
    anna = await make_person(chat, "anna", "Anna", "Schulte")
    await make_person(chat, "ben", "Ben", "Terhaar")
    ref = await submit_case(chat, anna)
    answer = await chat.send("anna", ref)
    assert ref in answer and "Status:" in answer and "Verlauf" in answer
    answer = await chat.send("ben", ref)
    assert f"Sie haben keinen Antrag mit dem Aktenzeichen {ref}" in answer
    assert "Bello" not in answer


async def test_moving_is_the_buergerbuero_not_a_special_use_permit(chat: Transcript) -> None:
    await make_person(chat, "anna", "Anna", "Schulte")
    answer = await chat.send("anna", "Umzug anmelden")
    assert "Bürgerbüro" in answer and "14 Tagen" in answer
    assert "Wohnungsgeberbestätigung" in answer
    assert "Sondernutzung" not in answer


async def test_bus_ticket_tells_about_the_sozialticket_before_applying(chat: Transcript) -> None:
    await make_person(chat, "anna", "Anna", "Schulte")
    await chat.send("anna", "/language en")
    answer = await chat.send("anna", "bus ticket")
    assert "Sozialticket" in answer and "€39.00" in answer
    assert "Start the application" in answer
    assert "Do you receive" not in answer  # the form's first question is not asked


async def test_christmas_market_opens_the_event(chat: Transcript) -> None:
    olaf = await make_organiser(chat)
    now = chat.clock.now()
    await make_event(chat.db, olaf, now, title="Weihnachtsmarkt-Konzert im Schlosspark")
    await make_event(chat.db, olaf, now, title="Kinder-Theater")
    answer = await chat.send("anna", "Weihnachtsmarkt")
    assert "Weihnachtsmarkt-Konzert im Schlosspark" in answer
    assert "Ort:" in answer and "Kinder-Theater" not in answer


async def test_small_talk_typos_data_and_street_lights(chat: Transcript) -> None:
    await make_person(chat, "anna", "Anna", "Schulte")
    assert "Gern geschehen" in await chat.send("anna", "danke")
    assert "Gutschein" in await chat.send("anna", "gutshein")
    answer = await chat.send("anna", "Öffnungszeiten")
    assert "Bürgerbüro" in answer and "Mo–Fr 8:00–12:30 Uhr" in answer
    answer = await chat.send("anna", "Laterne kaputt")
    assert "Straßenbeleuchtung" in answer or "Wo ist" in answer
    await chat.send("anna", "/cancel")
    await chat.send("ben", "/language en")
    answer = await chat.send("ben", "thanks")
    assert "welcome" in answer
    answer = await chat.send("ben", "vouchre")
    assert "voucher" in answer.lower()
    answer = await chat.send("ben", "delete my data")
    assert "delete" in answer.lower()
    assert "[1]" in answer  # a confirmation to choose, nothing deleted yet
    answer = await chat.send("ben", "/mydata")
    assert "export" in answer.lower() or "data" in answer.lower()


async def test_not_understood_offers_three_suggestions_and_a_person(chat: Transcript) -> None:
    await make_person(chat, "anna", "Anna", "Schulte")
    answer = await chat.send("anna", "Quittengelee mit Sahne")
    assert "nicht verstanden" in answer
    assert "Mit einem Menschen sprechen" in answer
    assert answer.count("[") >= 4


async def test_english_is_learnt_from_what_someone_writes(chat: Transcript) -> None:
    answer = await chat.send("ben", "Hello, how much is the dog tax?")
    assert "Dog tax in Ahaus per dog and year" in answer and "€54.00" in answer
    # remembered: the next answers are English too, even to a German word
    assert "Your wallet is empty" in await chat.send("ben", "Brieftasche")
    # clearly German again: back to German
    answer = await chat.send("ben", "Ich möchte bitte meine Gutscheine sehen")
    assert "Ihre Wallet" in answer


async def test_a_chosen_language_always_wins(chat: Transcript) -> None:
    await chat.send("cem", "/language de")
    answer = await chat.send("cem", "I lost my dog, can you help me please?")
    assert "Fundbüro" in answer and "Öffnungszeiten" in answer
    await chat.send("dora", "/language en")
    answer = await chat.send("dora", "Ich habe meinen Hund verloren, können Sie mir helfen?")
    assert "Lost property office" in answer


async def test_a_channel_hint_is_not_overruled(chat: Transcript) -> None:
    from flows.types import Inbound

    answer = await chat.handle(
        Inbound(
            channel="console",
            user_id="emil",
            chat_id="emil",
            kind="text",
            text="I lost my dog",
            language_hint="de",
            key="hint-1",
        )
    )
    assert "Fundbüro" in answer


async def test_a_voucher_code_typed_alone_fits_the_persons_role(chat: Transcript) -> None:
    from services import codes
    from services.wallet import vouchers

    anna = await make_person(chat, "anna", "Anna", "Schulte")
    await make_person(chat, "carla", "Carla", "Ebbing", role="merchant", scope="cafe-am-schloss")
    await make_person(chat, "ben", "Ben", "Terhaar")
    async with chat.db.uow() as uow:
        voucher = await vouchers.issue(uow, chat.city, anna, 2500, now=chat.clock.now())
        code = voucher.code
        await uow.commit()
    shown = codes.display(code)
    answer = await chat.send("anna", shown)  # the holder: her own voucher
    assert "25,00\xa0€" in answer and "Bitte geben Sie den Betrag" not in answer
    answer = await chat.send("carla", shown)  # the merchant: the redemption asks the amount
    assert "Café am Schloss" in answer or "Betrag" in answer
    answer = await chat.send("ben", shown.lower())  # someone else: nothing of another's voucher
    assert "Nur Akzeptanzstellen" in answer or "nur Akzeptanzstellen" in answer
    typo = code[:-1] + ("0" if code[-1] != "0" else "1")
    assert "Tippfehler" in await chat.send("anna", codes.display(typo))


async def test_staff_in_their_room_look_a_reference_up(chat: Transcript) -> None:
    anna = await make_person(chat, "anna", "Anna", "Schulte")
    await make_person(chat, "stefan", "Stefan", "Kock", role="staff", scope="steuern")
    ref = await submit_case(chat, anna)
    answer = await chat.send("stefan", ref, room="steuern")
    assert ref in answer and "Bello" in answer


async def test_role_words_lead_residents_somewhere_they_may_go(chat: Transcript) -> None:
    await make_person(chat, "anna", "Anna", "Schulte")
    answer = await chat.send("anna", "Gutschein einlösen")
    assert "nur autorisierte" not in answer.casefold()
    assert "Wallet" in answer or "Gutschein" in answer


async def test_english_street_light_and_opening_hours(chat: Transcript) -> None:
    await chat.send("ben", "/language en")
    answer = await chat.send("ben", "The street light in front of my house is broken")
    assert "Street lighting" in answer or "Where is" in answer
    await chat.send("ben", "/cancel")
    answer = await chat.send("ben", "When is the town hall open?")
    assert "Opening hours: Mon–Fri 8:00–12:30, Thu also 14:00–18:00" in answer
    assert "Tel. 02561 72-0" in answer


def test_codes_with_every_check_character_are_codes() -> None:
    from flows.intent import classify
    from services import codes

    for check in codes.LEGACY_CHECK_ALPHABET:  # codes issued before: one check character
        body = "7K3Q9ZXWR2MT"
        text = codes.display(body + check)
        assert classify(text).action == "code.check", text
    for _ in range(50):  # new codes: two check symbols, all from the alphabet
        code = codes.new_code(12)
        alone = [code] if any(ch.isdigit() for ch in code) else []  # one piece: with a digit
        for text in [codes.display(code), codes.display(code).lower(), *alone]:
            assert classify(text).action == "code.check", text


async def test_a_question_in_the_middle_of_a_form_is_answered_and_the_form_goes_on(
    chat: Transcript,
) -> None:
    """Not an answer to the form's question but a question of its own: answered (for this
    form), the question asked again; the draft keeps what was given; a wrong answer that is
    no question is still told as wrong."""
    await make_person(chat, "anna", "Anna", "Schulte")
    started = await chat.send("anna", "Ich will meinen Hund anmelden")
    assert "Hundesteuer-Anmeldung (1/12)" in started
    assert "(2/12)" in await chat.send("anna", "Anna Schulte")
    answer = await chat.send("anna", "wie viel kostet das?")
    assert "54,00\xa0€" in answer and "Sondernutzung" not in answer  # this form's fee only
    assert "Antrag starten" not in answer  # no offer to start what is going on
    assert "Hundesteuer-Anmeldung (2/12)" in answer and "Bitte geben Sie" not in answer
    answer = await chat.send("anna", "was brauche ich dafür?")
    assert "Chipnummer" in answer and "Handelsregister" not in answer
    assert "(2/12)" in answer
    answer = await chat.send("anna", "hilfe")
    assert "Sie füllen gerade „Hundesteuer-Anmeldung“ aus" in answer and "(2/12)" in answer
    answer = await chat.send("anna", "wann hat das Steueramt offen?")
    assert "Öffnungszeiten" in answer and "(2/12)" in answer
    wrong = await chat.send("anna", "blau")
    assert "Bitte geben Sie Straße, Hausnummer und Ort ein" in wrong and "(2/12)" in wrong
    assert "(3/12)" in await chat.send("anna", "Marktstraße 7, 48683 Ahaus")
    answer = await chat.send("anna", "what does it cost?")
    assert "54,00\xa0€" in answer and "(3/12)" in answer
