"""What a rejected request may cost: a sample of a few kilobytes in the raw log, at a bounded rate, with
the rest counted; never the whole body or headers, never a log line per forged request."""

from __future__ import annotations

import asyncio
import json
import logging

import pytest

from tests.support.receiver import INBOUND, STATUS, Receiver, status_form, text_form
from wa_inbox.receiver.rejections import OVERALL, PER_SOURCE, Budget, RejectionLog

SID = "SM" + "a" * 32
FORGED = "Zm9yZ2Vk"


def receiver_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "wa_inbox.receiver"]


async def test_a_forged_request_is_kept_as_a_sample_with_its_sizes(receiver: Receiver) -> None:
    body_value = "é" * 8_000  # 48,000 bytes once form-encoded
    headers = {"X-Twilio-Signature": FORGED, **{f"X-Junk-{n}": "j" * 1000 for n in range(12)}}
    form = {**status_form(SID, "sent"), "Body": body_value, "MessageSid": "SM" + "9" * 5000}

    response = await receiver.client.post(receiver.url + STATUS, data=form, headers=headers)

    assert response.status_code == 403
    ((body, stored_headers, sid, body_bytes, header_bytes),) = receiver.rows(
        "SELECT body, headers, message_sid, body_bytes, header_bytes FROM webhook_log"
    )
    assert len(body) == 1024 and body_bytes == int(response.request.headers["content-length"])
    assert len(stored_headers) < 2048 and header_bytes > 12_000
    kept = json.loads(stored_headers)
    assert "x-twilio-signature" not in kept and all(len(value) <= 256 for value in kept.values())
    assert sid == "SM" + "9" * 32


async def test_an_oversized_body_is_noted_with_its_declared_size_and_the_connection_closed(
    receiver: Receiver,
) -> None:
    response = await receiver.post(INBOUND, text_form(body="x" * 70_000))

    assert response.status_code == 413 and response.headers["connection"] == "close"
    assert receiver.rows("SELECT verdict, body, body_bytes FROM webhook_log") == [
        ("too_large", "", int(response.request.headers["content-length"]))
    ]


async def test_a_flood_from_one_source_keeps_a_burst_and_counts_the_rest(
    receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="wa_inbox.receiver")
    form = text_form(Body="x" * 2000)

    answers = await asyncio.gather(*(receiver.post(INBOUND, form, signature=FORGED) for _ in range(200)))

    assert [a.status_code for a in answers] == [403] * 200
    (stored,) = receiver.rows("SELECT COUNT(*) FROM webhook_log")[0]
    assert PER_SOURCE.burst <= stored <= PER_SOURCE.burst + 2  # the bucket refills one every ten seconds
    assert len(receiver_lines(caplog)) == stored
    assert all(len(line) < 1000 for line in receiver_lines(caplog))


async def test_a_rejections_log_line_cuts_what_a_forger_wrote(
    receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="wa_inbox.receiver")

    await receiver.post(INBOUND, text_form(From="whatsapp:+1" + "5" * 20_000), signature=FORGED)

    (line,) = receiver_lines(caplog)
    assert "from=whatsapp:+1" + "5" * 53 + "… " in line and len(line) < 700


async def test_accepted_webhooks_are_never_limited(receiver: Receiver) -> None:
    forms = [status_form(f"SM{n:032x}", "delivered") for n in range(60)]

    answers = await asyncio.gather(*(receiver.post(STATUS, form) for form in forms))

    assert {a.status_code for a in answers} == {204}
    assert receiver.rows("SELECT COUNT(*), COUNT(body_bytes) FROM webhook_log") == [(60, 0)]


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def test_each_source_and_reason_has_its_own_bucket() -> None:
    clock = Clock()
    gate = RejectionLog(per_source=Budget(3, 0.5), overall=Budget(100, 100), clock=clock)

    first = [gate.admit("10.0.0.1", "forged") for _ in range(5)]
    other_reason = [gate.admit("10.0.0.1", "missing") for _ in range(5)]
    other_source = [gate.admit("10.0.0.2", "forged") for _ in range(5)]
    clock.now += 2.0  # one token back
    later = [gate.admit("10.0.0.1", "forged") for _ in range(2)]

    assert first == other_reason == other_source == [True] * 3 + [False] * 2
    assert later == [True, False]
    assert gate.dropped_total == 7


async def test_many_sources_together_meet_the_overall_budget() -> None:
    clock = Clock()
    gate = RejectionLog(per_source=PER_SOURCE, overall=Budget(50, 1.0), clock=clock)

    admitted = sum(gate.admit(f"10.0.{n // 256}.{n % 256}", "forged") for n in range(10_000))
    clock.now += 10.0
    after_ten_seconds = sum(gate.admit(f"10.1.{n // 256}.{n % 256}", "forged") for n in range(10_000))

    assert (admitted, after_ten_seconds) == (50, 10)
    assert gate.dropped_total == 20_000 - 60
    assert len(gate._buckets) <= 4096


async def test_what_was_dropped_is_summarised_once_per_period(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="wa_inbox.receiver")
    gate = RejectionLog(per_source=Budget(1, 0.001), overall=OVERALL, summary_seconds=0.05)

    for n in range(500):
        gate.admit(f"10.0.0.{n % 7}", "X-Twilio-Signature does not match")
    await asyncio.sleep(0.2)

    (summary,) = receiver_lines(caplog)
    assert summary.startswith("493 rejected requests in the last 0 s were answered but not recorded")
    assert "71 from 10.0.0.0 (X-Twilio-Signature does not match)" in summary
    assert summary.endswith(", and 2 more sources or reasons")
    await asyncio.sleep(0.1)
    assert len(receiver_lines(caplog)) == 1  # nothing more dropped: no more summaries
