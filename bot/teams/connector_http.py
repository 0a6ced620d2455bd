"""POSTs of JSON to the Bot Connector on kept-alive HTTP/1.1 connections.

Every reply and proactive message is one POST to the connector. aiohttp's client spent 0.14-0.18
ms of CPU on each here, in a loop of its own (a request and a response object, a task that
writes the body, the URL parsed, a cookie jar, the header multidicts), against 0.04 ms for the
same POST written here and read by httptools (llhttp, the parser uvicorn uses); in one process
with the bot, a create turn went from 1.51 to 1.32 ms (its card is a large body). This client
does only what those POSTs need: http and https (the default SSL context), a pool of idle
connections per origin (dropped after 15 s idle, as aiohttp's are), at most 100 connections at
once, one timeout over connecting, sending and reading, and answers of at most 1 MiB. A POST is
never retried on another connection: it may have been delivered (aiohttp does not retry a POST
either).
"""

from __future__ import annotations

import asyncio
import functools
import ssl
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import quote, urlsplit

import httptools
from multidict import CIMultiDict, CIMultiDictProxy

IDLE_SECONDS = 15.0
MAX_CONNECTIONS = 100
MAX_ANSWER_BYTES = 1024 * 1024
# What a request target may hold as it is (RFC 3986 pchar, "/", "?" and "%"); the rest is
# percent-encoded, so a service URL can never break the request line.
_TARGET_SAFE = "/?%:@!$&'()*+,;=-._~"


class ConnectorDisconnected(ConnectionError):
    """The connection ended, or the answer was not HTTP, before a whole answer came."""


@dataclass(frozen=True)
class Answer:
    status: int
    headers: CIMultiDictProxy[str]
    text: str


@dataclass(frozen=True)
class _Origin:
    scheme: str
    host: str
    port: int

    @property
    def host_header(self) -> str:
        default = 443 if self.scheme == "https" else 80
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == default else f"{host}:{self.port}"


