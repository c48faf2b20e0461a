"""`wa-inbox serve` with `[log] format = "json"`, as a real process against the emulator: every line on
stderr is one JSON object, each webhook's line carries its fields, and each request to Twilio's REST
API carries its HTTP status, SIDs, error code and the `Twilio-Request-Id` the emulator answered with;
the auth token appears nowhere."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import signal
import sys
from pathlib import Path
from typing import Any

import httpx

from tests.support.receiver import wait_healthy
from tests.support.world import eventually
from wa_inbox.domain.policy import Draft
from wa_inbox.emulator.app import create_emulator
from wa_inbox.emulator.config import EmulatorConfig
from wa_inbox.emulator.emulator import Emulator
from wa_inbox.running.sockets import bind, serve_in_background
from wa_inbox.store import open_store

ANA = "whatsapp:+5511987654321"


def serve_env(tmp_path: Path, port: int, emulator_url: str, account: str, token: str) -> dict[str, str]:
    config = tmp_path / "wa-inbox.toml"
    config.write_text('[log]\nformat = "json"\n')
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "PYTHONPATH": os.environ.get("PYTHONPATH", ""),
        "TWILIO_ACCOUNT_SID": account,
        "TWILIO_AUTH_TOKEN": token,
        "TWILIO_MESSAGING_SERVICE_SID": "MG" + "d" * 32,
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "WA_INBOX_TWILIO_BASE_URL": emulator_url,
        "WA_INBOX_DB": str(tmp_path / "inbox.db"),
        "WA_INBOX_CONFIG": str(config),
    }


async def read_lines(stream: asyncio.StreamReader, into: list[str]) -> None:
    """Keep the pipe drained while the server runs, so that its logging never blocks."""
    while line := await stream.readline():
        into.append(line.decode())


async def test_serve_writes_json_lines_with_twilios_request_ids(tmp_path: Path) -> None:
    account, token = "AC" + secrets.token_hex(16), secrets.token_hex(16)
    emulator_sock, probe = bind(), bind()
    port = probe.getsockname()[1]
    probe.close()  # `serve` binds it itself
    emulator_url, serve_url = (f"http://127.0.0.1:{s}" for s in (emulator_sock.getsockname()[1], port))
    config = EmulatorConfig(
        account,
        token,
        public_url=emulator_url,
        inbound_url=serve_url + "/twilio/inbound",
        status_callback_url=serve_url + "/twilio/status",
        status_delay=(0.002, 0.01),
        advanced_opt_out=False,
    )
    app = create_emulator(config)
    emulator: Emulator = app.state.emulator
    lines: list[str] = []
    async with serve_in_background(app, emulator_sock), httpx.AsyncClient(timeout=10) as client:
        server = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "wa_inbox",
            "serve",
            "--port",
            str(port),
            env=serve_env(tmp_path, port, emulator_url, account, token),
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        assert server.stderr is not None
        reading = asyncio.create_task(read_lines(server.stderr, lines))
        try:
            await wait_healthy(client, serve_url)
            inbound_sid = await emulator.customer_says(ANA, "Oi, meu pedido")
            async with open_store(tmp_path / "inbox.db") as store:  # an attached inbox queues; serve sends
                await store.queue_draft(Draft(ANA, "Olá Ana"), "first")
                await eventually(emulator.sent, lambda sent: len(sent) == 1)
                await emulator.fail_next(21211)
                await store.queue_draft(Draft(ANA, "De novo"), "second")
                await eventually(emulator.sent, lambda sent: len(sent) == 2)
                await eventually(lambda: store.get_message(inbound_sid), lambda m: m is not None)
            await asyncio.sleep(0.3)  # the last lines of the turn
        finally:
            server.send_signal(signal.SIGTERM)
            await asyncio.wait_for(server.wait(), 30)
            await reading

    assert token not in "".join(lines)
    entries = [json.loads(line) for line in lines]  # every line is one JSON object
    assert entries and all({"time", "level", "logger", "message"} <= set(entry) for entry in entries)
    assert not [entry for entry in entries if "\x1b" in json.dumps(entry, ensure_ascii=False)]  # no colours
    webhook = one(entries, logger="wa_inbox.receiver", message_sid=inbound_sid)
    assert (webhook["kind"], webhook["verdict"], webhook["from"]) == ("inbound", "accepted", ANA)

    creates = [a for a in emulator.answered if a.method == "POST" and a.path.endswith("/Messages.json")]
    assert [a.status for a in creates] == [201, 400]
    created = one(entries, request_id=creates[0].request_id)
    assert (created["http_status"], created["method"], created["logger"]) == (
        201,
        "POST",
        "wa_inbox.gateway.transport",
    )
    first = await _sent_sid(emulator)
    assert created["message_sid"] == first and created["status"] in ("accepted", "queued")
    refused = one(entries, request_id=creates[1].request_id)
    assert (refused["http_status"], refused["error_code"]) == (400, 21211)
    assert refused["request_id"].startswith("RQ") and len(refused["request_id"]) == 34
    template_sync = [a for a in emulator.answered if a.method == "GET" and "/v1/Content" in a.path]
    assert template_sync and one(entries, request_id=template_sync[0].request_id)["http_status"] == 200


def one(entries: list[dict[str, Any]], **fields: object) -> dict[str, Any]:
    found = [e for e in entries if all(e.get(key) == value for key, value in fields.items())]
    assert len(found) == 1, (fields, found)
    return found[0]


async def _sent_sid(emulator: Emulator) -> str:
    (first, _) = await emulator.sent()
    sid = first["outcome"]["sid"]
    assert isinstance(sid, str)
    return sid
