"""The Matrix channel: matrix-nio with end-to-end encryption (see bot/matrix/channel.py)."""
