"""`create_delay`: a message create spends a while on its way in, and exists only after it."""

from __future__ import annotations

import asyncio
import time

import httpx
from twilio.rest import Client

from tests.emulator.fakes import SENDER
from wa_inbox.emulator import Emulator


async def test_a_create_lands_only_after_its_delay(
    http: httpx.AsyncClient, emulator: Emulator, twilio: Client, customer_in_window: str
) -> None:
    response = await http.post("/_emulator/config", json={"create_delay": [0.2, 0.2]})
    assert response.json()["create_delay"] == [0.2, 0.2]

    started = time.monotonic()
    creating = asyncio.create_task(
        twilio.messages.create_async(to=customer_in_window, from_=SENDER, body="on its way")
    )
    await asyncio.sleep(0.1)
    assert await emulator.sent() == [] and not creating.done()  # in flight: Twilio has nothing yet

    message = await creating
    assert time.monotonic() - started >= 0.2
    [entry] = await emulator.sent()
    assert entry["outcome"]["sid"] == message.sid
