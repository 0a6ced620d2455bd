"""A fake Bot Connector for the benchmark that enforces Teams' per-conversation limits:
a message over 7/1 s, 8/2 s, 60/30 s or 1800/h is answered 429 with Retry-After, as Teams does."""

from __future__ import annotations

import time
from collections import Counter, defaultdict, deque

from aiohttp import web

LIMITS = ((7, 1.0), (8, 2.0), (60, 30.0), (1800, 3600.0))


class LimitingConnector:
    def __init__(self, *, limits: bool = True) -> None:
        self.limits = limits
        self.sent: dict[str, deque[float]] = defaultdict(deque)
        self.received: Counter[tuple[str, str]] = Counter()
        self.proactive = 0
        self.replies = 0
        self.throttled = 0
        self.first_at: float | None = None
        self.last_at: float | None = None

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v3/conversations/{cid}/activities", self._post)
        app.router.add_post("/v3/conversations/{cid}/activities/{aid}", self._post)
        return app

    def _retry_after(self, conversation: str, now: float) -> float:
        sent = self.sent[conversation]
        while sent and now - sent[0] >= 3600.0:
            sent.popleft()
        wait = 0.0
        for count, window in LIMITS:
            inside = [t for t in sent if now - t < window]
            if len(inside) >= count:
                wait = max(wait, inside[len(inside) - count] + window - now)
        return wait

    async def _post(self, request: web.Request) -> web.Response:
        conversation = request.match_info["cid"].split(";messageid=")[0]
        now = time.monotonic()
        wait = self._retry_after(conversation, now) if self.limits else 0.0
        if wait > 0:
            self.throttled += 1
            return web.json_response(
                {"error": {"code": "TooManyRequests"}},
                status=429,
                headers={"Retry-After": str(max(1, round(wait)))},
            )
        if self.limits:
            self.sent[conversation].append(now)
        body = await request.json()
        if "aid" in request.match_info:
            self.replies += 1
        else:
            self.proactive += 1
            text = str(body.get("attachments", [{}])[0].get("content", {}).get("body", ""))
            self.received[(conversation, text)] += 1
            self.first_at = self.first_at or now
            self.last_at = now
        return web.json_response({"id": f"m{self.replies + self.proactive}"})

    @property
    def duplicates(self) -> int:
        return sum(count - 1 for count in self.received.values() if count > 1)
