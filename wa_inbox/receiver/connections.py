"""Connections under `[receiver]` limits: what a client must send, how fast, and how many may wait.

uvicorn's httptools protocol, with four guards added at the connection, before anything is parsed
into a request:

- **Header size and count**: a request whose request line and headers exceed `max_header_bytes`, or
  which has more than `max_headers` headers, is refused with 431 as soon as it does, its connection
  closed; what it sent beyond is never read. httptools itself has no such limit (a 64 MB header was
  read whole), and uvicorn's `h11_max_incomplete_event_size` applies to h11 only.
- **Read timeout**: a request's head and body must arrive within `read_timeout_seconds` of its first
  byte (a new connection: of its opening), else 408 and the connection closed. uvicorn has no header
  timeout: a client sending a byte now and then held its connection for ever.
- **Connection limit**: at `max_connections`, a new connection closes the one that has waited longest
  without a request being served (idle, or still sending its request), so a flood of slow
  connections cannot keep out Twilio or the health check. Beyond that, uvicorn's own
  `limit_concurrency` answers 503.
- **Keep-alive**: an idle connection is closed after `keep_alive_seconds` (uvicorn's).

The 431 goes through the app, so that a refused webhook is kept in the raw log like any rejection:
the request reaches it with no body and `scope["extensions"][REFUSED] = {"reason": ...}`.

Timing uses no timer per request: one sweep per server checks every connection a few times per
read timeout, and requests are stamped with the time of the last sweep.
"""

from __future__ import annotations

import asyncio
import logging
import math
import resource
from typing import Any, ClassVar

import httptools
from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol, RequestResponseCycle
from uvicorn.server import ServerState

from wa_inbox.config import ReceiverSettings

log = logging.getLogger("wa_inbox.receiver")

REFUSED = "wa_inbox.refused"
"""Key in `scope["extensions"]` of a request refused before its head was read: `{"reason": ...}`, for
a 431."""
_TIMED_OUT = b"HTTP/1.1 408 Request Timeout\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
_PATH_KEPT = 1024
_CHUNK_SLACK = 256 * 1024
"""The most one read from a socket brings (asyncio's and uvloop's buffers): what the head count may
hold of the request before."""
_LINGER_SECONDS = 2.0
_LINGER_BYTES = 4 * 1024 * 1024
"""After a 431, what a client still sends is read and dropped, this long and this much at most, so that
it reads the answer: closing with unread data would make the kernel reset the connection instead."""
BACKLOG = 128
"""Connections the kernel queues for us, and the most asyncio's loop accepts in one turn: it accepts a
batch each turn, and a batch is admitted (and can make room by closing others) two turns later."""
_RESERVED_FILES = 3 * BACKLOG + 64
"""Open files kept free of served connections: two accepted batches not yet admitted, one batch of
closed ones not yet released, and the database, its WAL, the writer's pipes, logs and media."""


def uvicorn_options(limits: ReceiverSettings) -> dict[str, Any]:
    """What `uvicorn.Config` takes to serve with `limits`."""
    protocol = type(
        "GuardedHttpProtocol",
        (GuardedHttpProtocol,),
        {
            "limits": limits,
            "watch": Watch(limits),
            "max_header_bytes": limits.max_header_bytes,
            "max_headers": limits.max_headers,
        },
    )
    return {
        "http": protocol,
        "limit_concurrency": limits.max_connections,
        "timeout_keep_alive": limits.keep_alive_seconds,
        "backlog": BACKLOG,
    }