@functools.lru_cache(maxsize=1024)
def _service(service_url: str) -> tuple[_Origin, str]:
    """The origin of a service URL and its path (without the trailing slash), read once."""
    parts = urlsplit(service_url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise ValueError(f"not an http(s) URL: {service_url[:100]!r}")
    if parts.query or parts.fragment:
        raise ValueError(f"a service URL with a query or fragment: {service_url[:100]!r}")
    host = parts.hostname or ""
    try:
        port = parts.port or (443 if scheme == "https" else 80)
        ascii_host = host.encode("idna").decode("ascii") if host else ""
    except (ValueError, UnicodeError) as error:
        raise ValueError(f"bad host or port in {service_url[:100]!r}") from error
    if not ascii_host or any(c in ascii_host for c in " \r\n\t/\\@"):
        raise ValueError(f"bad host in {service_url[:100]!r}")
    return _Origin(scheme, ascii_host, port), quote(parts.path.rstrip("/"), safe=_TARGET_SAFE)


def _header_line(name: str, value: str) -> bytes:
    if any(c in name for c in "\r\n:") or any(c in value for c in "\r\n"):
        raise ValueError(f"header {name[:40]!r} holds a line break")
    return f"{name}: {value}\r\n".encode("latin-1")


def _charset(content_type: str | None) -> str:
    for parameter in (content_type or "").split(";")[1:]:
        key, _, value = parameter.partition("=")
        if key.strip().lower() == "charset" and value.strip():
            return value.strip().strip('"')
    return "utf-8"


class _Connection(asyncio.Protocol):
    """One connection: httptools' callbacks collect an answer; `answer` is the future of the
    request in flight, if any."""

    def __init__(self, origin: _Origin) -> None:
        self.origin = origin
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.idle_since = 0.0
        self.answer: asyncio.Future[tuple[int, CIMultiDictProxy[str], bytes, bool]] | None = None
        self._parser = httptools.HttpResponseParser(self)
        self._headers: CIMultiDict[str] = CIMultiDict()
        self._body: list[bytes] = []
        self._size = 0
        self._in_body = False

    # asyncio's side
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        if self.answer is None or self.answer.done():
            self._fail(ConnectorDisconnected("the connector sent data nobody asked for"))
            return
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError as error:
            self._fail(ConnectorDisconnected(f"the connector's answer is not HTTP: {error}"))

    def eof_received(self) -> bool:
        return False  # close the transport; connection_lost settles the answer

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.answer is None or self.answer.done():
            return
        if self._in_body and self._reads_to_eof():
            self._complete(keep_alive=False)
            return
        self.answer.set_exception(
            ConnectorDisconnected(f"the connector closed the connection: {exc or 'EOF'}")
        )

    # httptools' side
    def on_message_begin(self) -> None:
        self._headers = CIMultiDict()
        self._body = []
        self._size = 0

    def on_header(self, name: bytes, value: bytes) -> None:
        self._headers.add(name.decode("latin-1"), value.decode("latin-1"))

    def on_headers_complete(self) -> None:
        self._in_body = True

    def on_body(self, body: bytes) -> None:
        self._size += len(body)
        if self._size > MAX_ANSWER_BYTES:
            self._fail(ConnectorDisconnected("the connector's answer is larger than 1 MiB"))
            return
        self._body.append(body)

    def on_message_complete(self) -> None:
        self._complete(keep_alive=self._parser.should_keep_alive())

    # ours
    def _reads_to_eof(self) -> bool:
        """An answer whose headers came, without Content-Length or chunked encoding, ends
        with the connection."""
        return "Content-Length" not in self._headers and "chunked" not in (
            self._headers.get("Transfer-Encoding", "").lower()
        )

    def _complete(self, *, keep_alive: bool) -> None:
        self._in_body = False
        if self.answer is not None and not self.answer.done():
            status = self._parser.get_status_code()
            headers = CIMultiDictProxy(self._headers)
            self.answer.set_result((status, headers, b"".join(self._body), keep_alive))

    def _fail(self, error: Exception) -> None:
        if self.answer is not None and not self.answer.done():
            self.answer.set_exception(error)
        self.close()

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()


class ConnectorHttp:
    def __init__(
        self,
        *,
        timeout: float = 30.0,
        ssl_context: ssl.SSLContext | None = None,
        max_connections: int = MAX_CONNECTIONS,
    ) -> None:
        self.timeout = timeout
        self._ssl = ssl_context
        self._idle: dict[_Origin, deque[_Connection]] = {}
        self._slots = asyncio.Semaphore(max_connections)
        self._open: set[_Connection] = set()

    def _ssl_context(self) -> ssl.SSLContext:
        if self._ssl is None:
            self._ssl = ssl.create_default_context()
        return self._ssl

    async def post_json(
        self, service_url: str, path: str, body: bytes, headers: Mapping[str, str]
    ) -> Answer:
        """POST `body` (JSON) to `path` (from its "/") under `service_url`, with `headers`; the
        answer, whatever its status. Raises ValueError for a URL or header that cannot be sent,
        OSError (ConnectionError, ConnectorDisconnected) when the connector cannot be reached or
        hangs up, TimeoutError after `timeout` seconds."""
        origin, base = _service(service_url)
        target = base + quote(path, safe=_TARGET_SAFE)
        head = [
            f"POST {target} HTTP/1.1\r\n".encode("ascii"),
            _header_line("Host", origin.host_header),
            b"Content-Type: application/json; charset=utf-8\r\n",
            b"Accept: application/json\r\n",
            b"Content-Length: %d\r\n" % len(body),
        ]
        head.extend(_header_line(name, value) for name, value in headers.items())
        head.append(b"\r\n")
        request = b"".join(head) + body
        loop = asyncio.get_running_loop()
        async with asyncio.timeout(self.timeout), self._slots:
            connection = await self._connection(origin)
            connection.answer = loop.create_future()
            try:
                assert connection.transport is not None
                connection.transport.write(request)
                status, answer_headers, raw, keep_alive = await connection.answer
            except BaseException:  # an error, a timeout, a cancellation: the state is unknown
                self._forget(connection)
                raise
            finally:
                connection.answer = None
            if keep_alive and not connection.closed:
                connection.idle_since = loop.time()
                self._idle.setdefault(origin, deque()).append(connection)
            else:
                self._forget(connection)
        charset = _charset(answer_headers.get("Content-Type"))
        try:
            text = raw.decode(charset, errors="replace")
        except LookupError:  # a charset Python does not know
            text = raw.decode("utf-8", errors="replace")
        return Answer(status, answer_headers, text)

    async def _connection(self, origin: _Origin) -> _Connection:
        idle = self._idle.get(origin)
        now = asyncio.get_running_loop().time()
        while idle:
            connection = idle.pop()
            if not connection.closed and now - connection.idle_since < IDLE_SECONDS:
                return connection
            self._forget(connection)
        loop = asyncio.get_running_loop()
        extra: dict[str, Any] = {}
        if origin.scheme == "https":
            extra = {"ssl": self._ssl_context(), "server_hostname": origin.host}
        transport, protocol = await loop.create_connection(
            lambda: _Connection(origin), origin.host, origin.port, **extra
        )
        # uvloop may call connection_made after create_connection has returned.
        protocol.transport = transport
        self._open.add(protocol)
        return protocol

    def _forget(self, connection: _Connection) -> None:
        connection.close()
        self._open.discard(connection)

    async def close(self) -> None:
        for connection in list(self._open):
            self._forget(connection)
        self._idle.clear()
