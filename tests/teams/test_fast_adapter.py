"""The Bot Connector's answer, read once: what aiohttp's own `json()` would have read."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.teams.fast_adapter import _answer_json

ANSWERS = [
    b'{"id": "1709547072123"}',
    b'  {"id": "a"}\r\n',
    b'\x0c\x0b{"id": "b"}\t',
    b"",
    b"   ",
    b"not json",
    b"[1, 2]",
    b"null",
    '{"id": "\u00e9"}'.encode(),
]


async def _aiohttp_reads(session: aiohttp.ClientSession, url: str) -> tuple[str, Any]:
    async with session.get(url) as answer:
        text = await answer.text()
        try:
            return text, await answer.json(content_type=None)
        except ValueError:
            return text, {}


@pytest.mark.parametrize("content_type", ["application/json", "text/plain", None])
async def test_the_answer_reads_as_aiohttp_reads_it(content_type: str | None) -> None:
    async def answer(request: web.Request) -> web.Response:
        body = ANSWERS[int(request.match_info["i"])]
        response = web.Response(body=body)
        if content_type is not None:
            response.content_type = content_type
        return response

    app = web.Application()
    app.router.add_get("/{i}", answer)
    async with TestServer(app) as server, aiohttp.ClientSession() as session:
        for i in range(len(ANSWERS)):
            text, expected = await _aiohttp_reads(session, str(server.make_url(f"/{i}")))
            assert _answer_json(text) == expected, ANSWERS[i]
