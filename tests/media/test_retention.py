"""`[retention] media_days` with real files: old ones go from disk and are recorded as removed, new ones
stay, nothing outside the media folder is touched, and a removed file's link answers 410."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.media.test_links import attached, get
from tests.support.store import ANA, BUSINESS, Clock, record, sid
from tests.support.world import eventually, quick
from wa_inbox.config import Settings
from wa_inbox.domain.models import HostedFile, InboundMessage, MediaRef
from wa_inbox.retention import remove_old_media, removing_old_media
from wa_inbox.store import Store, open_store
from wa_inbox.testing import EmulatedInbox, emulated_inbox

T0 = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)
DAYS = 30


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[tuple[Store, Clock]]:
    clock = Clock(T0)
    opened = await open_store(tmp_path / "inbox.db", clock=clock)
    yield opened, clock
    await opened.close()


def file(path: Path, data: bytes = b"\xff\xd8 jpeg") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


async def downloaded(store: Store, n: int, path: Path) -> None:
    """Customer message `n` carries one image, which the downloader saved at `path` now."""
    media = (MediaRef(0, f"https://api.twilio.com/m/{n}", "image/jpeg"),)
    await store.ingest_inbound(InboundMessage(sid(n), ANA, BUSINESS, "", media=media), record(sid(n)))
    (job,) = await store.claim_media_downloads(1, timedelta(minutes=1))
    await store.record_media_downloaded(job.id, str(path), 7)


async def media_of(store: Store, n: int) -> MediaRef:
    message = await store.get_message(sid(n))
    assert message is not None
    return message.media[0]


async def test_old_files_go_and_are_recorded_new_ones_and_outsiders_stay(
    store: tuple[Store, Clock], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    db, clock = store
    folder, outside = tmp_path / "media", tmp_path / "elsewhere"
    old = file(folder / "inbound" / "1.jpg")
    stray = file(outside / "2.jpg")  # a recorded path outside the media folder
    secret = file(outside / "secret.jpg")
    link = folder / "inbound" / "3.jpg"
    link.symlink_to(secret)  # inside the folder, but it leads out
    hosted_old = file(folder / "outbound" / ("a" * 32))
    await downloaded(db, 1, old)
    await downloaded(db, 2, stray)
    await downloaded(db, 3, link)
    await downloaded(db, 4, folder / "inbound" / "4.jpg")  # recorded, but already gone from disk
    await db.add_hosted_file(HostedFile("a" * 32, str(hosted_old), "box.png", "image/png", 7))
    clock.advance(5 * 86_400)
    new = file(folder / "inbound" / "5.jpg")
    hosted_new = file(folder / "outbound" / ("b" * 32))
    await downloaded(db, 5, new)
    await db.add_hosted_file(HostedFile("b" * 32, str(hosted_new), "new.png", "image/png", 7))
    clock.advance((DAYS - 1) * 86_400)  # the first files are 34 days old, the others 29

    with caplog.at_level(logging.INFO, logger="wa_inbox.retention"):
        sweep = await remove_old_media(db, folder, DAYS, clock.now, batch=2)
        again = await remove_old_media(db, folder, DAYS, clock.now, batch=2)

    assert not old.exists() and not hosted_old.exists()
    assert new.exists() and hosted_new.exists()
    assert stray.read_bytes() == secret.read_bytes() == b"\xff\xd8 jpeg"  # never touched
    assert link.is_symlink()  # left alone: it leads out of the folder
    assert (sweep.removed, sorted(sweep.outside), sweep.failed) == (3, sorted([str(stray), str(link)]), [])
    assert (again.removed, len(again.outside)) == (0, 2)  # outsiders stay listed, and stay put

    removed = [await media_of(db, n) for n in (1, 4)]
    assert [(m.local_path, m.removed) for m in removed] == [(None, "removed after 30 days")] * 2
    kept = [await media_of(db, n) for n in (2, 3, 5)]
    assert [(m.local_path, m.removed) for m in kept] == [
        (str(stray), None),
        (str(link), None),
        (str(new), None),
    ]
    gone = await db.get_hosted_file("a" * 32)
    assert gone is not None and gone.removed == "removed after 30 days"
    still = await db.get_hosted_file("b" * 32)
    assert still is not None and still.removed is None
    assert await db.claim_media_downloads(10, timedelta(minutes=1)) == []  # nothing is fetched again

    lines = [r.getMessage() for r in caplog.records]
    assert "removed 3 media files older than 30 days" in lines
    refusals = [line for line in lines if line.startswith("left 2 expired")]
    assert len(refusals) == 2  # one line a run, however many files
    assert "not inside [media] storage_dir" in refusals[0] and "\n" not in refusals[0]


async def test_a_file_that_cannot_be_deleted_is_tried_again_next_run(
    store: tuple[Store, Clock], tmp_path: Path
) -> None:
    db, clock = store
    folder = tmp_path / "media"
    stuck = folder / "inbound" / "1.jpg"
    stuck.mkdir(parents=True)  # a folder where the file should be: unlink fails
    await downloaded(db, 1, stuck)
    clock.advance((DAYS + 1) * 86_400)

    sweep = await remove_old_media(db, folder, DAYS, clock.now)

    assert (sweep.removed, [path for path, _ in sweep.failed]) == (0, [str(stuck)])
    assert (await media_of(db, 1)).local_path == str(stuck)  # not recorded as removed
    stuck.rmdir()
    assert (await remove_old_media(db, folder, DAYS, clock.now)).removed == 1


def retention(days: int | None, folder: Path) -> Settings:
    settings = Settings.model_validate({"retention": {"media_days": days}, "media": {"storage_dir": folder}})
    assert settings.retention.media_days == days
    return settings


async def test_the_server_removes_old_media_at_once_and_keeps_it_when_media_days_is_unset(
    store: tuple[Store, Clock], tmp_path: Path
) -> None:
    db, clock = store
    folder = tmp_path / "media"
    old = file(folder / "inbound" / "1.jpg")
    await downloaded(db, 1, old)
    later = clock.now + timedelta(days=400)

    async with removing_old_media(retention(None, folder), db, clock=lambda: later):
        await asyncio.sleep(0.3)  # time enough for a run, were there one
    assert old.exists() and (await media_of(db, 1)).removed is None  # unset: kept forever

    async with removing_old_media(retention(DAYS, folder), db, clock=lambda: later):
        media = await eventually(lambda: media_of(db, 1), lambda m: m.removed is not None)
    assert not old.exists() and media.removed == "removed after 30 days"


async def test_a_removed_hosted_file_answers_410_with_a_sentence(
    world: EmulatedInbox, tmp_path: Path
) -> None:
    url = await attached(world, tmp_path)
    assert (await get(url)).status_code == 200
    folder = world.settings.media.storage_dir
    later = datetime.now(UTC) + timedelta(days=DAYS + 1)

    sweep = await remove_old_media(world.store, folder, DAYS, later)
    response = await get(url)

    assert sweep.removed == 1 and list((folder / "outbound").iterdir()) == []
    assert response.status_code == 410
    assert response.text == "This file was removed after 30 days."


async def test_serve_removes_expired_media_when_it_starts(tmp_path: Path) -> None:
    folder = tmp_path / "media"
    old = file(folder / "outbound" / ("c" * 32))
    seeded = await open_store(
        tmp_path / "inbox.db", clock=Clock(datetime.now(UTC) - timedelta(days=DAYS + 1))
    )
    await seeded.add_hosted_file(HostedFile("c" * 32, str(old), "old.png", "image/png", 7))
    await seeded.close()

    def changes(settings: Settings) -> Settings:
        settings = quick(settings)
        media = settings.media.model_copy(update={"storage_dir": folder})
        return settings.model_copy(update={"retention": retention(DAYS, folder).retention, "media": media})

    async with emulated_inbox(tmp_path / "inbox.db", changes) as world:
        hosted = await eventually(
            lambda: world.store.get_hosted_file("c" * 32), lambda h: h is not None and h.removed is not None
        )
    assert hosted is not None and not old.exists()
