"""The per-user query limit: a token bucket per user, with an injected clock."""

from __future__ import annotations

from dataclasses import dataclass

from bot.throttle import NoticeWindow, QueryLimiter, Verdict, judge


@dataclass
class Clock:
    """A clock the test moves by hand."""

    now: float = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_user_gets_the_burst_then_is_slowed_down() -> None:
    limiter = QueryLimiter(per_minute=6, burst=3, clock=Clock())
    assert [limiter.allow(1) for _ in range(4)] == [True, True, True, False]


def test_tokens_come_back_with_time() -> None:
    clock = Clock()
    limiter = QueryLimiter(per_minute=6, burst=3, clock=clock)
    for _ in range(3):
        limiter.allow(1)
    clock.now += 9  # 6 a minute: one token every 10 s
    assert not limiter.allow(1)
    clock.now += 1
    assert limiter.allow(1)


def test_one_flooding_user_does_not_slow_down_another() -> None:
    limiter = QueryLimiter(per_minute=20, burst=20, clock=Clock())
    flood = [limiter.allow(1) for _ in range(100)]
    assert flood.count(True) == 20
    assert limiter.allow(2)


def test_a_hundred_messages_a_minute_are_mostly_refused() -> None:
    clock = Clock()
    limiter = QueryLimiter(per_minute=20, burst=20, clock=clock)
    allowed = 0
    for _ in range(100):
        allowed += limiter.allow(7)
        clock.now += 0.6
    assert 20 <= allowed <= 41  # the burst plus ~20 refilled over the minute


def test_idle_users_are_forgotten_when_there_are_many() -> None:
    clock = Clock()
    limiter = QueryLimiter(per_minute=60, burst=5, clock=clock, max_users=10)
    for user in range(10):
        limiter.allow(user)
    clock.now += 60
    limiter.allow(99)
    assert set(limiter.buckets) == {99}


def test_past_the_limit_a_user_is_told_once_per_window_then_ignored() -> None:
    clock = Clock()
    limiter = QueryLimiter(per_minute=6, burst=2, clock=clock)
    notices = NoticeWindow(window_s=60)
    verdicts = [judge(limiter, notices, 1) for _ in range(5)]
    assert verdicts == [Verdict.ANSWER] * 2 + [Verdict.NOTICE] + [Verdict.IGNORE] * 2
    clock.now += 10  # one token back, still inside the window
    assert [judge(limiter, notices, 1) for _ in range(2)] == [Verdict.ANSWER, Verdict.IGNORE]
    clock.now += 50  # the window has passed
    assert judge(limiter, notices, 1) is Verdict.ANSWER
    assert [judge(limiter, notices, 1) for _ in range(5)].count(Verdict.NOTICE) == 1


def test_old_notices_are_forgotten_when_there_are_many() -> None:
    notices = NoticeWindow(window_s=60, max_users=3)
    for user in range(3):
        assert notices.claim(user, now=0.0)
    assert notices.claim(99, now=61.0)
    assert set(notices.last) == {99}
