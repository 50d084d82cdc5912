"""One resident across channels: accounts and roles, link codes, profile checks, and what is
held about a resident (export, erase, merge)."""
