"""Teams' limits per bot and conversation, kept on our side: 7 messages per second, 8 per 2 s,
60 per 30 s and 1,800 per hour. Time is handed in, so nothing here sleeps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.teams.ratelimit import TEAMS_LIMITS, ConversationRateLimiter

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
CHANNEL = "19:general@thread.tacv2"
GROUP = "19:group@thread.v2"
ZERO = timedelta(0)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def send_all(limiter: ConversationRateLimiter, conversation: str, times: list[datetime]) -> None:
    """Send one message at each instant, each of which the limiter must allow."""
    for when in times:
        assert limiter.wait(conversation, when) == ZERO, when
        limiter.record(conversation, when)


def test_the_limits_are_teams_limits() -> None:
    limits = TEAMS_LIMITS
    assert limits == (
        (7, timedelta(seconds=1)),
        (8, timedelta(seconds=2)),
        (60, timedelta(seconds=30)),
        (1800, timedelta(hours=1)),
    )


def test_a_conversation_never_written_to_may_be_written_to_at_once() -> None:
    assert ConversationRateLimiter().wait(CHANNEL, T0) == ZERO


def test_seven_messages_go_in_one_second_and_the_eighth_waits_for_the_first_to_age_out() -> None:
    limiter = ConversationRateLimiter()
    send_all(limiter, CHANNEL, [at(i * 0.1) for i in range(7)])  # 0.0 s .. 0.6 s

    # The 8th, at 0.7 s, must wait until the 1st (sent at 0.0 s) is a second old.
    assert limiter.wait(CHANNEL, at(0.7)) == timedelta(milliseconds=300)
    assert limiter.wait(CHANNEL, at(0.999)) == timedelta(milliseconds=1)
    assert limiter.wait(CHANNEL, at(1.0)) == ZERO


def test_seven_messages_at_the_same_instant_block_the_eighth_for_a_whole_second() -> None:
    limiter = ConversationRateLimiter()
    send_all(limiter, CHANNEL, [T0] * 7)
    assert limiter.wait(CHANNEL, T0) == timedelta(seconds=1)
    assert limiter.wait(CHANNEL, at(0.5)) == timedelta(seconds=0.5)


def test_asking_does_not_use_up_the_allowance() -> None:
    limiter = ConversationRateLimiter()
    send_all(limiter, CHANNEL, [at(i * 0.1) for i in range(6)])
    for _ in range(10):
        assert limiter.wait(CHANNEL, at(0.6)) == ZERO
    limiter.record(CHANNEL, at(0.6))
    assert limiter.wait(CHANNEL, at(0.7)) > ZERO


def test_eight_messages_per_two_seconds() -> None:
    limiter = ConversationRateLimiter()
    send_all(limiter, CHANNEL, [T0] * 7)
    # A second later the 1 s window is empty again, and the 8th message of the 2 s window goes.
    send_all(limiter, CHANNEL, [at(1.0)])
    # The 9th must wait for the first seven to be two seconds old, although the 1 s window
    # holds a single message.
    assert limiter.wait(CHANNEL, at(1.5)) == timedelta(seconds=0.5)
    assert limiter.wait(CHANNEL, at(2.0)) == ZERO


def test_eight_messages_spread_over_two_seconds_block_the_ninth() -> None:
    limiter = ConversationRateLimiter()
    times = [at(i * 0.25) for i in range(8)]  # 0.00 s .. 1.75 s, never 7 within one second
    send_all(limiter, CHANNEL, times)
    # The window of 2 s holds eight: the next may go when the first (0.0 s) leaves it.
    assert limiter.wait(CHANNEL, at(1.8)) == timedelta(milliseconds=200)
    assert limiter.wait(CHANNEL, at(2.0)) == ZERO


def test_sixty_messages_per_thirty_seconds() -> None:
    limiter = ConversationRateLimiter()
    # One every 0.4 s: under the 1 s and 2 s limits, 60 of them within 23.6 s.
    times = [at(i * 0.4) for i in range(60)]
    send_all(limiter, CHANNEL, times)
    # The 61st waits until the first is 30 s old.
    assert limiter.wait(CHANNEL, at(24.0)) == timedelta(seconds=6)
    assert limiter.wait(CHANNEL, at(29.9)) == timedelta(milliseconds=100)
    assert limiter.wait(CHANNEL, at(30.0)) == ZERO


def test_eighteen_hundred_messages_per_hour() -> None:
    limiter = ConversationRateLimiter()
    # One every 2 s: under the shorter limits (15 per 30 s), 1,800 of them within 3,598 s.
    for i in range(1800):
        when = at(i * 2)
        if i % 100 == 0:  # asking each time costs a full scan of the window; sample it
            assert limiter.wait(CHANNEL, when) == ZERO
        limiter.record(CHANNEL, when)
    assert limiter.wait(CHANNEL, at(3599)) == timedelta(seconds=1)
    assert limiter.wait(CHANNEL, at(3600)) == ZERO
    # Once the first message left the hour, the next 2 s slot opens as each old one ages out.
    limiter.record(CHANNEL, at(3600))
    assert limiter.wait(CHANNEL, at(3601)) == timedelta(seconds=1)


def test_the_longest_of_the_waits_wins() -> None:
    limiter = ConversationRateLimiter()
    times = [at(i * 0.4) for i in range(59)] + [at(23.9)]
    send_all(limiter, CHANNEL, times)
    # At 23.95 s the 30 s window (free at 30 s) binds far longer than any short window.
    assert limiter.wait(CHANNEL, at(23.95)) == timedelta(seconds=6.05)


def test_conversations_are_limited_independently() -> None:
    limiter = ConversationRateLimiter()
    send_all(limiter, CHANNEL, [T0] * 7)
    assert limiter.wait(CHANNEL, T0) > ZERO
    # The group chat has its own allowance.
    send_all(limiter, GROUP, [T0] * 7)
    assert limiter.wait(GROUP, T0) == timedelta(seconds=1)
    assert limiter.wait("a:personal-29:alice", T0) == ZERO


def test_custom_limits() -> None:
    limiter = ConversationRateLimiter([(2, timedelta(seconds=10))])
    send_all(limiter, CHANNEL, [T0, at(1)])
    assert limiter.wait(CHANNEL, at(5)) == timedelta(seconds=5)
    assert limiter.wait(CHANNEL, at(10)) == ZERO


def test_forget_idle_drops_conversations_quiet_for_an_hour_and_keeps_the_others() -> None:
    limiter = ConversationRateLimiter()
    limiter.record(CHANNEL, T0)
    send_all(limiter, GROUP, [at(1800)] * 7)

    limiter.forget_idle(at(3599))
    assert set(limiter._sent) == {CHANNEL, GROUP}  # the hour of the channel is not over yet

    limiter.forget_idle(at(3600))
    # The channel's history is gone (memory stays bounded by the busy conversations)...
    assert set(limiter._sent) == {GROUP}
    assert limiter.wait(CHANNEL, at(3600)) == ZERO
    # ...and the group chat's limits still hold.
    assert limiter.wait(GROUP, at(1800.5)) == timedelta(seconds=0.5)


def test_forgetting_does_not_reopen_a_window_too_early() -> None:
    limiter = ConversationRateLimiter()
    send_all(limiter, CHANNEL, [T0] * 7)
    limiter.forget_idle(at(0.5))
    assert limiter.wait(CHANNEL, at(0.5)) == timedelta(seconds=0.5)
