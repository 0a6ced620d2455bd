"""The Bot Connector's HTTP client (bot/teams/connector_http.py), against real servers on
127.0.0.1: aiohttp's for well-behaved answers, a raw asyncio server for the ill-behaved ones,
and aiohttp over TLS with the fake issuer's self-signed certificate."""

from __future__ import annotations

import asyncio
import json
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.teams.connector_http import MAX_ANSWER_BYTES, ConnectorDisconnected, ConnectorHttp
from tests.support.fake_issuer import self_signed_certificate

# Each test on asyncio's loop and on uvloop's (tests/conftest.py).
pytestmark = pytest.mark.asyncio(loop_factories=["asyncio", "uvloop"])

BODY = json.dumps({"type": "message", "text": "Grüße"}).encode()


class Recorder:
    """An aiohttp app that answers every POST with JSON and remembers what it got and from
    which client port (one port, one connection)."""

    def __init__(self) -> None:
        self.requests: list[dict[str, object]] = []
        self.ports: list[int] = []
        self.answer: Callable[[web.Request], Awaitable[web.StreamResponse]] | None = None

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        return app

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        assert request.transport is not None
        self.ports.append(request.transport.get_extra_info("peername")[1])
        self.requests.append(
            {
                "method": request.method,
                "raw_path": request.raw_path,
                "headers": dict(request.headers),
                "body": await request.read(),
            }
        )
        if self.answer is not None:
            return await self.answer(request)
        return web.json_response({"id": f"m{len(self.requests)}"}, status=201)


@pytest.fixture
async def recorder() -> AsyncIterator[tuple[Recorder, str]]:
    recorder = Recorder()
    async with TestServer(recorder.app()) as server:
        yield recorder, str(server.make_url("")).rstrip("/")


@pytest.fixture
async def client() -> AsyncIterator[ConnectorHttp]:
    http = ConnectorHttp(timeout=30)
    yield http
    await http.close()


@asynccontextmanager
async def raw_server(
    handle: Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]],
) -> AsyncIterator[str]:
    """A server that writes whatever `handle` writes: answers no HTTP library would send."""
    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.close()
        await server.wait_closed()


async def read_request(reader: asyncio.StreamReader) -> bytes:
    head = await reader.readuntil(b"\r\n\r\n")
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    return head + await reader.readexactly(length)


async def until(condition: Callable[[], bool]) -> None:
    """Let the loop run (no real time) until `condition` holds."""
    for _ in range(10_000):
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError("the condition never held")


async def test_a_post_reaches_the_connector_as_it_was_given(
    recorder: tuple[Recorder, str], client: ConnectorHttp
) -> None:
    server, base = recorder
    answer = await client.post_json(
        f"{base}/amer/",
        "/v3/conversations/a%3A1%3Bmessageid%3D9/activities/9",
        BODY,
        {"Authorization": "Bearer abc"},
    )
    assert (answer.status, json.loads(answer.text)) == (201, {"id": "m1"})
    assert answer.headers["Content-Type"].startswith("application/json")
    [seen] = server.requests
    assert seen["method"] == "POST"
    assert seen["raw_path"] == "/amer/v3/conversations/a%3A1%3Bmessageid%3D9/activities/9"
    assert seen["body"] == BODY
    headers = seen["headers"]
    assert isinstance(headers, dict)
    assert headers["Authorization"] == "Bearer abc"
    assert headers["Content-Type"] == "application/json; charset=utf-8"
    assert headers["Host"] == base.removeprefix("http://")


async def test_posts_one_after_another_share_one_connection(
    recorder: tuple[Recorder, str], client: ConnectorHttp
) -> None:
    server, base = recorder
    for _ in range(3):
        assert (await client.post_json(base, "/a", BODY, {})).status == 201
    assert len(set(server.ports)) == 1
    # Posts at once open connections of their own, which are all kept for the next ones.
    await asyncio.gather(*(client.post_json(base, "/b", BODY, {}) for _ in range(3)))
    at_once = set(server.ports[3:])
    assert len(at_once) == 3
    await asyncio.gather(*(client.post_json(base, "/c", BODY, {}) for _ in range(3)))
    assert set(server.ports[6:]) == at_once


