"""/metrics on the receiver's real port, scraped after real signed webhooks: each verdict counted, the
ingest latency and commit sizes observed, the outbox's queue read from the database."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime
from pathlib import Path

from tests.support.metrics import Scrape, scrape
from tests.support.receiver import (
    CUSTOMER,
    INBOUND,
    STATUS,
    Receiver,
    running_receiver,
    sign,
    status_form,
    text_form,
)

SIDS = [f"SM{n:032x}" for n in range(1, 6)]


async def metrics(receiver: Receiver) -> Scrape:
    return await scrape(receiver.client, receiver.url + "/metrics")


def webhooks(page: Scrape, kind: str, verdict: str) -> float:
    return page.value("wa_inbox_webhooks_total", kind=kind, verdict=verdict)


async def test_each_verdict_is_counted_by_kind(receiver: Receiver) -> None:
    before = await metrics(receiver)
    assert before.types["wa_inbox_webhooks"] == "counter"

    for sid in SIDS[:3]:
        assert (await receiver.post(INBOUND, text_form(sid))).status_code == 200
    assert (await receiver.post(INBOUND, text_form(SIDS[0]))).status_code == 200  # Twilio's retry
    assert (await receiver.post(STATUS, status_form(SIDS[3], "delivered"))).status_code == 204
    forged = await receiver.post(STATUS, status_form(SIDS[4], "read"), signature="bm90IGl0")
    assert forged.status_code == 403
    unsigned = await receiver.post(INBOUND, text_form(SIDS[4]), signature=None)
    assert unsigned.status_code == 403
    malformed = await receiver.post(STATUS, status_form(SIDS[4], "read", ErrorCode="12x"))
    assert malformed.status_code == 400
    too_large = await receiver.post(INBOUND, text_form(SIDS[4], body="x" * 70_000))
    assert too_large.status_code == 413

    after = await metrics(receiver)
    assert webhooks(after, "inbound", "accepted") - webhooks(before, "inbound", "accepted") == 3
    assert webhooks(after, "inbound", "duplicate") == 1
    assert webhooks(after, "status", "accepted") == 1
    assert webhooks(after, "status", "forbidden") == webhooks(after, "inbound", "forbidden") == 1
    assert webhooks(after, "status", "malformed") == 1
    assert webhooks(after, "inbound", "too_large") == 1
    assert after.total("wa_inbox_webhooks_total") - before.total("wa_inbox_webhooks_total") == 9


async def test_new_status_callbacks_are_counted_by_status_and_error_code(receiver: Receiver) -> None:
    failed = status_form(SIDS[0], "failed", ErrorCode="63016")
    for form in (status_form(SIDS[0], "sent"), failed, failed, status_form(SIDS[1], "delivered")):
        assert (await receiver.post(STATUS, form)).status_code == 204

    page = await metrics(receiver)

    assert page.value("wa_inbox_message_statuses_total", status="failed", error_code="63016") == 1
    assert page.value("wa_inbox_message_statuses_total", status="sent", error_code="none") == 1
    assert page.value("wa_inbox_message_statuses_total", status="delivered", error_code="none") == 1
    assert page.total("wa_inbox_message_statuses_total") == 3  # the retry of `failed` is not news


async def test_latency_is_observed_for_acknowledged_webhooks_only(receiver: Receiver) -> None:
    for sid in SIDS[:2]:
        await receiver.post(INBOUND, text_form(sid))
    await receiver.post(STATUS, status_form(SIDS[2], "sent"))
    await receiver.post(STATUS, status_form(SIDS[2], "sent"))  # a duplicate is acknowledged too
    await receiver.post(STATUS, status_form(SIDS[3], "sent"), signature="bm90IGl0")  # refused: not timed

    page = await metrics(receiver)

    count = page.value("wa_inbox_webhook_ingest_seconds_count", kind="status")
    assert (page.value("wa_inbox_webhook_ingest_seconds_count", kind="inbound"), count) == (2, 2)
    assert page.value("wa_inbox_webhook_ingest_seconds_bucket", kind="status", le="+Inf") == 2
    assert 0 < page.value("wa_inbox_webhook_ingest_seconds_sum", kind="status") < 2 * 15  # Twilio's limit


async def test_every_write_is_counted_in_one_commit_batch(receiver: Receiver) -> None:
    before = await metrics(receiver)
    forms = [status_form(f"SM{n:032x}", "delivered") for n in range(100, 160)]

    answers = await asyncio.gather(*(receiver.post(STATUS, form) for form in forms))

    assert {answer.status_code for answer in answers} == {204}
    after = await metrics(receiver)
    writes = after.value("wa_inbox_commit_batch_writes_sum") - before.value(
        "wa_inbox_commit_batch_writes_sum"
    )
    commits = after.value("wa_inbox_commit_batch_writes_count") - before.value(
        "wa_inbox_commit_batch_writes_count"
    )
    assert writes == 60  # each callback one write, observed in this process
    assert 1 <= commits <= 60
    assert after.value("wa_inbox_commit_batch_writes_bucket", le="256.0") == after.value(
        "wa_inbox_commit_batch_writes_count"
    )


async def test_the_outbox_queue_is_read_from_the_database_when_scraped(receiver: Receiver) -> None:
    empty = await metrics(receiver)
    assert empty.value("wa_inbox_outbox_messages", state="pending") == 0
    assert empty.value("wa_inbox_outbox_oldest_pending_age_seconds") == 0

    stop = await receiver.post(INBOUND, text_form(SIDS[0], body="STOP"))  # queues the one confirmation
    assert stop.status_code == 200
    await asyncio.sleep(0.05)
    page = await metrics(receiver)

    assert page.value("wa_inbox_outbox_messages", state="pending") == 1
    assert page.value("wa_inbox_outbox_messages", state="sending") == 0
    (queued,) = receiver.rows("SELECT created_at FROM messages WHERE status = 'pending'")
    waited = (datetime.now(UTC) - datetime.fromisoformat(queued[0])).total_seconds()
    assert 0.04 <= page.value("wa_inbox_outbox_oldest_pending_age_seconds") <= waited


async def test_the_page_is_prometheus_text_with_no_customer_data(receiver: Receiver) -> None:
    await receiver.post(INBOUND, text_form(SIDS[0], body="Oi, meu pedido não chegou"))
    await receiver.post(STATUS, status_form(SIDS[0], "failed", ErrorCode="63016"))

    response = await receiver.client.get(receiver.url + "/metrics")
    page = await metrics(receiver)  # parsed by prometheus_client's own parser

    for family in (
        "wa_inbox_webhooks_total",
        "wa_inbox_webhook_ingest_seconds",
        "wa_inbox_sender_lease_held",
    ):
        assert f"# TYPE {family} " in response.text and f"# HELP {family} " in response.text
    assert "_created" not in response.text
    values = page.label_values()
    assert not [v for v in values if re.search(r"\+?\d{8,}|whatsapp:|[A-Z]{2}[0-9a-f]{32}|pedido", v)]
    assert CUSTOMER.removeprefix("whatsapp:") not in response.text and SIDS[0] not in response.text


async def test_metrics_can_be_off_or_elsewhere(tmp_path: Path) -> None:
    async with running_receiver(tmp_path / "off", metrics={"enabled": False}) as off:
        assert (await off.client.get(off.url + "/metrics")).status_code == 404
        signed = await off.post(INBOUND, text_form(SIDS[0]))
        assert signed.status_code == 200  # the webhooks are no different
    async with running_receiver(tmp_path / "elsewhere", metrics={"port": 9464}) as elsewhere:
        assert (await elsewhere.client.get(elsewhere.url + "/metrics")).status_code == 404


async def test_a_scrape_needs_no_signature_but_posting_to_it_is_not_a_webhook(receiver: Receiver) -> None:
    form = text_form(SIDS[0])
    url = receiver.url + "/metrics"
    posted = await receiver.client.post(url, data=form, headers={"X-Twilio-Signature": sign(url, form)})

    assert posted.status_code == 405
    assert (await metrics(receiver)).total("wa_inbox_webhooks_total") == 0


async def test_the_event_backlog_is_read_from_the_database_when_scraped(tmp_path: Path) -> None:
    stream = {"kafka_bootstrap": "127.0.0.1:9"}  # on, and no relay runs beside a bare receiver
    async with running_receiver(tmp_path, events=stream) as receiver:
        empty = await metrics(receiver)
        for sid in SIDS[:2]:
            assert (await receiver.post(INBOUND, text_form(sid))).status_code == 200
        await asyncio.sleep(0.05)
        page = await metrics(receiver)

    assert (empty.value("wa_inbox_event_backlog"), empty.value("wa_inbox_event_lag_seconds")) == (0, 0)
    assert page.value("wa_inbox_event_backlog") == 2
    assert page.value("wa_inbox_event_lag_seconds") >= 0.04
