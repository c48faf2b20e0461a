"""`kill -9` in the middle of a burst: every acknowledged webhook survives, exactly once."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import httpx

from tests.support.receiver import INBOUND, STATUS, TOKEN, sign, status_form, text_form, wait_healthy
from wa_inbox.running.sockets import bind

BURST = 2000
KILL_AFTER = 700


def start_server(db_path: Path, port: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "TWILIO_AUTH_TOKEN": TOKEN,
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "WA_INBOX_DB": str(db_path),
    }
    command = [sys.executable, "-m", "wa_inbox", "serve", "--port", str(port)]
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def burst_forms() -> list[tuple[str, dict[str, str], tuple[str, str]]]:
    """Half inbound messages, half status callbacks; each with the key it must be stored under."""
    forms = []
    for n in range(BURST):
        sid = f"SM{n:032x}"
        if n % 2:
            forms.append((INBOUND, text_form(sid, body=f"message {n}"), ("in", sid)))
        else:
            forms.append((STATUS, status_form(sid, "delivered"), ("status", sid)))
    return forms


async def test_acknowledged_webhooks_survive_kill_9(tmp_path: Path) -> None:
    db_path = tmp_path / "inbox.db"
    sock = bind()
    port = sock.getsockname()[1]
    sock.close()
    url = f"http://127.0.0.1:{port}"
    server = start_server(db_path, port)
    acknowledged: list[tuple[str, str]] = []
    limits = httpx.Limits(max_connections=32)
    async with httpx.AsyncClient(timeout=10, limits=limits) as client:
        await wait_healthy(client, url)

        async def send(path: str, form: dict[str, str], key: tuple[str, str]) -> None:
            headers = {"X-Twilio-Signature": sign(url + path, form)}
            try:
                response = await client.post(url + path, data=form, headers=headers)
            except httpx.TransportError:
                return
            if response.is_success:
                acknowledged.append(key)
                if len(acknowledged) == KILL_AFTER:
                    server.send_signal(signal.SIGKILL)

        await asyncio.gather(*(send(*item) for item in burst_forms()))
    server.wait()

    assert KILL_AFTER <= len(acknowledged) < BURST, "the kill did not land mid-burst"
    restarted = start_server(db_path, port)
    try:
        async with httpx.AsyncClient(timeout=10) as client:
            await wait_healthy(client, url)
    finally:
        restarted.terminate()
        restarted.wait(timeout=10)

    with sqlite3.connect(db_path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        inbound = dict(conn.execute("SELECT sid, COUNT(*) FROM messages WHERE direction = 'in' GROUP BY sid"))
        events = dict(conn.execute("SELECT message_sid, COUNT(*) FROM status_events GROUP BY message_sid"))
    for kind, sid in acknowledged:
        assert (inbound if kind == "in" else events).get(sid) == 1, (kind, sid)
