"""A scripted run of the whole inbox against the emulator, then `/metrics` scraped over HTTP: sends,
Twilio's refusals and 429s, the policy's refusals, webhooks of every verdict, media downloads and the
sender lease, each with the count the script made; and no customer data in any label."""

from __future__ import annotations

import contextlib
import re
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from tests.support.metrics import Scrape, scrape
from tests.support.receiver import sign, text_form
from tests.support.world import customer_writes, eventually, quick
from wa_inbox.config import ConfigError, Settings
from wa_inbox.domain.models import Message
from wa_inbox.domain.policy import Attachment, Draft
from wa_inbox.gateway.submission import Refused
from wa_inbox.store import MessageQuery
from wa_inbox.testing import EmulatedInbox, emulated_inbox

ANA = "whatsapp:+5511987654321"
BEN = "whatsapp:+14155550123"
CARLA = "whatsapp:+4915112345678"
JPEG = b"\xff\xd8\xff\xe0" + b"\0" * 200


@contextlib.asynccontextmanager
async def world_with(tmp_path: Path, **metrics: object) -> AsyncIterator[EmulatedInbox]:
    def settings(base: Settings) -> Settings:
        changed = quick(base)
        return changed.model_copy(update={"metrics": changed.metrics.model_copy(update=metrics)})

    async with emulated_inbox(
        tmp_path / "inbox.db", settings, status_delay=(0.002, 0.01), seed=7, media_delay_misses=1
    ) as world:
        yield world


async def settled(world: EmulatedInbox, message_id: int, *statuses: str) -> Message:
    message = await eventually(
        lambda: world.store.get_message_by_id(message_id), lambda m: m is not None and m.status in statuses
    )
    assert message is not None
    return message


async def taken(world: EmulatedInbox, message_id: int) -> None:
    """Until Twilio has taken the message (it has a SID)."""
    await eventually(
        lambda: world.store.get_message_by_id(message_id), lambda m: m is not None and m.sid is not None
    )


async def refused(world: EmulatedInbox, draft: Draft) -> str:
    assert world.outbox is not None
    with pytest.raises(Refused) as refusal:
        await world.outbox.submit(draft)
    return refusal.value.reason


async def post_webhook(
    client: httpx.AsyncClient, world: EmulatedInbox, form: dict[str, str], signed: bool = True
) -> int:
    url = world.receiver_url + world.settings.webhooks.inbound_path
    token = world.settings.webhook_auth_token
    assert token is not None
    headers = {"X-Twilio-Signature": sign(url, form, token.get_secret_value()) if signed else "bm90IGl0"}
    return (await client.post(url, data=form, headers=headers)).status_code


