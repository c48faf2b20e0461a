"""`wa-inbox serve` in its own process under forged traffic: what unauthenticated requests cost stays
bounded (memory, database, log), and slow connections beyond the open-file limit keep no one out."""

from __future__ import annotations

import asyncio
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from tests.support.receiver import STATUS, TOKEN, sign, status_form, wait_healthy
from wa_inbox.running.sockets import bind

FORGED_REQUESTS = 3000
BODY_BYTES = 60_000
RSS_GROWTH_BOUND = 48 * 1024 * 1024
PROBE_BOUND = 5.0
"""Seconds a health probe may take: far below a load balancer's timeout, above a busy CI machine's stalls."""


def free_port() -> int:
    sock = bind()
    port = sock.getsockname()[1]
    sock.close()
    return port


def start_server(tmp_path: Path, port: int, open_files: int | None = None) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "TWILIO_AUTH_TOKEN": TOKEN,
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "WA_INBOX_DB": str(tmp_path / "inbox.db"),
    }

    def limit_open_files() -> None:
        if open_files is not None:
            resource.setrlimit(resource.RLIMIT_NOFILE, (open_files, open_files))

    command = [sys.executable, "-m", "wa_inbox", "serve", "--port", str(port)]
    with (tmp_path / "server.log").open("wb") as log:
        return subprocess.Popen(
            command, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path, preexec_fn=limit_open_files
        )


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def database_bytes(tmp_path: Path) -> int:
    return sum(path.stat().st_size for path in tmp_path.glob("inbox.db*"))


def forged_body(n: int) -> str:
    """~60 KB, every value escaped and unlike any other request's, the short ones too."""
    fields = [
        f"MessageSid=SM{n:032x}",
        f"From={quote(f'whatsapp:+1{n:010d}')}",
        f"ProfileName={quote(f'Forger {n} ✓')}",
        f"Body={n}-" + "%E2%9C%93" * ((BODY_BYTES - 200) // 9),
    ]
    return "&".join(fields)


@pytest.mark.timeout(300)
async def test_thousands_of_large_forged_requests_cost_a_bounded_amount(tmp_path: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = start_server(tmp_path, port)
    try:
        limits = httpx.Limits(max_connections=16)
        async with httpx.AsyncClient(timeout=30, limits=limits) as client:
            await wait_healthy(client, url)
            for n in range(50):  # warm up: the code paths, the allocator's arenas, the buckets
                await client.post(url + STATUS, content=forged_body(n), headers={"X-Twilio-Signature": "x"})
            rss_before, db_before = rss_bytes(server.pid), database_bytes(tmp_path)
            log_before = (tmp_path / "server.log").stat().st_size

            started = time.monotonic()
            numbers = range(50, 50 + FORGED_REQUESTS)
            answers = await asyncio.gather(*(forge(port, numbers[k::16]) for k in range(16)))
            statuses = [status for statuses in answers for status in statuses]
            elapsed = time.monotonic() - started

            signed = status_form("SM" + "e" * 32, "delivered")
            accepted = await client.post(
                url + STATUS, data=signed, headers={"X-Twilio-Signature": sign(url + STATUS, signed)}
            )
            rss_after = rss_bytes(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=30)

    assert set(statuses) == {403} and accepted.status_code == 204
    assert rss_after - rss_before < RSS_GROWTH_BOUND, (rss_before, rss_after)
    assert database_bytes(tmp_path) - db_before < 2 * 1024 * 1024  # a burst of samples, not 180 MB
    log = (tmp_path / "server.log").read_text()
    assert (tmp_path / "server.log").stat().st_size - log_before < 64 * 1024, log[-2000:]
    assert elapsed < 150  # a few ms each: the form must be parsed to check its signature


async def forge(port: int, numbers: range) -> list[int]:
    """Forged requests one after another on one kept-alive connection (raw: the client stays cheap)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    statuses = []
    try:
        for n in numbers:
            body = forged_body(n).encode()
            junk = "".join(f"X-Junk-{k}: {n}-{'j' * 1000}\r\n" for k in range(8))
            writer.write(
                f"POST {STATUS} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                f"Content-Type: application/x-www-form-urlencoded\r\nX-Twilio-Signature: forged{n}\r\n"
                f"{junk}Content-Length: {len(body)}\r\n\r\n".encode()
                + body
            )
            head = await reader.readuntil(b"\r\n\r\n")
            length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
            await reader.readexactly(length)
            statuses.append(int(head.split()[1]))
    finally:
        writer.close()
    return statuses


async def test_slow_connections_beyond_the_open_file_limit_keep_no_one_out(tmp_path: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = start_server(tmp_path, port, open_files=1024)  # the usual default, outside the unit
    writers: list[asyncio.StreamWriter] = []
    try:
        async with httpx.AsyncClient(timeout=10) as client:
            await wait_healthy(client, url)
            for _ in range(1100):
                _, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.write(b"POST /twilio/status HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
                writers.append(writer)
            await asyncio.sleep(0.3)

            probes = []
            for _ in range(4):
                started = time.monotonic()
                response = await client.get(url + "/healthz", timeout=PROBE_BOUND)
                probes.append((response.status_code, time.monotonic() - started))
    finally:
        for writer in writers:
            writer.close()
        server.terminate()
        server.wait(timeout=30)

    assert [status for status, _ in probes] == [200] * 4
    assert max(seconds for _, seconds in probes) < PROBE_BOUND
    log = (tmp_path / "server.log").read_text()
    assert "Too many open files" not in log
    assert "serving at most 576 connections, not 1000" in log