async def test_no_more_connections_than_allowed(recorder: tuple[Recorder, str]) -> None:
    server, base = recorder
    http = ConnectorHttp(max_connections=1)
    try:
        await asyncio.gather(*(http.post_json(base, "/a", BODY, {}) for _ in range(4)))
    finally:
        await http.close()
    assert len(server.ports) == 4
    assert len(set(server.ports)) == 1


async def test_an_error_status_is_an_answer_with_its_headers(
    recorder: tuple[Recorder, str], client: ConnectorHttp
) -> None:
    server, base = recorder

    async def throttled(_request: web.Request) -> web.StreamResponse:
        return web.json_response(
            {"error": {"code": "TooManyRequests"}}, status=429, headers={"Retry-After": "3"}
        )

    server.answer = throttled
    answer = await client.post_json(base, "/a", BODY, {})
    assert answer.status == 429
    assert answer.headers["retry-after"] == "3"
    assert json.loads(answer.text) == {"error": {"code": "TooManyRequests"}}


async def test_a_chunked_answer_is_read_whole(
    recorder: tuple[Recorder, str], client: ConnectorHttp
) -> None:
    server, base = recorder

    async def chunked(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        response.enable_chunked_encoding()
        response.content_type = "application/json"
        await response.prepare(request)
        for part in (b'{"id":', b' "in ', b'parts"}'):
            await response.write(part)
        await response.write_eof()
        return response

    server.answer = chunked
    for _ in range(2):  # and the connection is still good for the next
        assert json.loads((await client.post_json(base, "/a", BODY, {})).text) == {"id": "in parts"}
    assert len(set(server.ports)) == 1


async def test_the_text_is_decoded_by_the_answers_charset(
    recorder: tuple[Recorder, str], client: ConnectorHttp
) -> None:
    server, base = recorder

    async def latin(_request: web.Request) -> web.StreamResponse:
        return web.Response(
            body="café".encode("latin-1"), content_type="text/plain", charset="latin-1"
        )

    server.answer = latin
    assert (await client.post_json(base, "/a", BODY, {})).text == "café"


async def test_an_answer_that_ends_with_its_connection(client: ConnectorHttp) -> None:
    connections = 0

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        await read_request(reader)
        writer.write(b'HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n{"id": "until EOF"}')
        await writer.drain()
        writer.close()

    async with raw_server(handle) as base:
        for _ in range(2):
            answer = await client.post_json(base, "/a", BODY, {})
            assert json.loads(answer.text) == {"id": "until EOF"}
    assert connections == 2


async def test_a_connection_the_connector_closed_while_idle_is_not_used_again(
    client: ConnectorHttp,
) -> None:
    connections = 0

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        await read_request(reader)
        writer.write(b'HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n{"id": "1"}')
        await writer.drain()
        writer.close()  # keep-alive was promised; the server hangs up anyway

    async with raw_server(handle) as base:
        await client.post_json(base, "/a", BODY, {})
        await until(lambda: all(c.closed for q in client._idle.values() for c in q))
        assert (await client.post_json(base, "/a", BODY, {})).status == 200
    assert connections == 2


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param(b'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{"id"', id="cut short"),
        pytest.param(b"HTTP/1.1 200 OK\r\nContent-Le", id="headers cut short"),
        pytest.param(b"", id="nothing"),
        pytest.param(b"SMTP ready\r\n\r\n", id="not HTTP"),
    ],
)
async def test_an_answer_that_is_not_whole_http_raises_and_its_connection_is_dropped(
    client: ConnectorHttp, answer: bytes
) -> None:
    connections = 0

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        await read_request(reader)
        if connections == 1:
            writer.write(answer)
        else:
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}")
        await writer.drain()
        if connections == 1:
            writer.close()
        else:
            await reader.read()  # keep it open until the client goes

    async with raw_server(handle) as base:
        with pytest.raises(ConnectorDisconnected):
            await client.post_json(base, "/a", BODY, {})
        assert (await client.post_json(base, "/a", BODY, {})).text == "{}"
        await client.close()
    assert connections == 2


async def test_an_answer_over_a_mebibyte_is_refused(
    recorder: tuple[Recorder, str], client: ConnectorHttp
) -> None:
    server, base = recorder

    async def huge(_request: web.Request) -> web.StreamResponse:
        return web.Response(body=b"x" * (MAX_ANSWER_BYTES + 1))

    server.answer = huge
    with pytest.raises(ConnectorDisconnected, match="larger than 1 MiB"):
        await client.post_json(base, "/a", BODY, {})
    server.answer = None
    assert (await client.post_json(base, "/a", BODY, {})).status == 201
    assert len(set(server.ports)) == 2


