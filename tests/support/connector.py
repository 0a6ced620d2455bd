"""A fake Bot Connector: an aiohttp server on 127.0.0.1 that records what the bot posts."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer


@dataclass
class Posted:
    method: str
    conversation_id: str
    reply_to: str | None
    activity: dict[str, Any]
    authorization: str | None

    @property
    def cards(self) -> list[dict[str, Any]]:
        return [
            a["content"]
            for a in self.activity.get("attachments") or []
            if a.get("contentType") == "application/vnd.microsoft.card.adaptive"
        ]

    @property
    def text(self) -> str:
        """All the text of the activity and its cards, for assertions on what a user reads."""
        parts: list[str] = [self.activity.get("text") or ""]

        def walk(node: Any) -> None:
            if isinstance(node, dict):
                for key in ("text", "title", "value"):
                    if isinstance(node.get(key), str):
                        parts.append(node[key])
                for value in node.values():
                    walk(value)
            elif isinstance(node, list):
                for item in node:
                    walk(item)

        walk(self.cards)
        return "\n".join(parts)


@dataclass
class FakeConnector:
    server: TestServer | None = None
    posted: list[Posted] = field(default_factory=list)
    # The bodies of create-conversation calls (the bot opening a personal chat).
    created: list[dict[str, Any]] = field(default_factory=list)
    # Lets a test answer a request itself (429, 403...); None means "accept".
    responder: Callable[[web.Request], web.Response | None] | None = None
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    @property
    def url(self) -> str:
        assert self.server is not None
        return str(self.server.make_url("")).rstrip("/")

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/v3/conversations/{cid}/activities", self._post)
        app.router.add_post("/v3/conversations/{cid}/activities/{aid}", self._post)
        app.router.add_put("/v3/conversations/{cid}/activities/{aid}", self._post)
        app.router.add_post("/v3/conversations", self._create_conversation)
        self.server = TestServer(app, host="127.0.0.1")
        await self.server.start_server()

    async def close(self) -> None:
        if self.server is not None:
            await self.server.close()

    async def _post(self, request: web.Request) -> web.Response:
        if self.responder is not None:
            answer = self.responder(request)
            if answer is not None:
                return answer
        body = await request.json()
        self.posted.append(
            Posted(
                request.method,
                request.match_info["cid"],
                request.match_info.get("aid"),
                body,
                request.headers.get("Authorization"),
            )
        )
        return web.json_response({"id": f"posted-{next(self._ids)}"})

    async def _create_conversation(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.created.append(body)
        member = (body.get("members") or [{}])[0].get("id", "user")
        return web.json_response({"id": f"a:personal-{member}"})

    def to(self, conversation_id: str) -> list[Posted]:
        return [p for p in self.posted if p.conversation_id == conversation_id]

    def clear(self) -> None:
        self.posted.clear()
