"""Forged, malformed and oversized requests: refused, logged with a reason, and nothing else stored."""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest

from tests.support.receiver import (
    INBOUND,
    STATUS,
    Receiver,
    make_settings,
    running_receiver,
    sign,
    status_form,
    text_form,
)
from wa_inbox.receiver.app import create_app
from wa_inbox.store.sqlite import SqliteStore


def stored_messages(receiver: Receiver) -> int:
    return receiver.rows("SELECT COUNT(*) FROM messages")[0][0]


def rejections(receiver: Receiver) -> list[tuple[str, str]]:
    return receiver.rows("SELECT verdict, reason FROM webhook_log ORDER BY id")


async def test_forged_signature_is_forbidden(receiver: Receiver) -> None:
    response = await receiver.post(INBOUND, text_form(), signature="bm90IGEgc2lnbmF0dXJlIGF0IGFsbA==")

    assert response.status_code == 403
    assert stored_messages(receiver) == 0
    assert rejections(receiver) == [("forbidden", "X-Twilio-Signature does not match")]


async def test_signature_for_another_url_is_forbidden(receiver: Receiver) -> None:
    response = await receiver.post(INBOUND, text_form(), signed_url="https://attacker.example/twilio/inbound")

    assert response.status_code == 403
    assert stored_messages(receiver) == 0


async def test_signature_of_a_tampered_body_is_forbidden(receiver: Receiver) -> None:
    form = text_form()
    signature = sign(receiver.url + INBOUND, form)
    response = await receiver.post(INBOUND, {**form, "Body": "tampered"}, signature=signature)

    assert response.status_code == 403
    assert stored_messages(receiver) == 0


async def test_missing_signature_is_forbidden(receiver: Receiver) -> None:
    response = await receiver.post(STATUS, status_form("SM" + "a" * 32, "sent"), signature=None)

    assert response.status_code == 403
    assert receiver.rows("SELECT COUNT(*) FROM status_events") == [(0,)]
    assert rejections(receiver) == [("forbidden", "X-Twilio-Signature header is missing")]


async def test_rejection_log_keeps_form_but_not_the_signature(receiver: Receiver) -> None:
    await receiver.post(INBOUND, text_form(), signature="Zm9yZ2Vk")

    ((body, headers),) = receiver.rows("SELECT body, headers FROM webhook_log")
    assert parse_qs(body)["MessageSid"] == [text_form()["MessageSid"]]
    assert "x-twilio-signature" not in {name.lower() for name in json.loads(headers)}


async def test_query_string_is_part_of_the_signed_url(receiver: Receiver) -> None:
    form = text_form()
    response = await receiver.client.post(
        receiver.url + INBOUND + "?tenant=7",
        data=form,
        headers={"X-Twilio-Signature": sign(receiver.url + INBOUND + "?tenant=7", form)},
    )
    assert response.status_code == 200

    forged = await receiver.client.post(
        receiver.url + INBOUND + "?tenant=8",
        data=form,
        headers={"X-Twilio-Signature": sign(receiver.url + INBOUND + "?tenant=7", form)},
    )
    assert forged.status_code == 403


async def test_missing_message_sid_is_malformed(receiver: Receiver) -> None:
    form = {k: v for k, v in text_form().items() if "Sid" not in k or k == "AccountSid"}

    response = await receiver.post(INBOUND, form)

    assert response.status_code == 400
    assert stored_messages(receiver) == 0
    assert rejections(receiver) == [("malformed", "MessageSid is missing")]


async def test_unparseable_from_is_malformed(receiver: Receiver) -> None:
    response = await receiver.post(INBOUND, text_form(From="whatsapp:not-a-number"))

    assert response.status_code == 400
    assert rejections(receiver) == [("malformed", "From is not a WhatsApp address")]


async def test_status_without_message_status_is_malformed(receiver: Receiver) -> None:
    form = {k: v for k, v in status_form("SM" + "b" * 32, "sent").items() if "Status" not in k}

    assert (await receiver.post(STATUS, form)).status_code == 400


async def test_oversized_body_is_refused(receiver: Receiver) -> None:
    response = await receiver.post(INBOUND, text_form(Body="x" * 70_000))

    assert response.status_code == 413
    assert stored_messages(receiver) == 0
    assert rejections(receiver)[0][0] == "too_large"


async def test_unsigned_mode_accepts_without_signature(tmp_path: Path) -> None:
    sections = {"webhooks": {"validate_signatures": False}, "dev": {"allow_unsigned_webhooks": True}}
    async with running_receiver(tmp_path, **sections) as receiver:
        response = await receiver.post(INBOUND, text_form(), signature=None)

        assert response.status_code == 200
        assert stored_messages(receiver) == 1


async def test_oversized_chunked_body_is_refused_while_reading(receiver: Receiver) -> None:
    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: the cap must hold as bytes arrive
        for _ in range(70):
            yield b"Body=" + b"x" * 1000 + b"&"

    response = await receiver.client.post(
        receiver.url + INBOUND,
        content=chunks(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )

    assert response.status_code == 413
    assert rejections(receiver) == [("too_large", "body is larger than 65536 bytes")]


async def test_other_methods_on_a_webhook_path_are_not_allowed(receiver: Receiver) -> None:
    response = await receiver.client.get(receiver.url + STATUS)

    assert response.status_code == 405
    assert response.headers["allow"] == "POST"


async def test_log_line_quotes_what_a_forger_wrote(
    receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="wa_inbox.receiver")

    await receiver.post(INBOUND, text_form(From="whatsapp:+1\nverdict=accepted"), signature="Zm9yZ2Vk")

    (line,) = [r.getMessage() for r in caplog.records if r.name == "wa_inbox.receiver"]
    assert "\n" not in line
    assert "verdict=forbidden" in line and "from='whatsapp:+1\\nverdict=accepted'" in line
    assert "reason='X-Twilio-Signature does not match'" in line


async def test_a_client_gone_before_its_body_is_logged_as_malformed(tmp_path: Path) -> None:
    """No socket can be made to hang up at exactly this point, so the ASGI messages are played by hand."""
    store = await SqliteStore.open(tmp_path / "inbox.db")
    app = create_app(make_settings("http://127.0.0.1", tmp_path / "inbox.db"), store)
    messages = [
        {"type": "http.request", "body": b"MessageSid=SM", "more_body": True},
        {"type": "http.disconnect"},
    ]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return messages.pop(0)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": INBOUND, "query_string": b"", "headers": []}
    try:
        await app(scope, receive, send)
    finally:
        await store.close()

    assert sent[0]["status"] == 400
    with sqlite3.connect(tmp_path / "inbox.db") as conn:
        logged = conn.execute("SELECT verdict, reason, body FROM webhook_log").fetchall()
    assert logged == [("malformed", "the client went away before sending the whole body", "")]
