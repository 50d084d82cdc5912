"""Outbound delivery: notification rows rendered and sent through the channels within their
rate limits (outbox: the shared pieces and the one-pass drain; delivery: the long-running
sender of `stadtlotse run`)."""
