"""The receiver's connections on a real uvicorn port: header caps (431) before anything is parsed, a read
timeout for slow requests (408), and a connection limit that a flood of slow clients cannot use to keep
out the health check or Twilio."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest

from tests.support.receiver import STATUS, Receiver, running_receiver, sign, status_form

Stream = tuple[asyncio.StreamReader, asyncio.StreamWriter]


async def connect(receiver: Receiver) -> Stream:
    url = httpx.URL(receiver.url)
    return await asyncio.open_connection(url.host, url.port)


async def exchange(receiver: Receiver, raw: bytes) -> tuple[int, bytes, bytes]:
    """Send `raw` on a new connection; the status, head and body of the answer, read until it closes."""
    reader, writer = await connect(receiver)
    try:
        writer.write(raw)
        await writer.drain()
    except ConnectionError:
        pass
    answer = await asyncio.wait_for(reader.read(), 10)
    writer.close()
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split()[1]), head, body


def request_head(path: str, headers: dict[str, str], length: int = 0, method: str = "POST") -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", f"Content-Length: {length}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


async def closed_within(reader: asyncio.StreamReader, seconds: float) -> bytes:
    """What the server sent before closing the connection, which must happen within `seconds`."""
    return await asyncio.wait_for(reader.read(), seconds)


async def test_headers_over_the_size_cap_get_431_and_a_bounded_row(receiver: Receiver) -> None:
    raw = request_head(STATUS, {"X-Twilio-Signature": "Zm9yZ2Vk", "X-Padding": "p" * 20_000})

    status, head, body = await exchange(receiver, raw)

    assert (status, body) == (431, b"request headers are larger than 16384 bytes")
    assert b"connection: close" in head.lower()
    ((verdict, reason, headers, header_bytes),) = receiver.rows(
        "SELECT verdict, reason, headers, header_bytes FROM webhook_log"
    )
    assert (verdict, reason) == ("too_large", "request headers are larger than 16384 bytes")
    assert len(headers) < 2048 and "x-twilio-signature" not in json.loads(headers)
    assert header_bytes > 16_384


async def test_a_64_mb_header_is_refused_before_it_is_read(receiver: Receiver) -> None:
    reader, writer = await connect(receiver)
    writer.write(b"POST " + STATUS.encode() + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Huge: ")
    sent, started = 0, time.monotonic()
    chunk = b"h" * 65_536
    with contextlib.suppress(ConnectionError):
        while sent < 64 * 1024 * 1024 and not reader.at_eof():
            writer.write(chunk)
            await asyncio.wait_for(writer.drain(), 5)
            sent += len(chunk)
            if reader._buffer:  # type: ignore[attr-defined]  # the answer came: stop sending
                break

    answer = await closed_within(reader, 5)

    assert answer.startswith(b"HTTP/1.1 431 ")
    assert sent < 8 * 1024 * 1024 and time.monotonic() - started < 10
    ((header_bytes,),) = receiver.rows("SELECT header_bytes FROM webhook_log")
    assert header_bytes < 1024 * 1024


async def test_too_many_headers_get_431(receiver: Receiver) -> None:
    raw = request_head(STATUS, {f"X-H{n}": "v" for n in range(150)})

    status, _, body = await exchange(receiver, raw)

    assert (status, body) == (431, b"more than 100 request headers")
    assert receiver.rows("SELECT verdict, reason FROM webhook_log") == [
        ("too_large", "more than 100 request headers")
    ]


async def test_the_health_check_with_huge_headers_gets_431_and_no_row(receiver: Receiver) -> None:
    raw = request_head("/healthz", {"X-Padding": "p" * 20_000}, method="GET")

    status, _, _ = await exchange(receiver, raw)

    assert status == 431
    assert receiver.rows("SELECT COUNT(*) FROM webhook_log") == [(0,)]


async def test_headers_within_the_caps_and_a_body_in_the_same_packet_are_accepted(receiver: Receiver) -> None:
    form = {**status_form("SM" + "a" * 32, "sent"), "Padding": "p" * 60_000}
    body = urlencode(form).encode()
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Twilio-Signature": sign(receiver.url + STATUS, form),
        **{f"X-Extra-{n}": "e" * 150 for n in range(90)},  # 90 headers, about 15 KB: within both caps
    }

    status, _, _ = await exchange(receiver, request_head(STATUS, headers, len(body)) + body)

    assert status == 204
    assert receiver.rows("SELECT verdict FROM webhook_log") == [("accepted",)]


@contextlib.asynccontextmanager
async def receiver_with(tmp_path: Path, **limits: object) -> AsyncIterator[Receiver]:
    async with running_receiver(tmp_path, receiver=limits) as receiver:
        yield receiver


async def test_a_request_trickling_its_headers_is_timed_out_with_408(tmp_path: Path) -> None:
    async with receiver_with(tmp_path, read_timeout_seconds=1.0) as receiver:
        reader, writer = await connect(receiver)
        writer.write(b"POST /twilio/status HTTP/1.1\r\n")
        started = time.monotonic()

        async def trickle() -> None:
            with contextlib.suppress(ConnectionError):
                for n in range(100):
                    writer.write(f"X-{n}: 1\r\n".encode())
                    await writer.drain()
                    await asyncio.sleep(0.2)

        trickling = asyncio.create_task(trickle())
        answer = await closed_within(reader, 3)
        trickling.cancel()

        assert answer.startswith(b"HTTP/1.1 408 ")
        assert 0.7 < time.monotonic() - started < 2.0


async def test_a_connection_that_never_sends_is_closed(tmp_path: Path) -> None:
    async with receiver_with(tmp_path, read_timeout_seconds=1.0) as receiver:
        reader, _ = await connect(receiver)
        started = time.monotonic()

        assert (await closed_within(reader, 3)).startswith(b"HTTP/1.1 408 ")
        assert time.monotonic() - started < 2.0


async def test_a_body_that_stops_coming_is_cut_off_and_logged(tmp_path: Path) -> None:
    async with receiver_with(tmp_path, read_timeout_seconds=1.0) as receiver:
        reader, writer = await connect(receiver)
        writer.write(request_head(STATUS, {"X-Twilio-Signature": "Zm9yZ2Vk"}, length=1000) + b"MessageSid=SM")

        await closed_within(reader, 3)

        expected = [("malformed", "the client went away before sending the whole body")]
        for _ in range(50):  # the row's commit may land just after the connection closed
            if receiver.rows("SELECT verdict, reason FROM webhook_log") == expected:
                break
            await asyncio.sleep(0.05)
        assert receiver.rows("SELECT verdict, reason FROM webhook_log") == expected


async def test_an_idle_kept_alive_connection_is_closed(tmp_path: Path) -> None:
    async with receiver_with(tmp_path, keep_alive_seconds=0.5) as receiver:
        reader, writer = await connect(receiver)
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        started = time.monotonic()

        answer = await closed_within(reader, 3)

        assert answer.startswith(b"HTTP/1.1 200 ") and answer.endswith(b"ok")
        assert time.monotonic() - started < 1.5


async def open_slow_clients(receiver: Receiver, count: int) -> list[Stream]:
    """`count` connections, each with half a request head sent, as a slowloris client leaves them."""
    clients = []
    for _ in range(count):
        reader, writer = await connect(receiver)
        writer.write(b"POST /twilio/status HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        clients.append((reader, writer))
    await asyncio.gather(*(writer.drain() for _, writer in clients))
    return clients


async def health_answers_within(receiver: Receiver, seconds: float) -> float:
    started = time.monotonic()
    async with httpx.AsyncClient(timeout=seconds) as client:
        response = await client.get(receiver.url + "/healthz")
    assert response.status_code == 200
    return time.monotonic() - started


@pytest.mark.parametrize("max_connections", [64, 1000])
async def test_the_health_check_answers_under_a_slow_connection_flood(
    tmp_path: Path, max_connections: int
) -> None:
    async with receiver_with(tmp_path, max_connections=max_connections, read_timeout_seconds=60) as receiver:
        clients = await open_slow_clients(receiver, 400)
        try:
            assert await health_answers_within(receiver, 3.0) < 3.0
            form = status_form("SM" + "c" * 32, "delivered")
            assert (await receiver.post(STATUS, form)).status_code == 204  # and Twilio gets through
            await asyncio.sleep(0.2)
            closed = sum(reader.at_eof() for reader, _ in clients)
            if max_connections == 64:
                assert closed >= 400 - 63  # the oldest slow clients made room for the newer ones
            else:
                assert closed == 0  # under the limit, nobody is pushed out
        finally:
            for _, writer in clients:
                writer.close()


async def test_a_slow_flood_is_cleared_by_the_read_timeout(tmp_path: Path) -> None:
    async with receiver_with(tmp_path, read_timeout_seconds=1.0) as receiver:
        clients = await open_slow_clients(receiver, 300)
        try:
            answers = await asyncio.wait_for(asyncio.gather(*(reader.read() for reader, _ in clients)), 4)
        finally:
            for _, writer in clients:
                writer.close()

        assert all(answer.startswith(b"HTTP/1.1 408 ") for answer in answers)
        assert await health_answers_within(receiver, 3.0) < 3.0