async def test_a_scripted_run_is_counted_as_it_happened(tmp_path: Path) -> None:
    async with world_with(tmp_path) as world, httpx.AsyncClient(timeout=10) as client:
        outbox = world.outbox
        assert outbox is not None
        url = world.receiver_url + "/metrics"

        await customer_writes(world, ANA, "Oi, meu pedido")
        replied = await outbox.submit(Draft(ANA, "Olá Ana"))
        await taken(world, replied)  # each failure below is for the next send: one send at a time
        await world.emulator.fail_next(20429, http_status=429)  # Twilio: too many requests, then fine
        after_429 = await outbox.submit(Draft(ANA, "Já verifiquei"))
        await taken(world, after_429)
        await world.emulator.fail_next(21211)  # Twilio refuses this one: invalid To
        refused_by_twilio = await outbox.submit(Draft(ANA, "Mais uma"))
        assert (await settled(world, refused_by_twilio, "failed")).error_code == 21211
        await customer_writes(world, CARLA, "STOP")  # opts out, and queues the one confirmation
        await world.emulator.customer_says(BEN, "foto", media=[(JPEG, "image/jpeg")])  # 404 once, then there

        reasons = [
            await refused(world, Draft(BEN.replace("0123", "0999"), "never wrote")),
            await refused(world, Draft(CARLA, "after STOP")),
            await refused(
                world, Draft(ANA, "file", (Attachment("https://x.example/a.exe", "application/x-dos"),))
            ),
        ]
        assert reasons == ["window", "opt_out", "media"]

        form = text_form("SM" + "7" * 32)
        codes = [
            await post_webhook(client, world, form),
            await post_webhook(client, world, form),  # Twilio's retry
            await post_webhook(client, world, text_form("SM" + "8" * 32), signed=False),
        ]
        assert codes == [200, 200, 403]

        for message_id in (replied, after_429):
            await settled(world, message_id, "read")

        def done(page: Scrape) -> bool:  # three messages read (4 callbacks each), the media downloaded
            return (
                page.value("wa_inbox_webhooks_total", kind="status", verdict="accepted") >= 12
                and page.value("wa_inbox_media_downloads_total", result="downloaded") == 1
            )

        page = await eventually(lambda: scrape(client, url), done)

        assert page.value("wa_inbox_webhooks_total", kind="inbound", verdict="accepted") == 4
        assert page.value("wa_inbox_webhooks_total", kind="inbound", verdict="duplicate") == 1
        assert page.value("wa_inbox_webhooks_total", kind="inbound", verdict="forbidden") == 1
        assert page.value("wa_inbox_webhooks_total", kind="status", verdict="accepted") == 12
        assert page.value("wa_inbox_message_statuses_total", status="read", error_code="none") == 3
        assert page.total("wa_inbox_message_statuses_total") == 12
        assert page.value("wa_inbox_sends_total", result="accepted", error_code="none") == 3
        assert page.value("wa_inbox_sends_total", result="failed", error_code="21211") == 1
        assert page.total("wa_inbox_sends_total") == 4
        assert page.value("wa_inbox_send_retries_total", reason="rate_limited") == 1
        assert page.total("wa_inbox_send_retries_total") == 1
        assert page.value("wa_inbox_twilio_requests_total", method="POST", http_status="429") == 1
        assert page.value("wa_inbox_twilio_requests_total", method="POST", http_status="400") == 1
        assert page.value("wa_inbox_twilio_requests_total", method="POST", http_status="201") == 3
        for reason in ("window", "opt_out", "media"):
            assert page.value("wa_inbox_refusals_total", reason=reason) == 1
        assert page.total("wa_inbox_refusals_total") == 3
        assert page.value("wa_inbox_media_downloads_total", result="retry") == 1
        assert page.value("wa_inbox_sender_lease_held") == 1
        assert page.value("wa_inbox_outbox_messages", state="pending") == 0
        assert page.value("wa_inbox_outbox_messages", state="sending") == 0
        assert page.value("wa_inbox_commit_batch_writes_count") >= 1


async def test_no_label_carries_an_address_a_sid_or_a_body(tmp_path: Path) -> None:
    async with world_with(tmp_path) as world, httpx.AsyncClient(timeout=10) as client:
        assert world.outbox is not None
        await customer_writes(world, ANA, "pedido 4471 não chegou")
        message_id = await world.outbox.submit(Draft(ANA, "Olá Ana, o pedido 4471 saiu hoje"))
        await taken(world, message_id)
        await world.emulator.fail_next(63016, via="callback")
        failing = await world.outbox.submit(Draft(ANA, "segunda mensagem"))
        await settled(world, message_id, "read")
        await settled(world, failing, "failed")
        with pytest.raises(Refused):
            await world.outbox.submit(Draft(BEN, "never wrote to us"))

        page = await scrape(client, world.receiver_url + "/metrics")
        text = (await client.get(world.receiver_url + "/metrics")).text
        sids = [m.sid for m in await world.store.list_messages(MessageQuery(limit=100))]

    assert len(sids) == 3 and all(sids)
    for secret in [*sids, ANA, BEN, "5511987654321", "4471", "pedido", "Ana"]:
        assert secret not in text, secret
    suspicious = re.compile(r"whatsapp:|\+?\d{8,}|(SM|MM|MG|AC|ME)[0-9a-f]{32}")
    assert not [value for value in page.label_values() if suspicious.search(value)]
    assert page.value("wa_inbox_message_statuses_total", status="read", error_code="none") == 1
    assert page.value("wa_inbox_message_statuses_total", status="failed", error_code="63016") == 1


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_metrics_on_a_port_of_their_own(tmp_path: Path) -> None:
    port = free_port()
    async with world_with(tmp_path, port=port) as world, httpx.AsyncClient(timeout=10) as client:
        await customer_writes(world, ANA)

        own = await scrape(client, f"http://127.0.0.1:{port}/metrics")
        on_receiver = await client.get(world.receiver_url + "/metrics")

    assert own.value("wa_inbox_webhooks_total", kind="inbound", verdict="accepted") == 1
    assert on_receiver.status_code == 404


async def test_a_metrics_port_in_use_is_one_sentence(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(ConfigError) as error:
            async with world_with(tmp_path, port=port):
                pass

    assert str(error.value).startswith(f"Cannot serve metrics on 127.0.0.1:{port} (")
    assert "[metrics] port" in str(error.value) and "\n" not in str(error.value)
