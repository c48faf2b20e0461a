"""How big the database is (`stats`) and giving free space back (`vacuum_step`), on every backend."""

from __future__ import annotations

import asyncio
import secrets
from datetime import UTC, datetime, timedelta

from tests.support.store import ANA, BEN, BUSINESS, record, sid, we_send
from wa_inbox.domain.events import status_event
from wa_inbox.domain.models import HostedFile, InboundMessage, MediaRef, StatusUpdate, WebhookKind
from wa_inbox.domain.optout import OptAction
from wa_inbox.domain.policy import Draft
from wa_inbox.store import Store
from wa_inbox.store.types import STATS_TABLES


async def test_stats_count_the_rows_of_each_table(store: Store) -> None:
    empty = await store.stats()
    media = (
        MediaRef(0, "https://api.twilio.com/m/0", "image/jpeg"),
        MediaRef(1, "https://api.twilio.com/m/1", "image/png"),
    )
    await store.ingest_inbound(InboundMessage(sid(1), ANA, BUSINESS, "", media=media), record(sid(1)))
    await store.ingest_inbound(InboundMessage(sid(2), BEN, BUSINESS, "Oi"), record(sid(2)))
    await we_send(store, Draft(ANA, "Hello"), sid(3))
    delivered = StatusUpdate(sid(3), "delivered", to_addr=ANA)
    event = status_event(delivered, {"MessageSid": [sid(3)]}, datetime.now(UTC))
    await store.ingest_status(delivered, record(sid(3), WebhookKind.STATUS), event)
    await store.set_opt_state(BEN, OptAction.STOP, "test")
    await store.save_draft(ANA, "unsent")
    await store.add_hosted_file(HostedFile("f" * 32, "/data/media/out/x.png", "x.png", "image/png", 1234))
    downloaded, _ = await store.claim_media_downloads(10, timedelta(minutes=1))
    await store.record_media_downloaded(downloaded.id, "/data/media/in/0.jpg", 2048)

    stats = await store.stats()

    assert list(empty.rows) == list(STATS_TABLES) and set(empty.rows.values()) == {0}
    assert (empty.media_bytes, empty.free_pages) == (0, 0)
    assert dict(stats.rows) == {
        "messages": 3,
        "contacts": 2,
        "conversations": 2,
        "media": 2,
        "status_events": 1,
        "webhook_log": 3,
        "opt_events": 1,
        "templates": 0,
        "drafts": 1,
        "media_files": 1,
        "events": 1,
    }
    assert stats.media_bytes == 2048 + 1234  # the media not downloaded yet counts nothing
    assert stats.page_size > 0 and stats.bytes_on_disk > 0
    assert stats.vacuums_online  # a new database


async def fill(store: Store, count: int, first: int = 0) -> None:
    """`count` messages whose raw requests are big (8 kB that no backend can compress): pruning them
    leaves space a vacuum can give back."""
    long_ago = datetime(2025, 1, 1, tzinfo=UTC)
    await asyncio.gather(
        *(
            store.ingest_inbound(
                InboundMessage(sid(n), ANA, BUSINESS, "hello"),
                record(sid(n), at=long_ago, body=secrets.token_hex(4000)),
            )
            for n in range(first, first + count)
        )
    )


async def vacuum_steps(store: Store) -> list[int]:
    """`vacuum_step` until it says nothing is left; what each step said."""
    steps = [await store.vacuum_step(50)]
    while steps[-1]:
        steps.append(await store.vacuum_step(50))
    return steps


async def test_vacuum_steps_end_with_no_free_page_while_writes_commit(store: Store) -> None:
    """The online vacuum's promise on every backend: steps until 0, each leaving no more than the one
    before, while writes go on and all commit. How many pages a backend frees step by step is its own
    (SQLite: `test_sqlite_stats_vacuum.py`; PostgreSQL reuses freed space itself: `stats.py`)."""
    await fill(store, 600)
    await store.prune_webhook_log(datetime(2025, 6, 1, tzinfo=UTC))

    steps, _ = await asyncio.gather(vacuum_steps(store), fill(store, 100, first=1000))
    after = await store.stats()

    assert steps == sorted(steps, reverse=True) and steps[-1] == 0
    assert after.free_pages == 0 and after.vacuums_online
    assert after.rows["messages"] == 700  # the writes during the vacuum all committed
    assert len(await store.thread_page(ANA, limit=1000)) == 700


async def test_a_full_vacuum_gives_the_pruned_space_back(store: Store) -> None:
    await fill(store, 600)
    await store.prune_webhook_log(datetime(2025, 6, 1, tzinfo=UTC))
    before = await store.stats()

    await store.vacuum_full()
    after = await store.stats()

    pruned = 600 * 8000
    assert after.bytes_on_disk < before.bytes_on_disk - pruned // 2
    assert after.free_pages == 0 and after.rows == before.rows
    assert len(await store.thread_page(ANA, limit=1000)) == 600
