"""Inbound media: a background worker downloads what customers send, after the webhook was acknowledged.

Twilio's media URLs take the account's credentials and redirect to a short-lived CDN URL. Redirects
are followed here, hop by hop: each target must be on Twilio's media storage (https on *.twilio.com,
*.twiliocdn.com or Twilio's S3 hosts; with `[twilio] base_url`, the emulator's host too), and the
credentials go only to the origin first asked, so the CDN never sees them. Credentials go only to
Twilio: https://*.twilio.com, or the origin of `[twilio] base_url` (the emulator). A media URL
anywhere else is refused and never fetched, so a webhook cannot point us at another server (no
SSRF); a redirect anywhere else, to another scheme (`file://`) or to a host that is no host (a bad
IDNA name) is given up at once, never retried. Media can lag behind its webhook: 404, 429 and 5xx
are tried again with exponential backoff, a bounded number of times; until then the message shows a
placeholder.

httpx logs every request at INFO with its URL; a CDN URL carries its signature in the query string,
so the records of httpx's logger lose every query string (`hide_queries`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import mimetypes
import re
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import httpx

from wa_inbox.config import Settings
from wa_inbox.domain.models import MediaDownload
from wa_inbox.gateway.client import rest_credentials
from wa_inbox.store import Store

if TYPE_CHECKING:
    from wa_inbox.metrics import Metrics

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
_STORAGE_DOMAINS = ("twilio.com", "twiliocdn.com")
"""Twilio's own domains, and every host under them, may serve media over https."""
_STORAGE_HOSTS = frozenset({"s3-external-1.amazonaws.com", "s3.amazonaws.com"})
"""Where Twilio's unsecured media URLs redirect (its support article on media HTTP auth)."""
_HOST_NAME = re.compile(rb"[a-z0-9-]+(?:\.[a-z0-9-]+)+").fullmatch
"""A DNS name as sent (IDNA-encoded): letters, digits, hyphens, dots between labels; nothing escaped."""
_BAD_URL = (httpx.InvalidURL, UnicodeError, ValueError)
"""What parsing a URL raises: an IDNA error is a `UnicodeError`, not an `InvalidURL`."""


class _Retry(Exception):
    """Worth another try later: the media may not be there yet, or Twilio is struggling."""


class _GiveUp(Exception):
    """Another try would fail the same way."""


def trusted_media_url(url: str, base_url: str | None) -> bool:
    """May this URL have our credentials: is it Twilio's (https://*.twilio.com) or the base URL's origin?"""
    try:
        target = httpx.URL(url)
        if base_url is not None and _origin(target) == _origin(httpx.URL(base_url)):
            return True
        host = target.host
    except _BAD_URL:
        return False
    return target.scheme == "https" and (host == "twilio.com" or host.endswith(".twilio.com"))


def media_storage_url(url: httpx.URL, base_url: str | None) -> bool:
    """May a redirect lead here: Twilio's media storage over https, or (the emulator) the base URL's host."""
    try:
        host = url.host
        if base_url is not None and url.scheme in ("http", "https") and host == httpx.URL(base_url).host:
            return True
    except _BAD_URL:
        return False
    if url.scheme != "https" or not _HOST_NAME(url.raw_host):
        return False
    return host in _STORAGE_HOSTS or any(host == d or host.endswith("." + d) for d in _STORAGE_DOMAINS)


class _HideQueries(logging.Filter):
    """Drops the query string of every URL in httpx's records: a pre-signed URL's is its credential."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and any(isinstance(arg, httpx.URL) for arg in record.args):
            record.args = tuple(
                _without_query(arg) if isinstance(arg, httpx.URL) else arg for arg in record.args
            )
        return True


def _without_query(url: httpx.URL) -> httpx.URL:
    return url.copy_with(query=None) if url.query else url


hide_queries = _HideQueries()
logging.getLogger("httpx").addFilter(hide_queries)


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    return url.scheme, url.host, url.port or _DEFAULT_PORTS.get(url.scheme)


@contextlib.asynccontextmanager
async def downloading_media(
    settings: Settings, store: Store, metrics: Metrics | None = None
) -> AsyncIterator[None]:
    """The download worker, while the block runs, if the account's credentials are set."""
    credentials = rest_credentials(settings)
    if credentials is None:
        yield
        return
    downloader = MediaDownloader(settings, store, credentials, metrics)
    worker = asyncio.create_task(downloader.run(), name="wa-inbox-media")
    try:
        yield
    finally:
        worker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await worker


