"""`wa-inbox send` and `messages list --remote`: the real console script against the emulated Twilio.

The CLI runs in a subprocess while this event loop keeps serving the emulator and the receiver, and
shares their database, as it would share a running `wa-inbox serve`'s.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.support.cli import Run, run_cli
from tests.support.world import customer_writes, eventually, running_world
from wa_inbox.domain.policy import Draft
from wa_inbox.emulator.templates import BY_NAME
from wa_inbox.gateway.client import make_twilio_client
from wa_inbox.gateway.outbox import Outbox
from wa_inbox.testing import EmulatedInbox, emulated_inbox

ANA = "whatsapp:+5511987654321"
BEN = "whatsapp:+14155550123"
SID = re.compile(r"SM[0-9a-f]{32}")


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[EmulatedInbox]:
    async with running_world(tmp_path) as running:
        yield running


async def wa_inbox(world: EmulatedInbox, *args: str) -> Run:
    return await run_cli(world.settings, *args)


def one_sentence(run: Run) -> str:
    """The whole of stderr: one `wa-inbox: …` line, never a traceback."""
    (line,) = run.stderr.splitlines()
    assert line.startswith("wa-inbox: ")
    return line


async def test_template_by_name_with_a_variable(world: EmulatedInbox) -> None:
    run = await wa_inbox(
        world, "send", "--to", "+14155550123", "--template", "order_shipped", "--var", "1=Ava"
    )

    assert run.status == 0, run.stderr
    sid = run.stdout.strip()
    assert SID.fullmatch(sid)
    (sent,) = await world.emulator.sent()
    assert sent["outcome"]["sid"] == sid
    assert sent["params"]["ContentSid"] == BY_NAME["order_shipped"].sid
    assert json.loads(sent["params"]["ContentVariables"]) == {"1": "Ava"}
    stored = await world.store.get_message(sid)
    assert stored is not None and stored.content_sid == BY_NAME["order_shipped"].sid


async def test_session_text_to_a_customer_who_wrote(world: EmulatedInbox) -> None:
    await customer_writes(world, ANA, "Meu pedido?")

    run = await wa_inbox(world, "send", "--to", "+5511987654321", "--body", "Já verifico!")

    assert run.status == 0, run.stderr
    (sent,) = await world.emulator.sent()
    assert sent["params"]["Body"] == "Já verifico!"
    assert sent["outcome"]["sid"] == run.stdout.strip()


async def test_session_text_to_a_customer_who_never_wrote_is_refused_before_any_request(
    world: EmulatedInbox,
) -> None:
    run = await wa_inbox(world, "send", "--to", "+14155550123", "--body", "Hello")

    assert run.status == 2
    assert "has never written to you, so only an approved template can start the chat" in one_sentence(run)
    assert await world.emulator.sent() == []


async def test_twilio_refusing_the_message_exits_1_with_the_catalogue_sentence(world: EmulatedInbox) -> None:
    await world.emulator.fail_next(21211)

    run = await wa_inbox(world, "send", "--to", "+14155550123", "--template", "order_shipped")

    assert run.status == 1
    line = one_sentence(run)
    assert "Twilio refused the message: error 21211 — The 'To' number is not a valid phone number." in line
    assert run.stdout == ""


async def test_media_url_with_a_caption(world: EmulatedInbox) -> None:
    await customer_writes(world, ANA)
    photo = "https://cdn.example.com/box.jpg"

    run = await wa_inbox(
        world, "send", "--to", ANA, "--media", photo, "--body", "Sua caixa", "--output", "json"
    )

    assert run.status == 0, run.stderr
    record = json.loads(run.stdout)
    (sent,) = await world.emulator.sent()
    assert sent["params"]["MediaUrl"] == [photo]
    assert sent["params"]["Body"] == "Sua caixa"
    assert record["sid"] == sent["outcome"]["sid"]
    assert record["media"] == [{"url": photo, "content_type": ""}]


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--to", "12345", "--body", "Hi"], "has no country code"),
        (["--to", "+14155550123", "--media", "photos/box.jpg"], "no such local file"),
        (["--to", "+14155550123", "--media", "ftp://example.com/box.jpg"], "is not an http(s) URL"),
        (["--to", "+14155550123", "--body", "Hi", "--var", "1=Ava"], "use it with --template"),
        (["--to", "+14155550123", "--template", "order_shipped", "--var", "one=Ava"], "NUMBER=TEXT"),
        (["--to", "+14155550123", "--template", "order_shipped", "--body", "Hi"], "without --body"),
        (["--to", "+14155550123"], "Say what to send"),
        (["--to", "+14155550123", "--template", "no_such_template"], "no template named 'no_such_template'"),
        (["--to", "+14155550123", "--template", "track_order"], "is pending, not approved"),
    ],
)
async def test_what_cannot_be_sent_exits_2_without_a_request(
    world: EmulatedInbox, args: list[str], says: str
) -> None:
    run = await wa_inbox(world, "send", *args)

    assert run.status == 2
    assert says in one_sentence(run)
    assert await world.emulator.sent() == []


async def test_remote_listing_has_the_local_listings_keys(world: EmulatedInbox) -> None:
    await customer_writes(world, ANA, "Oi")
    sent = await wa_inbox(world, "send", "--to", ANA, "--body", "Olá!")
    assert sent.status == 0, sent.stderr

    remote = await wa_inbox(world, "messages", "list", "--remote", "--output", "json")
    local = await wa_inbox(world, "messages", "list", "--output", "json")

    assert remote.status == 0 and local.status == 0, remote.stderr + local.stderr
    records, local_records = json.loads(remote.stdout), json.loads(local.stdout)
    assert {r["sid"] for r in records} == set(world.emulator.world.messages)
    assert [set(r) for r in records] == [set(local_records[0])] * len(records)
    by_direction = {r["direction"]: r for r in records}
    assert by_direction["in"]["contact"] == by_direction["out"]["contact"] == ANA
    assert by_direction["in"]["body"] == "Oi" and by_direction["out"]["sid"] == sent.stdout.strip()
    assert by_direction["in"]["created_at"].endswith("Z")


async def test_remote_listing_filters_direction_here(world: EmulatedInbox) -> None:
    await customer_writes(world, ANA, "Oi")
    assert (await wa_inbox(world, "send", "--to", ANA, "--body", "Olá!")).status == 0

    run = await wa_inbox(world, "messages", "list", "--remote", "--direction", "in", "--output", "tsv")

    assert run.status == 0, run.stderr
    header, row = run.stdout.splitlines()
    assert header.split("\t")[:3] == ["sid", "direction", "contact"]
    assert row.split("\t")[1:3] == ["in", ANA]


async def test_send_now_sends_only_its_message_and_waits_for_another_senders(tmp_path: Path) -> None:
    async with emulated_inbox(tmp_path / "inbox.db", send=False, status_delay=(0.002, 0.01)) as world:
        client = make_twilio_client(world.settings)
        outbox = Outbox(world.settings, world.store, client)
        template = Draft(BEN, content_sid=BY_NAME["order_shipped"].sid)
        first, second = await outbox.submit(template), await outbox.submit(template)

        await outbox.send_now(second)
        (claimed_elsewhere,) = await world.store.claim_unsent(1)  # a `serve` on the same database
        waiting = asyncio.create_task(outbox.send_now(first))
        await asyncio.sleep(0.3)
        assert not waiting.done()
        await outbox.deliver(claimed_elsewhere)
        await asyncio.wait_for(waiting, 5)

        assert len(await world.emulator.sent()) == 2  # each sent once
        for message_id in (first, second):
            message = await eventually(lambda i=message_id: world.store.get_message_by_id(i), bool)
            assert message is not None and message.sid is not None
        await client.http_client.close()  # type: ignore[attr-defined]
