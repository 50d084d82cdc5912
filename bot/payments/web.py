"""Web routes of the payments: the demo checkout page, Stripe's success and cancel pages, and
the Stripe webhook."""

from __future__ import annotations

import hmac
import html
import logging
from typing import TYPE_CHECKING

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response

from bot.payments import demo, stripe_webhook
from bot.payments.stripe_provider import StripeProvider
from services import i18n
from services.errors import DomainError
from services.i18n import N_
from services.money import format_money
from services.numbers import parse_id
from services.payments import lifecycle as payments
from services.payments import provider as provider_ids
from services.payments import provider_calls
from services.payments.provider import ProviderUnavailable
from storage.models.identity import Citizen
from storage.models.payments import CANCELLED, CREATED, EXPIRED, FAILED, PAID, REFUNDED, Payment

if TYPE_CHECKING:
    from bot.bootstrap import App

log = logging.getLogger(__name__)

STATUS_TEXT = {
    PAID: N_("This payment is paid. You will find the confirmation in the chat."),
    CANCELLED: N_("This payment was cancelled. Nothing was charged."),
    EXPIRED: N_(
        "This payment link has expired. Nothing was charged. Please start again in the chat."
    ),
    FAILED: N_("This payment failed. Nothing was charged."),
    REFUNDED: N_("This payment was refunded."),
}


def page(title: str, lines: list[str], *, lang: str, body_extra: str = "") -> HTMLResponse:
    paragraphs = "\n".join(f"<p>{html.escape(line)}</p>" for line in lines)
    return HTMLResponse(
        f"""<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title>
<style>body{{font-family:sans-serif;max-width:32rem;margin:2rem auto;padding:0 1rem}}
.demo{{background:#fff3cd;border:1px solid #e0c36c;padding:.5rem}}
button{{font-size:1.1rem;padding:.6rem 1.2rem;margin:.3rem}}</style></head>
<body><h1>{html.escape(title)}</h1>
{paragraphs}
{body_extra}
</body></html>"""
    )


