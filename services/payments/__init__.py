"""Payments for every purpose: start, settle, expire and refund through a provider."""
