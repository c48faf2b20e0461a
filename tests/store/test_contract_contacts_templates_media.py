"""Contacts, opt-outs, templates and media, on every backend."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.store.conftest import Backend
from tests.support.store import ANA, BEN, BUSINESS, Clock, record, sid, we_send
from wa_inbox.domain.models import HostedFile, InboundMessage, MediaRef, StatusUpdate, WebhookKind
from wa_inbox.domain.optout import OptAction
from wa_inbox.domain.policy import Draft
from wa_inbox.domain.templates import TemplateInfo
from wa_inbox.store import Store

HX = "HX" + "b" * 32


async def named(store: Store, n: int, address: str, name: str | None) -> None:
    message = InboundMessage(sid(n), address, BUSINESS, "Oi", profile_name=name)
    await store.ingest_inbound(message, record(sid(n)))


async def test_contacts_are_found_by_name_or_by_the_digits_of_their_number(store: Store) -> None:
    await named(store, 1, ANA, "Ana Souza")
    await named(store, 2, BEN, "Benito 100%_ok")
    await named(store, 3, "whatsapp:+4915112345678", None)

    assert [c.address for c in await store.find_contacts("souza")] == [ANA]
    assert [c.address for c in await store.find_contacts("55 11 9876")] == [ANA]  # the digits typed
    assert [c.address for c in await store.find_contacts("4915")] == ["whatsapp:+4915112345678"]
    assert [c.address for c in await store.find_contacts("%_")] == [BEN]  # no wildcards
    assert [c.address for c in await store.find_contacts("o")] == [ANA, BEN]  # by name; nameless last
    assert [c.address for c in await store.find_contacts("o", limit=1)] == [ANA]
    assert await store.find_contacts("  ") == []
    assert await store.find_contacts("\x00") == []


async def test_an_opt_out_by_hand_is_recorded_once_and_undone_by_an_opt_in(store: Store) -> None:
    assert await store.set_opt_state(ANA, OptAction.STOP, "agent")  # an unknown number becomes a contact
    assert not await store.set_opt_state(ANA, OptAction.STOP, "agent again")  # unchanged

    out = await store.get_contact(ANA)
    assert out is not None and (out.opted_out, out.opted_out_source) == (True, "agent")
    assert out.opted_out_at is not None

    assert await store.set_opt_state(ANA, OptAction.START, "agent")
    back = await store.get_contact(ANA)
    assert back is not None and (back.opted_out, back.opted_out_at, back.opted_out_source) == (
        False,
        None,
        None,
    )


async def test_a_stop_keyword_opts_out_and_queues_its_confirmation_once(store: Store) -> None:
    stop = InboundMessage(sid(1), ANA, BUSINESS, "STOP")

    assert await store.ingest_inbound(stop, record(sid(1)), OptAction.STOP, "You are unsubscribed.")
    assert not await store.ingest_inbound(stop, record(sid(1)), OptAction.STOP, "You are unsubscribed.")

    contact = await store.get_contact(ANA)
    assert contact is not None and contact.opted_out and contact.opted_out_source == "keyword 'STOP'"
    (job,) = await store.claim_unsent(10)
    assert (job.address, job.body, job.opt_confirmation) == (ANA, "You are unsubscribed.", True)


async def test_templates_are_replaced_as_a_whole_and_listed_by_name(backend: Backend) -> None:
    clock = Clock(datetime(2026, 3, 1, 12, 0, tzinfo=UTC))
    store = await backend.open(clock)
    shipped = TemplateInfo(
        HX,
        "order_shipped",
        "en",
        "twilio/quick-reply",
        "Hi {{1}}",
        variables={"1": "Ana"},
        approval="approved",
        category="UTILITY",
        actions=("Track",),
        types={"twilio/quick-reply": {"body": "Hi {{1}}"}},
    )
    welcome = TemplateInfo("HX" + "c" * 32, "a_welcome", "pt_BR", "twilio/text", "Olá", rejection_reason="x")
    try:
        assert await store.list_templates() == []
        await store.replace_templates([shipped, welcome])
        listed = await store.list_templates()
        await store.replace_templates([welcome])
        after = await store.list_templates()
    finally:
        await store.close()

    assert [t.name for t in listed] == ["a_welcome", "order_shipped"]
    assert listed[1] == TemplateInfo(**{**_fields(shipped), "synced_at": clock.now})
    assert [t.sid for t in after] == [welcome.sid]  # deleted at Twilio: gone here too


def _fields(template: TemplateInfo) -> dict[str, object]:
    return {name: getattr(template, name) for name in TemplateInfo.__dataclass_fields__}


async def test_template_send_errors_are_the_failures_of_template_messages_in_a_range(store: Store) -> None:
    ours, session = "SM" + "a" * 32, "SM" + "c" * 32
    await we_send(store, Draft(ANA, content_sid=HX, content_variables={"1": "Ana"}, preview="Hi Ana"), ours)
    await we_send(store, Draft(ANA, "plain"), session)
    before = await store.change_number()  # the feed's position: a transaction id on PostgreSQL

    for message_sid in (ours, session):
        failed = StatusUpdate(message_sid, "failed", 63016, "Outside the window", to_addr=ANA)
        await store.ingest_status(failed, record(message_sid, WebhookKind.STATUS))
    after = await store.change_number()

    assert await store.template_send_errors(before, after) == [63016]
    assert await store.template_send_errors(after, after) == []


async def test_a_hosted_file_is_found_by_its_id(store: Store) -> None:
    hosted = HostedFile("f" * 32, "/data/media/out/x.png", "photo.png", "image/png", 1234)

    await store.add_hosted_file(hosted)

    assert await store.get_hosted_file(hosted.id) == hosted
    assert await store.get_hosted_file("0" * 32) is None


async def test_inbound_media_is_claimed_for_download_retried_and_recorded(backend: Backend) -> None:
    clock = Clock()
    store = await backend.open(clock)
    media = (
        MediaRef(0, "https://api.twilio.com/m/0", "image/jpeg"),
        MediaRef(1, "https://api.twilio.com/m/1", "audio/ogg"),
    )
    try:
        await store.ingest_inbound(InboundMessage(sid(1), ANA, BUSINESS, "", media=media), record(sid(1)))
        first, second = await store.claim_media_downloads(10, timedelta(minutes=1))
        assert await store.claim_media_downloads(10, timedelta(minutes=1)) == []  # both leased
        assert (first.message_sid, first.index, first.url, first.attempts) == (sid(1), 0, media[0].url, 1)

        await store.record_media_downloaded(first.id, "/data/media/in/0.jpg", 2048)
        await store.record_media_failed(second.id, "HTTP 500", timedelta(seconds=30))
        clock.advance(31)
        (again,) = await store.claim_media_downloads(10, timedelta(minutes=1))
        await store.record_media_failed(again.id, "HTTP 404", None)  # given up
        clock.advance(3600)
        assert await store.claim_media_downloads(10, timedelta(minutes=1)) == []
        message = await store.get_message(sid(1))
    finally:
        await store.close()

    assert (again.id, again.attempts) == (second.id, 2)
    assert message is not None
    assert [(m.local_path, m.size_bytes, m.download_error) for m in message.media] == [
        ("/data/media/in/0.jpg", 2048, None),
        (None, None, "HTTP 404"),
    ]


@pytest.mark.parametrize("seconds", [0.0, 59.0])
async def test_a_leased_download_is_not_claimed_again_before_its_lease_ends(
    backend: Backend, seconds: float
) -> None:
    clock = Clock()
    store = await backend.open(clock)
    media = (MediaRef(0, "https://api.twilio.com/m/0", "image/jpeg"),)
    try:
        await store.ingest_inbound(InboundMessage(sid(1), ANA, BUSINESS, "", media=media), record(sid(1)))
        (claimed,) = await store.claim_media_downloads(10, timedelta(minutes=1))
        clock.advance(seconds)
        assert await store.claim_media_downloads(10, timedelta(minutes=1)) == []
        clock.advance(61 - seconds)  # the downloader died: the item falls due again
        (again,) = await store.claim_media_downloads(10, timedelta(minutes=1))
    finally:
        await store.close()
    assert (again.id, again.attempts) == (claimed.id, 2)
