"""Inbound media: a background worker downloads what customers send, after the webhook was acknowledged.

Twilio's media URLs take the account's credentials and redirect to a short-lived CDN URL. httpx
drops the Authorization header when a redirect leaves the origin, so the CDN never sees them.
Credentials go only to Twilio: https://*.twilio.com, or the origin of `[twilio] base_url` (the
emulator). A media URL anywhere else is refused and never fetched, so a webhook cannot point us at
another server (no SSRF). Media can lag behind its webhook: 404, 429 and 5xx are tried again with
exponential backoff, a bounded number of times; until then the message shows a placeholder.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import mimetypes
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import httpx

from wa_inbox.config import Settings
from wa_inbox.domain.models import MediaDownload
from wa_inbox.gateway.client import rest_credentials
from wa_inbox.store import Store

log = logging.getLogger(__name__)

POLL_SECONDS = 0.5
"""How often the worker looks for media that fell due (new, or waiting for a retry)."""
AT_ONCE = 4
"""Downloads in flight at a time."""
LEASE = timedelta(minutes=10)
"""A claimed item falls due again after this long if its worker died mid-download."""
MAX_BACKOFF = timedelta(minutes=5)
MAX_REDIRECTS = 3
_DEFAULT_PORTS = {"http": 80, "https": 443}


class _Retry(Exception):
    """Worth another try later: the media may not be there yet, or Twilio is struggling."""


class _GiveUp(Exception):
    """Another try would fail the same way."""


def trusted_media_url(url: str, base_url: str | None) -> bool:
    """May this URL have our credentials: is it Twilio's (https://*.twilio.com) or the base URL's origin?"""
    try:
        target = httpx.URL(url)
    except httpx.InvalidURL:
        return False
    if base_url is not None and _origin(target) == _origin(httpx.URL(base_url)):
        return True
    host = target.host
    return target.scheme == "https" and (host == "twilio.com" or host.endswith(".twilio.com"))


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    return url.scheme, url.host, url.port or _DEFAULT_PORTS.get(url.scheme)


@contextlib.asynccontextmanager
async def downloading_media(settings: Settings, store: Store) -> AsyncIterator[None]:
    """The download worker, while the block runs, if the account's credentials are set."""
    credentials = rest_credentials(settings)
    if credentials is None:
        yield
        return
    worker = asyncio.create_task(MediaDownloader(settings, store, credentials).run(), name="wa-inbox-media")
    try:
        yield
    finally:
        worker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await worker


class MediaDownloader:
    """Claims due inbound media from the store, downloads it into the data dir, records the outcome."""

    def __init__(self, settings: Settings, store: Store, credentials: tuple[str, str]) -> None:
        self._store = store
        self._auth = credentials
        self._base_url = settings.twilio.base_url
        self._media = settings.media
        self._folder = settings.media.storage_dir / "inbound"
        self._http = httpx.AsyncClient(
            follow_redirects=True,
            max_redirects=MAX_REDIRECTS,
            timeout=settings.outbox.request_timeout_seconds,
        )

    async def run(self) -> None:
        """The worker task: download whatever falls due, until cancelled."""
        try:
            while True:
                jobs = await self._store.claim_media_downloads(AT_ONCE, LEASE)
                outcomes = await asyncio.gather(*map(self.download, jobs), return_exceptions=True)
                for outcome in outcomes:
                    if isinstance(outcome, Exception):  # its lease runs out, and it is tried again
                        log.error("a media download failed unexpectedly", exc_info=outcome)
                if not jobs:
                    await asyncio.sleep(POLL_SECONDS)
        finally:
            await self._http.aclose()

    async def download(self, job: MediaDownload) -> None:
        """One try at one item; records the file, or why not and whether to try again."""
        what = f"media {job.index} of {job.message_sid}"
        if not trusted_media_url(job.url, self._base_url):
            log.warning("%s: %s is not a Twilio URL, so it is not fetched", what, job.url)
            error = "not downloaded: its URL is not on a Twilio host"
            await self._store.record_media_failed(job.id, error, None)
            return
        try:
            path, size = await self._fetch(job)
        except _GiveUp as error:
            log.warning("%s: %s; not tried again", what, error)
            await self._store.record_media_failed(job.id, str(error), None)
        except _Retry as error:
            retry = self._backoff(job.attempts)
            log.info("%s: %s (try %d)%s", what, error, job.attempts, "" if retry else "; giving up")
            await self._store.record_media_failed(job.id, str(error), retry)
        else:
            await self._store.record_media_downloaded(job.id, str(path), size)

    async def _fetch(self, job: MediaDownload) -> tuple[Path, int]:
        try:
            async with self._http.stream("GET", job.url, auth=self._auth) as response:
                data = await self._read(response)
        except httpx.TooManyRedirects:
            raise _GiveUp("too many redirects") from None
        except httpx.RequestError as error:
            raise _Retry(f"no answer ({type(error).__name__})") from None
        extension = mimetypes.guess_extension(job.content_type.partition(";")[0].strip()) or ""
        path = self._folder / f"{job.id}{extension}"
        await asyncio.to_thread(_write, path, data)
        return path, len(data)

    async def _read(self, response: httpx.Response) -> bytes:
        """The body, refused as soon as it proves larger than `max_doc_bytes`."""
        status, cap = response.status_code, self._media.max_doc_bytes
        if status in (404, 429) or status >= 500:
            raise _Retry(f"Twilio answered {status}")
        if status != 200:
            raise _GiveUp(f"Twilio answered {status}")
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > cap:
            raise _GiveUp(f"larger than the {cap}-byte limit")
        data = bytearray()
        async for chunk in response.aiter_bytes():
            data += chunk
            if len(data) > cap:
                raise _GiveUp(f"larger than the {cap}-byte limit")
        return bytes(data)

    def _backoff(self, attempts: int) -> timedelta | None:
        """How long until the next try, or None when `attempts` was the last one allowed."""
        if attempts >= self._media.download_attempts:
            return None
        first = timedelta(seconds=self._media.download_backoff_seconds)
        return min(MAX_BACKOFF, first * 2 ** (attempts - 1))


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.write_bytes(data)
