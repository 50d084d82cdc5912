"""Applications and cases: submission, what staff and residents do to a case, the form rules,
receipts, the monthly transit pass of an approved Sozialticket, and the human helper."""