class MediaDownloader:
    """Claims due inbound media from the store, downloads it into the data dir, records the outcome."""

    def __init__(
        self, settings: Settings, store: Store, credentials: tuple[str, str], metrics: Metrics | None = None
    ) -> None:
        self._store = store
        self._metrics = metrics
        self._auth = credentials
        self._base_url = settings.twilio.base_url
        self._media = settings.media
        self._folder = settings.media.storage_dir / "inbound"
        self._http = httpx.AsyncClient(  # redirects are followed by `_fetch`, which checks each
            follow_redirects=False,
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
            self._count("refused")
            return
        try:
            path, size = await self._fetch(job)
        except _GiveUp as error:
            log.warning("%s: %s; not tried again", what, error)
            await self._store.record_media_failed(job.id, str(error), None)
            self._count("gave_up")
        except _Retry as error:
            retry = self._backoff(job.attempts)
            log.info("%s: %s (try %d)%s", what, error, job.attempts, "" if retry else "; giving up")
            await self._store.record_media_failed(job.id, str(error), retry)
            self._count("retry" if retry else "gave_up")
        else:
            await self._store.record_media_downloaded(job.id, str(path), size)
            self._count("downloaded")

    def _count(self, result: str) -> None:
        if self._metrics:
            self._metrics.media_downloaded(result)

    async def _fetch(self, job: MediaDownload) -> tuple[Path, int]:
        data = await self._follow(httpx.URL(job.url))
        extension = mimetypes.guess_extension(job.content_type.partition(";")[0].strip()) or ""
        path = self._folder / f"{job.id}{extension}"
        await asyncio.to_thread(_write, path, data)
        return path, len(data)

    async def _follow(self, first: httpx.URL) -> bytes:
        """GET `first`, and each redirect from there once its target is checked; the body at the end."""
        url = first
        for _ in range(MAX_REDIRECTS + 1):
            auth = self._auth if _origin(url) == _origin(first) else None  # as httpx: not to another origin
            try:
                async with self._http.stream("GET", url, auth=auth) as response:
                    if not response.is_redirect:
                        return await self._read(response)
                    location = response.headers.get("location", "")
            except httpx.RequestError as error:
                raise _Retry(f"no answer ({type(error).__name__})") from None
            except _BAD_URL:  # httpx parses a redirect's Location even when it does not follow it
                raise _GiveUp("redirected to an invalid URL") from None
            url = self._next_hop(url, location)
        raise _GiveUp("too many redirects")

    def _next_hop(self, url: httpx.URL, location: str) -> httpx.URL:
        try:
            target = url.join(location)
            where = f"{target.scheme}://{target.host}"
        except _BAD_URL:
            raise _GiveUp("redirected to an invalid URL") from None
        if not location or not media_storage_url(target, self._base_url):
            raise _GiveUp(f"redirected to {where}, which is not Twilio's media storage")
        return target

    async def _read(self, response: httpx.Response) -> bytes:
        """The body, refused as soon as it proves larger than `max_doc_bytes`."""
        status, cap = response.status_code, self._media.max_doc_bytes
        if status in (404, 429) or status >= 500:
            raise _Retry(f"Twilio answered {status}")
        if status != 200:
            raise _GiveUp(f"Twilio answered {status}")
        declared = response.headers.get("content-length", "")
        if declared.isascii() and declared.isdigit() and int(declared[:18]) > cap:
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