def fit_open_files(limits: ReceiverSettings) -> ReceiverSettings:
    """Raise this process's open-file limit as far as `max_connections` needs (and the hard limit
    allows); if that is not enough, serve fewer connections rather than fail to accept at all."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = limits.max_connections + _RESERVED_FILES
    if soft != resource.RLIM_INFINITY and soft < wanted:
        raised = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (raised, hard))
            soft = raised
        except (ValueError, OSError):
            pass
    if soft == resource.RLIM_INFINITY or soft >= wanted:
        return limits
    fitted = max(16, soft - _RESERVED_FILES)
    log.warning(
        "the open-file limit is %d: serving at most %d connections, not %d "
        "(raise LimitNOFILE, or ulimit -n, or lower [receiver] max_connections)",
        soft,
        fitted,
        limits.max_connections,
    )
    return limits.model_copy(update={"max_connections": fitted})


class Watch:
    """One per server: the coarse clock requests are stamped with, read timeouts and the connection limit."""

    def __init__(self, limits: ReceiverSettings) -> None:
        self.limits = limits
        self.now = 0.0
        self.evicted = 0
        self.timed_out = 0
        self._interval = min(1.0, limits.read_timeout_seconds / 4)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._connections: set[Any] = set()
        self._sweep_handle: asyncio.TimerHandle | None = None

    def admit(self, protocol: GuardedHttpProtocol) -> None:
        """Before `protocol` joins the server's connections: make room for it, keep the sweep going."""
        self._loop, self._connections = protocol.loop, protocol.connections
        self.now = protocol.loop.time()
        if self._sweep_handle is None:
            self._sweep_handle = protocol.loop.call_later(self._interval, self._sweep)
        if len(self._connections) >= self.limits.max_connections - 1:
            self._make_room()

    def _make_room(self) -> None:
        """Close the connection that has waited longest without a request in service, if any.

        uvicorn refuses a request (503) once its connections reach `limit_concurrency`, this one
        included: keeping one below it lets the newcomer's request through.
        """
        live = [c for c in self._connections if not c.transport.is_closing()]
        if len(live) < self.limits.max_connections - 1:
            return
        waiting = [c for c in live if c.cycle is None or c.cycle.response_complete]
        if not waiting:
            return
        victim = min(waiting, key=lambda c: -math.inf if c.reading_since is None else c.reading_since)
        victim.transport.close()
        self.evicted += 1

    def _sweep(self) -> None:
        assert self._loop is not None
        self.now = self._loop.time()
        deadline = self.now - self.limits.read_timeout_seconds
        for connection in list(self._connections):
            since = connection.reading_since
            if since is not None and since <= deadline:
                connection.time_out()
                self.timed_out += 1
        self._sweep_handle = self._loop.call_later(self._interval, self._sweep) if self._connections else None


class _Lingering:
    """The transport a refused request's cycle answers on: its `close` shuts our side down, then drops
    what the client still sends for a while (see `_LINGER_SECONDS`) before closing."""

    def __init__(self, protocol: GuardedHttpProtocol) -> None:
        self._protocol = protocol
        self._transport = protocol.transport

    def write(self, data: bytes) -> None:
        self._transport.write(data)

    def is_closing(self) -> bool:
        return self._transport.is_closing()

    def close(self) -> None:
        self._protocol.linger()


class _Stop(Exception):
    """Raised from a parser callback to stop httptools reading a refused request."""


class GuardedHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with the guards of the module docstring."""

    limits: ClassVar[ReceiverSettings]
    watch: ClassVar[Watch]
    max_header_bytes: ClassVar[int]
    max_headers: ClassVar[int]
    """`limits`' two, at hand: every request checks them."""

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.reading_since: float | None = None
        """When the request still arriving began (for a new connection: its opening); None when none is."""
        self._head_bytes = 0
        """Bytes received while the request's head was arriving, not counting the chunk being parsed."""
        self._chunk = 0
        """The size of the chunk being parsed."""
        self._refused = False
        self.linger_left: int | None = None
        """Bytes still to drop after a 431 or 408 (see `linger`); None until it was sent."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        self.watch.admit(self)
        super().connection_made(transport)
        self.reading_since = self.watch.now

    def data_received(self, data: bytes) -> None:
        """uvicorn's; then, only if a request is still arriving, the guards' bookkeeping.

        A request that arrives whole in one chunk, as Twilio's do, costs them a few attribute reads.
        """
        if self._refused:
            if self.linger_left is not None:
                self.linger_left -= len(data)
                if self.linger_left < 0:
                    self.transport.close()
            return
        self._chunk = len(data)
        self._unset_keepalive_if_required()
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            if self._refused:  # our `_Stop`, raised from a callback
                return
            msg = "Invalid HTTP request received."
            self.logger.warning(msg)
            self.send_400_response(msg)
            return
        except httptools.HttpParserUpgrade:
            if self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()
            return
        scope = self.scope
        if scope is not None and ("method" not in scope or (self.cycle is not None and self.cycle.more_body)):
            self._arriving()
        elif self.reading_since is not None:
            self.reading_since = None

    def on_headers_complete(self) -> None:
        if (
            self._head_bytes + self._chunk > self.max_header_bytes or len(self.headers) > self.max_headers
        ) and (self._check_head(complete=True)):
            raise _Stop  # httptools stops at once: nothing more of this request is parsed
        self._head_bytes = 0
        HttpToolsProtocol.on_headers_complete(self)

    def _arriving(self) -> None:
        """A chunk left a request incomplete: its read time runs, and its head is counted."""
        if self.reading_since is None:
            self.reading_since = self.watch.now
        if "method" in self.scope or self._refused:  # the body: the read timeout guards it
            return
        self._head_bytes += self._chunk
        if (
            self._head_bytes > self.max_header_bytes or len(self.headers) > self.max_headers
        ) and not self.transport.is_closing():
            self._check_head()

    def time_out(self) -> None:
        """The request took longer than the read timeout to arrive: 408 if no response began, then close."""
        if self.transport.is_closing() or self.linger_left is not None:
            return
        if self.cycle is None or self.cycle.response_complete:
            self.transport.write(_TIMED_OUT)
            self.linger()
        else:
            self.transport.close()  # its app sees the client gone

    def linger(self) -> None:
        """Close after an answer the client may still be sending over: our side first, then, once it
        stops or after `_LINGER_SECONDS` and `_LINGER_BYTES` dropped, the connection."""
        transport = self.transport
        if transport.is_closing() or self.linger_left is not None:
            return
        if not transport.can_write_eof():
            transport.close()
            return
        self._refused, self.reading_since, self.linger_left = True, None, _LINGER_BYTES
        transport.write_eof()
        self.flow.resume_reading()
        self.loop.call_later(_LINGER_SECONDS, transport.close)

    def _check_head(self, complete: bool = False) -> bool:
        """Refuse the request if its head is over the limits; whether it was.

        The bytes counted may include the end of the request before (in the chunk where this one
        began), so the head itself is measured first; what httptools holds of a header not yet
        complete is not in that measure, hence the count's own, looser bound.
        """
        headers = self.headers or []
        if len(headers) > self.max_headers:
            self._refuse(f"more than {self.max_headers} request headers")
            return True
        size = len(self.url) + sum(len(name) + len(value) + 4 for name, value in headers)
        counted = self._head_bytes + (self._chunk if complete else 0)
        if size > self.max_header_bytes or (not complete and counted > self.max_header_bytes + _CHUNK_SLACK):
            self._refuse(f"request headers are larger than {self.max_header_bytes} bytes")
            return True
        return False

    def _refuse(self, reason: str) -> None:
        """Stop reading, and let the app answer 431 (and log it, for a webhook); the connection closes."""
        self._refused = True
        self.flow.pause_reading()  # until the answer is sent: then `_Lingering` drops the rest
        if self.scope is None or (self.cycle is not None and not self.cycle.response_complete):
            self.transport.close()  # nothing parsed to answer, or a pipelined request still in service
            return
        path = self.url[:_PATH_KEPT].partition(b"?")[0]
        try:
            method = self.parser.get_method().decode("ascii")
        except httptools.HttpParserError:
            method = "GET"
        scope = self.scope
        scope["method"] = method
        scope["path"] = path.decode("latin-1")
        scope["raw_path"] = path
        scope["query_string"] = b""
        scope["headers"] = self.headers[: self.limits.max_headers]
        scope["extensions"] = {REFUSED: {"reason": reason}}
        self.cycle = RequestResponseCycle(
            scope=scope,
            transport=_Lingering(self),  # type: ignore[arg-type]
            flow=self.flow,
            logger=self.logger,
            access_logger=self.access_logger,
            access_log=self.access_log,
            default_headers=self.server_state.default_headers,
            message_event=asyncio.Event(),
            expect_100_continue=False,
            keep_alive=False,
            on_response=lambda: None,
        )
        self.cycle.more_body = False
        self.cycle.message_event.set()
        self._start_asgi_task(self.cycle, self.app)