def router(app: App) -> APIRouter:
    routes = APIRouter()

    async def load(token: str) -> tuple[Payment, str] | None:
        parts = demo.split_token(token)
        if parts is None:
            return None
        async with app.db.uow() as uow:
            payment = await uow.session.get(Payment, parts[0])
            if payment is None or not demo.token_matches(payment, parts[1]):
                return None
            citizen = await uow.session.get(Citizen, payment.citizen_id)
            lang = citizen.language if citizen is not None else app.city.default_language
            if payment.status == CREATED and payment.expires_at <= app.clock.now():
                await payments.settle(uow, app.env, parts[0], EXPIRED, app.clock.now())
                await uow.session.refresh(payment)
            await uow.commit()  # also keeps the loaded payment readable after the session
            return payment, lang

    def not_found() -> HTMLResponse:
        lang = app.city.default_language
        response = page(
            i18n.translate(lang, "Payment"),
            [i18n.translate(lang, "This payment link is not valid.")],
            lang=lang,
        )
        response.status_code = 404
        return response

    def demo_page(payment: Payment, lang: str, notice: str = "") -> HTMLResponse:
        t = lambda msgid, **params: i18n.translate(lang, msgid, params)  # noqa: E731
        mark = t("DEMO – no money moves.")
        amount = t("Amount: {amount}", amount=format_money(payment.amount_cents, lang))
        purpose = t("For: {purpose}", purpose=i18n.content(lang, payment.description))
        lines = [f"{mark} {amount}", f"{mark} {purpose}"]
        if notice:
            lines.append(f"{mark} {notice}")
        extra = ""
        if payment.status == CREATED:
            explain = t("This is a demonstration checkout. No card, no bank.")
            pay, cancel = t("Pay (demo)"), t("Cancel (demo)")
            extra = (
                '<form method="post">'
                f'<p class="demo">{html.escape(mark)} {html.escape(explain)}</p>'
                f'<button name="action" value="pay">{html.escape(pay)}</button>'
                f'<button name="action" value="cancel">{html.escape(cancel)}</button>'
                "</form>"
            )
        else:
            status = t(STATUS_TEXT.get(payment.status, payment.status))
            lines.append(f"{mark} {status}")
        return page(t("Payment (demo)"), lines, lang=lang, body_extra=extra)

    @routes.get("/pay/demo/{token}", response_class=HTMLResponse)
    async def demo_checkout(token: str) -> HTMLResponse:
        found = await load(token)
        if found is None:
            return not_found()
        return demo_page(*found)

    @routes.post("/pay/demo/{token}", response_class=HTMLResponse)
    async def demo_decide(token: str, action: str = Form("")) -> HTMLResponse:
        found = await load(token)
        if found is None:
            return not_found()
        payment, lang = found
        if action not in ("pay", "cancel"):
            return demo_page(payment, lang)
        outcome = PAID if action == "pay" else CANCELLED
        notice = ""
        async with app.db.uow() as uow:
            current = await uow.session.get(Payment, payment.id)
            assert current is not None and current.id is not None
            if current.status == CREATED:
                changed = await payments.settle(uow, app.env, current.id, outcome, app.clock.now())
                if changed:
                    notice = (
                        i18n.translate(lang, "Paid. Thank you! You can go back to the chat now.")
                        if outcome == PAID
                        else i18n.translate(lang, "Cancelled. Nothing was charged.")
                    )
            elif current.status == PAID and action == "cancel":
                notice = i18n.translate(
                    lang, "This payment is already paid and cannot be cancelled here."
                )
            await uow.session.refresh(current)
            await uow.commit()
            payment = current
        return demo_page(payment, lang, notice)

    async def payer_language(payment_id: int | None) -> str:
        """The page in the payer's language (the page shows nothing else of theirs)."""
        if payment_id is None:
            return app.city.default_language
        async with app.db.uow() as uow:
            payment = await uow.session.get(Payment, payment_id)
            citizen = await uow.session.get(Citizen, payment.citizen_id) if payment else None
            return citizen.language if citizen is not None else app.city.default_language

    async def payment_of_session(session_id: str) -> int | None:
        async with app.db.uow() as uow:
            return await provider_ids.find_object(uow, "stripe", session_id[:255])

    @routes.get("/pay/stripe/success", response_class=HTMLResponse)
    async def stripe_success(session_id: str = "") -> HTMLResponse:
        lang = await payer_language(await payment_of_session(session_id))
        return page(
            i18n.translate(lang, "Thank you!"),
            [
                i18n.translate(
                    lang,
                    "Your payment is being confirmed. You will get a message in the chat "
                    "in a moment.",
                )
            ],
            lang=lang,
        )

    @routes.get("/pay/stripe/cancel", response_class=HTMLResponse)
    async def stripe_cancel(payment: str = "") -> HTMLResponse:
        lang = await payer_language(parse_id(payment))
        return page(
            i18n.translate(lang, "Payment cancelled"),
            [
                i18n.translate(
                    lang,
                    "Nothing was charged. You can start again in the chat whenever you like.",
                )
            ],
            lang=lang,
        )

    @routes.get("/pay/{token}", response_class=HTMLResponse, response_model=None)
    async def pay_link(token: str) -> Response:
        """The pay link the chat shows: the provider's checkout page is made now (outside any
        transaction) and the payer is sent there."""
        number, sep, secret = token.partition("-")
        payment_id = parse_id(number)
        if not sep or payment_id is None or not 10 <= len(secret) <= 64:
            return not_found()
        now = app.clock.now()
        async with app.db.uow() as uow:
            payment = await uow.session.get(Payment, payment_id)
            if payment is None or not hmac.compare_digest(payments.link_token(payment), secret):
                return not_found()
            citizen = await uow.session.get(Citizen, payment.citizen_id)
            lang = citizen.language if citizen is not None else app.city.default_language
            if payment.status == CREATED and payment.expires_at <= now:
                await payments.settle(uow, app.env, payment.id or 0, EXPIRED, now)
                await uow.session.refresh(payment)
            status = payment.status
            await uow.commit()
        if status != CREATED:
            return page(
                i18n.translate(lang, "Payment"),
                [i18n.translate(lang, STATUS_TEXT.get(status, status))],
                lang=lang,
            )
        try:
            checkout = await provider_calls.open_checkout(app.db.uow, app.env, payment_id, now)
        except DomainError as error:
            response = page(
                i18n.translate(lang, "Payment"),
                [i18n.translate(lang, error.message, error.params)],
                lang=lang,
            )
            response.status_code = 503 if isinstance(error, ProviderUnavailable) else 409
            return response
        return RedirectResponse(checkout.url, status_code=303)

    @routes.post("/webhooks/stripe")
    async def stripe_hook(request: Request) -> Response:
        provider = app.env.payments
        if not isinstance(provider, StripeProvider):
            return PlainTextResponse("stripe is not configured", status_code=404)
        answer = await stripe_webhook.handle(
            app.db,
            app.env,
            provider,
            await request.body(),
            request.headers.get("stripe-signature"),
        )
        return PlainTextResponse(answer.text, status_code=answer.status)

    return routes
