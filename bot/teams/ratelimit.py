"""Teams' limits per bot and conversation, kept on our side so we rarely meet a 429."""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from datetime import datetime, timedelta

# (messages, window): 7 per second, 8 per 2 s, 60 per 30 s, 1800 per hour.
TEAMS_LIMITS: tuple[tuple[int, timedelta], ...] = (
    (7, timedelta(seconds=1)),
    (8, timedelta(seconds=2)),
    (60, timedelta(seconds=30)),
    (1800, timedelta(hours=1)),
)


class ConversationRateLimiter:
    """Sliding windows per conversation. `wait(conversation, now)` says how long until a
    message may go; `record` notes one that went."""

    def __init__(self, limits: Sequence[tuple[int, timedelta]] = TEAMS_LIMITS) -> None:
        self.limits = tuple(limits)
        self.horizon = max(window for _, window in self.limits)
        self._sent: dict[str, deque[datetime]] = {}

    def wait(self, conversation: str, now: datetime) -> timedelta:
        sent = self._sent.get(conversation)
        if not sent:
            return timedelta(0)
        while sent and now - sent[0] >= self.horizon:
            sent.popleft()
        longest = timedelta(0)
        for count, window in self.limits:
            in_window = [t for t in sent if now - t < window]
            if len(in_window) >= count:
                # The oldest message inside the window must leave it first.
                free_at = in_window[len(in_window) - count] + window
                longest = max(longest, free_at - now)
        return longest

    def record(self, conversation: str, now: datetime) -> None:
        self._sent.setdefault(conversation, deque()).append(now)

    def forget_idle(self, now: datetime) -> None:
        for key in [k for k, v in self._sent.items() if not v or now - v[-1] >= self.horizon]:
            del self._sent[key]
