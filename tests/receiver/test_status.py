"""Status callbacks: kept once per (sid, status), and a tick never moves backwards."""

from __future__ import annotations

import itertools

import pytest

from tests.support.receiver import CUSTOMER, STATUS, Receiver, status_form


async def test_every_order_of_queued_sent_delivered_read_ends_at_read(receiver: Receiver) -> None:
    orders = list(itertools.permutations(["queued", "sent", "delivered", "read"]))
    for number, order in enumerate(orders):
        sid = f"SM{number:032x}"
        for status in order:
            assert (await receiver.post(STATUS, status_form(sid, status))).status_code == 204

    final = receiver.rows("SELECT status, COUNT(*) FROM messages GROUP BY status")
    assert final == [("read", len(orders))]
    assert receiver.rows("SELECT COUNT(*) FROM status_events") == [(4 * len(orders),)]


async def test_late_callback_never_moves_status_backwards(receiver: Receiver) -> None:
    sid = "SM" + "a" * 32
    for status in ("sent", "delivered", "sent", "queued"):
        await receiver.post(STATUS, status_form(sid, status))

    message = await receiver.store.get_message(sid)
    assert message is not None and message.status == "delivered"


async def test_failed_after_sent_keeps_error_code(receiver: Receiver) -> None:
    sid = "SM" + "b" * 32
    await receiver.post(STATUS, status_form(sid, "sent"))
    failure = status_form(
        sid,
        "failed",
        ErrorCode="63016",
        ErrorMessage="Failed to send freeform message because you are outside the allowed window.",
    )
    await receiver.post(STATUS, failure)
    await receiver.post(STATUS, status_form(sid, "delivered"))  # late, must not resurrect it

    message = await receiver.store.get_message(sid)
    assert message is not None
    assert (message.status, message.error_code) == ("failed", 63016)
    assert message.error_message is not None and "outside the allowed window" in message.error_message


async def test_callback_for_unknown_sid_creates_placeholder_outbound_row(receiver: Receiver) -> None:
    sid = "SM" + "c" * 32
    assert (await receiver.post(STATUS, status_form(sid, "delivered"))).status_code == 204

    message = await receiver.store.get_message(sid)
    assert message is not None
    assert (message.direction, message.status, message.to_addr) == ("out", "delivered", CUSTOMER)


async def test_error_21610_marks_contact_opted_out(receiver: Receiver) -> None:
    await receiver.post(STATUS, status_form("SM" + "d" * 32, "failed", ErrorCode="21610"))

    contact = await receiver.store.get_contact(CUSTOMER)
    assert contact is not None and contact.opted_out
    assert receiver.rows("SELECT action, source FROM opt_events") == [("stop", "twilio error 21610")]


async def test_duplicate_status_callback_is_acknowledged_and_changes_nothing(receiver: Receiver) -> None:
    sid = "SM" + "e" * 32
    responses = [await receiver.post(STATUS, status_form(sid, "sent")) for _ in range(3)]

    assert [r.status_code for r in responses] == [204, 204, 204]
    assert receiver.rows("SELECT COUNT(*) FROM status_events") == [(1,)]


@pytest.mark.parametrize("status", ["read", "failed", "undelivered", "canceled"])
async def test_terminal_status_is_never_left(receiver: Receiver, status: str) -> None:
    sid = "SM" + "f" * 32
    await receiver.post(STATUS, status_form(sid, status))
    for later in ("queued", "sent", "delivered", "read", "failed", "undelivered"):
        await receiver.post(STATUS, status_form(sid, later))

    message = await receiver.store.get_message(sid)
    assert message is not None and message.status == status
