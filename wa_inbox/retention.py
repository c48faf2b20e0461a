"""Retention: the server deletes raw webhook log rows past `[retention] webhook_log_days`, media
files past `[retention] media_days`, and events published more than `[events] retention_days` ago,
hourly and once at start.

Only the raw requests go. What dedupes Twilio's retries stays with the data it protects: messages keep
their SIDs and status events their (SID, status) pairs, so a retry of a webhook whose raw row is gone
is still answered as the duplicate it is.

A media file goes from disk, and the store records that it went (so the thread says "removed after N
days", the downloader never fetches it again, and its link answers 410), a page of `MEDIA_BATCH` files
per commit. Only files inside `[media] storage_dir` are ever deleted: a recorded path elsewhere, or one
that leads out through a symlink, is left alone and reported in one bounded log line per run. A file
already gone is recorded as removed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from wa_inbox.config import Settings
from wa_inbox.domain.models import MediaFile
from wa_inbox.store import Store

log = logging.getLogger(__name__)

EVERY_SECONDS = 3600.0
MEDIA_BATCH = 500
"""Media files removed per commit: other writes wait for one page at a time, never for the whole job."""
LOGGED_PATH_CHARS = 200


@contextlib.asynccontextmanager
async def pruning_webhook_log(
    settings: Settings,
    store: Store,
    every_seconds: float = EVERY_SECONDS,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> AsyncIterator[None]:
    """Prune now, then every `every_seconds`, while the block runs."""
    keep = timedelta(days=settings.retention.webhook_log_days)
    task = asyncio.create_task(_prune(store, keep, every_seconds, clock), name="wa-inbox-retention")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _prune(store: Store, keep: timedelta, every_seconds: float, clock: Callable[[], datetime]) -> None:
    while True:
        try:
            removed = await store.prune_webhook_log(clock() - keep)
        except Exception as error:  # a busy or failing database: the next round tries again
            log.warning("the raw webhook log was not pruned (%s: %s)", type(error).__name__, error)
        else:
            if removed:
                log.info("removed %d raw webhook log rows older than %d days", removed, keep.days)
        await asyncio.sleep(every_seconds)


@contextlib.asynccontextmanager
async def pruning_published_events(
    settings: Settings,
    store: Store,
    every_seconds: float = EVERY_SECONDS,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> AsyncIterator[None]:
    """Delete events published more than `[events] retention_days` ago, now and then every
    `every_seconds`, while the block runs. Events not yet published are never deleted. It runs with
    the stream off too: a database that once published keeps no published rows forever."""
    keep = timedelta(days=settings.events.retention_days)
    task = asyncio.create_task(
        _prune_events(store, keep, every_seconds, clock), name="wa-inbox-events-retention"
    )
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _prune_events(
    store: Store, keep: timedelta, every_seconds: float, clock: Callable[[], datetime]
) -> None:
    while True:
        try:
            removed = await store.prune_events(clock() - keep)
        except Exception as error:  # a busy or failing database: the next round tries again
            log.warning("published events were not pruned (%s: %s)", type(error).__name__, error)
        else:
            if removed:
                log.info("removed %d events published more than %d days ago", removed, keep.days)
        await asyncio.sleep(every_seconds)


@contextlib.asynccontextmanager
async def removing_old_media(
    settings: Settings,
    store: Store,
    every_seconds: float = EVERY_SECONDS,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> AsyncIterator[None]:
    """Remove media older than `[retention] media_days` now, then every `every_seconds`, while the block
    runs; nothing when it is unset (media is kept forever)."""
    days = settings.retention.media_days
    if days is None:
        yield
        return
    folder = settings.media.storage_dir
    task = asyncio.create_task(
        _remove_media(store, folder, days, every_seconds, clock), name="wa-inbox-media-retention"
    )
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _remove_media(
    store: Store, folder: Path, days: int, every_seconds: float, clock: Callable[[], datetime]
) -> None:
    while True:
        try:
            await remove_old_media(store, folder, days, clock())
        except Exception as error:  # a busy or failing database: the next round tries again
            log.warning("old media files were not removed (%s: %s)", type(error).__name__, error)
        await asyncio.sleep(every_seconds)


@dataclass
class MediaSweep:
    """What one run did: files removed (or found already gone), left alone, or failing to go."""

    removed: int = 0
    outside: list[str] = field(default_factory=list)
    """Paths not inside the media folder (or leading out of it): never deleted."""
    failed: list[tuple[str, str]] = field(default_factory=list)
    """(path, why) of files that could not be deleted: tried again next run."""


async def remove_old_media(
    store: Store, folder: Path, days: int, now: datetime, batch: int = MEDIA_BATCH
) -> MediaSweep:
    """Delete every media file stored more than `days` days before `now` from inside `folder`, and
    record each as removed, a page of `batch` per commit; what was done, also logged."""
    cutoff, reason = now - timedelta(days=days), f"removed after {days} days"
    root = Path(await asyncio.to_thread(os.path.realpath, folder))
    sweep = MediaSweep()
    after: MediaFile | None = None
    while page := await store.expired_media(cutoff, batch, after):
        after = page[-1]
        gone = await asyncio.to_thread(_delete, root, page, sweep)
        await store.record_media_removed(gone, reason)
        sweep.removed += len(gone)
    _report(sweep, root, days)
    return sweep


def _delete(root: Path, files: Sequence[MediaFile], sweep: MediaSweep) -> list[MediaFile]:
    """Delete each file that is inside `root`; those now gone (deleted here or before)."""
    gone = []
    for file in files:
        target = _inside(root, file.path)
        if target is None:
            sweep.outside.append(file.path)
            continue
        try:
            target.unlink()
        except FileNotFoundError:
            pass  # removed by hand, or by a run that stopped before recording it: record it now
        except OSError as error:
            sweep.failed.append((file.path, error.strerror or type(error).__name__))
            continue
        gone.append(file)
    return gone


def _inside(root: Path, recorded: str) -> Path | None:
    """The path to unlink for `recorded`, when it is a file inside `root`; None otherwise.

    Its folder is resolved (symlinks followed) and must be inside `root`; the name itself, when a
    symlink, must lead inside `root` too. Unlinking the name removes a symlink, never its target.
    """
    path = Path(recorded)
    if not path.is_absolute() or path.name in ("", ".", ".."):
        return None
    parent = Path(os.path.realpath(path.parent))
    target = parent / path.name
    if not parent.is_relative_to(root) or not Path(os.path.realpath(target)).is_relative_to(root):
        return None
    return target


def _report(sweep: MediaSweep, root: Path, days: int) -> None:
    if sweep.removed:
        log.info("removed %d media files older than %d days", sweep.removed, days)
    if sweep.outside:
        log.warning(
            "left %d expired media files alone: they are not inside [media] storage_dir %s (the first: %s)",
            len(sweep.outside),
            _short(str(root)),
            _short(sweep.outside[0]),
        )
    if sweep.failed:
        path, why = sweep.failed[0]
        log.warning(
            "could not remove %d expired media files, tried again next hour (the first: %s: %s)",
            len(sweep.failed),
            _short(path),
            why,
        )


def _short(path: str) -> str:
    """A path for one log line: escaped (no control characters) and cut."""
    shown = ascii(path)
    return shown if len(shown) <= LOGGED_PATH_CHARS else shown[: LOGGED_PATH_CHARS - 1] + "…"