async def test_a_cancelled_post_hangs_up_rather_than_reuse_a_connection_in_an_unknown_state(
    client: ConnectorHttp,
) -> None:
    arrived = asyncio.Event()
    hung_up = asyncio.Event()
    connections = 0

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        await read_request(reader)
        if connections == 1:
            arrived.set()
            await reader.read()  # EOF: the client hung up
            hung_up.set()
            return
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}")
        await writer.drain()
        await reader.read()

    async with raw_server(handle) as base:
        post = asyncio.create_task(client.post_json(base, "/a", BODY, {}))
        await arrived.wait()
        post.cancel()
        with pytest.raises(asyncio.CancelledError):
            await post
        await hung_up.wait()
        assert (await client.post_json(base, "/a", BODY, {})).text == "{}"
        await client.close()
    assert connections == 2


async def test_the_timeout_covers_the_whole_post(recorder: tuple[Recorder, str]) -> None:
    _, base = recorder
    http = ConnectorHttp(timeout=0)  # already over when the first await yields
    try:
        with pytest.raises(TimeoutError):
            await http.post_json(base, "/a", BODY, {})
    finally:
        await http.close()


@pytest.mark.parametrize(
    "url",
    [
        "ftp://127.0.0.1/a",
        "http:///no-host",
        "http://exa mple.com/a",
        "http://127.0.0.1:99999/a",
        "http://host\\evil.example/a",
        "http://127.0.0.1/a?q=1",
        "http://127.0.0.1/a#here",
    ],
)
async def test_a_url_that_cannot_be_sent_is_refused_before_anything_is_sent(
    client: ConnectorHttp, url: str
) -> None:
    with pytest.raises(ValueError):
        await client.post_json(url, "/a", BODY, {})


async def test_a_header_with_a_line_break_is_refused(
    recorder: tuple[Recorder, str], client: ConnectorHttp
) -> None:
    server, base = recorder
    with pytest.raises(ValueError, match="line break"):
        await client.post_json(base, "/a", BODY, {"Authorization": "Bearer a\r\nX-Evil: 1"})
    assert server.requests == []


async def test_a_service_url_cannot_break_the_request_line(client: ConnectorHttp) -> None:
    # With no app id anyone can name the service URL: what it holds is percent-encoded (the
    # line breaks in the service URL the URL parser drops, as WHATWG's does), never sent raw.
    seen: list[bytes] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen.append(await read_request(reader))
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}")
        await writer.drain()
        await reader.read()

    async with raw_server(handle) as base:
        await client.post_json(f"{base}/a b\r\nX-Evil: 1\r\n", "/v3/x y\r\n\x00?q=1", BODY, {})
        await client.close()
    [request] = seen
    head = request.split(b"\r\n\r\n")[0].split(b"\r\n")
    assert head[0] == b"POST /a%20bX-Evil:%201/v3/x%20y%0D%0A%00?q=1 HTTP/1.1"
    assert not any(line.lower().startswith(b"x-evil") for line in head)


async def test_https_verifies_the_connector_and_keeps_the_connection(tmp_path: Path) -> None:
    cert_file, key_file = self_signed_certificate(tmp_path)  # the fake issuer's
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(cert_file, key_file)
    recorder = Recorder()
    runner = web.AppRunner(recorder.app())
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=server_context)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    url, path = f"https://127.0.0.1:{port}", "/v3/conversations/a/activities"
    trusting = ConnectorHttp(ssl_context=ssl.create_default_context(cafile=str(cert_file)))
    default = ConnectorHttp()  # the system's trust store knows nothing of this certificate
    try:
        for _ in range(2):
            assert json.loads((await trusting.post_json(url, path, BODY, {})).text)["id"]
        assert len(set(recorder.ports)) == 1
        assert recorder.requests[0]["body"] == BODY
        with pytest.raises(ssl.SSLCertVerificationError):
            await default.post_json(url, path, BODY, {})
    finally:
        await trusting.close()
        await default.close()
        await runner.cleanup()
