"""Media retention on every backend: which files are old enough, and what a removed one looks like."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.store.conftest import Backend
from tests.support.store import ANA, BUSINESS, Clock, record, sid
from wa_inbox.domain.models import HostedFile, InboundMessage, MediaFile, MediaFileKind, MediaRef
from wa_inbox.store import Store

DAY = 86_400.0
REASON = "removed after 30 days"


async def downloaded(store: Store, n: int, path: str) -> int:
    """Customer message `n` with one image, downloaded to `path` now; the media item's id."""
    media = (MediaRef(0, f"https://api.twilio.com/m/{n}", "image/jpeg"),)
    await store.ingest_inbound(InboundMessage(sid(n), ANA, BUSINESS, "", media=media), record(sid(n)))
    (job,) = await store.claim_media_downloads(10, timedelta(minutes=1))
    await store.record_media_downloaded(job.id, path, 100)
    return job.id


def hosted(n: int) -> HostedFile:
    return HostedFile(f"{n:032x}", f"/data/media/outbound/{n}", f"f{n}.png", "image/png", 10)


async def test_files_older_than_the_cutoff_are_listed_oldest_first_and_paged(backend: Backend) -> None:
    clock = Clock()
    store = await backend.open(clock)
    try:
        first = await downloaded(store, 1, "/data/media/inbound/1.jpg")
        await store.add_hosted_file(hosted(1))  # the same instant: ties go by kind
        clock.advance(DAY)
        second = await downloaded(store, 2, "/data/media/inbound/2.jpg")
        clock.advance(DAY)
        await downloaded(store, 3, "/data/media/inbound/3.jpg")  # newer than the cutoff
        await store.add_hosted_file(hosted(3))
        cutoff = clock.now - timedelta(seconds=1)

        everything = await store.expired_media(cutoff, 100)
        page_one = await store.expired_media(cutoff, 2)
        page_two = await store.expired_media(cutoff, 2, after=page_one[-1])
        page_three = await store.expired_media(cutoff, 2, after=page_two[-1])
    finally:
        await store.close()

    start = clock.now - timedelta(seconds=2 * DAY)
    assert everything == [
        MediaFile(MediaFileKind.HOSTED, hosted(1).id, hosted(1).path, start),
        MediaFile(MediaFileKind.INBOUND, str(first), "/data/media/inbound/1.jpg", start),
        MediaFile(MediaFileKind.INBOUND, str(second), "/data/media/inbound/2.jpg", start + timedelta(days=1)),
    ]
    assert page_one + page_two == everything and page_three == []


async def test_paging_orders_inbound_ids_as_numbers(backend: Backend) -> None:
    clock = Clock()
    store = await backend.open(clock)
    try:
        ids = [await downloaded(store, n, f"/data/media/inbound/{n}.jpg") for n in range(1, 12)]
        clock.advance(DAY)
        pages: list[list[MediaFile]] = [await store.expired_media(clock.now, 3)]
        while pages[-1]:
            pages.append(await store.expired_media(clock.now, 3, after=pages[-1][-1]))
    finally:
        await store.close()

    assert [int(f.key) for page in pages for f in page] == sorted(ids)  # 10 and 11 after 9, none twice
    assert [len(page) for page in pages] == [3, 3, 3, 2, 0]


async def test_a_removed_inbound_file_shows_why_and_is_never_downloaded_again(backend: Backend) -> None:
    clock = Clock()
    store = await backend.open(clock)
    try:
        media_id = await downloaded(store, 1, "/data/media/inbound/1.jpg")
        clock.advance(31 * DAY)
        (old,) = await store.expired_media(clock.now, 10)
        seq = await store.change_number()  # the download is behind it: only the removal is news
        assert await store.record_media_removed([old], REASON) == 1
        assert await store.record_media_removed([old], "again") == 0  # recorded already: left alone
        changed = await store.messages_changed_since(seq)
        listed = await store.expired_media(clock.now, 10)
        clock.advance(DAY)
        claimed = await store.claim_media_downloads(10, timedelta(minutes=1))
        message = await store.get_message(sid(1))
    finally:
        await store.close()

    assert [m.sid for m in changed] == [sid(1)]  # the thread redraws it
    assert listed == [] and claimed == []
    assert message is not None
    (media,) = message.media
    assert (media.local_path, media.removed, media.download_error, media.size_bytes) == (
        None,
        REASON,
        None,
        100,
    )
    assert (await backend.rows("SELECT removed_at IS NOT NULL FROM media WHERE id = ?", media_id)) == [(1,)]


async def test_a_removed_hosted_file_stays_recorded_as_removed(store: Store) -> None:
    await store.add_hosted_file(hosted(1))
    await store.add_hosted_file(hosted(2))
    files = await store.expired_media(tomorrow(), 10)
    gone = [f for f in files if f.key == hosted(1).id]

    assert await store.record_media_removed(gone, REASON) == 1

    assert await store.get_hosted_file(hosted(1).id) == HostedFile(
        **{**_fields(hosted(1)), "removed": REASON}
    )
    assert await store.get_hosted_file(hosted(2).id) == hosted(2)
    assert [f.key for f in await store.expired_media(tomorrow(), 10)] == [hosted(2).id]


async def test_recording_nothing_or_unknown_files_changes_nothing(store: Store) -> None:
    seq = store.committed_seq
    assert await store.record_media_removed([], REASON) == 0
    assert store.committed_seq == seq  # nothing was written

    unknown = [
        MediaFile(MediaFileKind.INBOUND, "999", "/x", tomorrow()),
        MediaFile(MediaFileKind.HOSTED, "0" * 32, "/y", tomorrow()),
    ]
    assert await store.record_media_removed(unknown, REASON) == 0
    assert await store.get_hosted_file("0" * 32) is None


def tomorrow() -> datetime:
    """A cutoff after every file a test stored with the real clock."""
    return datetime.now(UTC) + timedelta(days=1)


def _fields(file: HostedFile) -> dict[str, object]:
    return {name: getattr(file, name) for name in HostedFile.__dataclass_fields__}
