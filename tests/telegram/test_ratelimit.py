"""Token buckets with a hand-moved clock: no sleeping."""

from __future__ import annotations

from bot.sender.ratelimit import Limits, RateLimiter
from tests.support.fake_telegram import ManualClock


def test_global_rate_with_small_burst() -> None:
    clock = ManualClock()
    limiter = RateLimiter(Limits(global_per_second=30, private_per_second=None), clock)
    for sent in range(300):  # ten simulated seconds of eager sending
        wait = limiter.global_wait()
        if wait > 0:
            clock.advance(wait)
        limiter.take(f"{sent}", group=False)
    assert 9.8 <= clock.now - 1000 <= 10.0  # 30 per second, never faster


def test_private_chat_one_per_second_and_groups_twenty_per_minute() -> None:
    clock = ManualClock()
    limiter = RateLimiter(Limits(global_per_second=1000), clock)
    limiter.take("42", group=False)
    assert limiter.chat_wait("42", group=False) == 1.0
    assert limiter.chat_wait("43", group=False) == 0.0  # other chats are not affected
    clock.advance(1.0)
    assert limiter.wait("42", group=False) == 0.0
    for _ in range(3):  # a group's burst of 3
        assert limiter.chat_wait("-100", group=True) == 0.0
        limiter.take("-100", group=True)
    assert limiter.chat_wait("-100", group=True) == 3.0  # 20 per minute = one per 3 s


def test_direct_answers_go_into_debt_and_delay_notifications() -> None:
    clock = ManualClock()
    limiter = RateLimiter(Limits(), clock)
    for _ in range(3):  # three answers at once: not held back
        limiter.take("42", group=False)
    assert limiter.chat_wait("42", group=False) == 3.0


def test_pause_after_429_holds_everything() -> None:
    clock = ManualClock()
    limiter = RateLimiter(Limits(), clock)
    limiter.pause(5)
    assert limiter.wait("1", group=False) == 5.0
    clock.advance(5)
    assert limiter.wait("1", group=False) == 0.0
    limiter.pause(2, chat_id="1")
    assert limiter.wait("1", group=False) == 2.0 and limiter.wait("2", group=False) == 0.0


def test_unlimited_and_forgetting_idle_chats() -> None:
    clock = ManualClock()
    limiter = RateLimiter(Limits.unlimited(), clock)
    for _ in range(1000):
        limiter.take("1", group=False)
    assert limiter.wait("1", group=False) == 0.0
    limited = RateLimiter(Limits(), clock)
    for chat in range(100):
        limited.take(str(chat), group=False)
    clock.advance(10)
    limited.forget_idle()
    assert limited._chats == {}
