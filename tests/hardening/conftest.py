"""The Stripe fixtures of the wallet tests (a fake Stripe API, the app wired to it, a client of
its web app), shared here."""

from tests.wallet.test_stripe import app, fake_stripe, web  # noqa: F401
