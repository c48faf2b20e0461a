"""Every request the product sends to Twilio has the shape Twilio's official OpenAPI spec documents."""

from __future__ import annotations

import time
from pathlib import Path

from tests.support.openapi import ACCOUNT, API, check, pointer
from tests.support.world import customer_writes, eventually, running_world
from wa_inbox.domain.policy import Attachment, Draft
from wa_inbox.emulator.templates import BY_NAME

ANA = "whatsapp:+5511987654321"
CREATE = pointer("paths", f"{ACCOUNT}/Messages.json", "post", "requestBody", "content")
CREATE_SCHEMA = CREATE + "/application~1x-www-form-urlencoded/schema"


async def test_text_media_and_template_creates_match_create_message_request(tmp_path: Path) -> None:
    async with running_world(tmp_path) as world:
        assert world.outbox is not None
        await customer_writes(world, ANA)
        photo = Attachment("https://cdn.example.com/a.jpg", "image/jpeg", 1000)
        template = BY_NAME["order_shipped"]
        for draft in (
            Draft(ANA, "text"),
            Draft(ANA, "caption", (photo,)),
            Draft(ANA, content_sid=template.sid, content_variables={"1": "Ana", "2": "#9"}),
        ):
            await world.outbox.submit(draft)
        sent = await eventually(lambda: world.emulator.sent(), lambda sent: len(sent) == 3)

    properties = API["paths"][f"{ACCOUNT}/Messages.json"]["post"]["requestBody"]["content"]
    declared = set(properties["application/x-www-form-urlencoded"]["schema"]["properties"])
    for entry in sent:
        assert set(entry["params"]) <= declared, set(entry["params"]) - declared
        check(API, CREATE_SCHEMA, entry["params"])


async def test_sends_never_exceed_the_rate_limit(tmp_path: Path) -> None:
    async with running_world(tmp_path, rate_per_second=50.0) as world:
        assert world.outbox is not None
        await customer_writes(world, ANA)
        started = time.monotonic()
        for n in range(30):
            await world.outbox.submit(Draft(ANA, f"message {n}"))
        await eventually(lambda: world.emulator.sent(), lambda sent: len(sent) == 30)
        elapsed = time.monotonic() - started

    burst = 5  # a tenth of a second's worth of tokens
    assert elapsed >= (30 - burst) / 50
