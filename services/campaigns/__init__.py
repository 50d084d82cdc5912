"""Voucher campaigns for residents who opted in: consent (news), sending, claiming."""
