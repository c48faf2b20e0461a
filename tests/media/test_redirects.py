"""Inbound media's redirects, hop by hop: only to Twilio's media storage, other schemes and bad hosts given
up at once (never retried), and no signed URL's query string in the log."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

import httpx
import pytest

from tests.support.media import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    PNG,
    downloaded,
    ingest_with_media,
    media_of,
    recorder,
    twilio_redirecting_to,
)
from wa_inbox.config import Settings
from wa_inbox.domain.models import MediaRef
from wa_inbox.gateway.media_download import downloading_media, media_storage_url, trusted_media_url
from wa_inbox.store import open_store


async def fetch_through(
    tmp_path: Path, twilio_url: str, media_url: str | None = None
) -> tuple[MediaRef, int]:
    """Let the download worker take one customer's media item from `twilio_url` (the base URL)."""
    settings = Settings.model_validate(
        {
            "twilio": {"account_sid": ACCOUNT_SID, "auth_token": AUTH_TOKEN, "base_url": twilio_url},
            "media": {"storage_dir": tmp_path / "media", "download_backoff_seconds": 0.01},
        }
    )
    store = await open_store(tmp_path / "inbox.db")
    try:
        async with downloading_media(settings, store):
            media = await media_of(
                store, await ingest_with_media(store, media_url or f"{twilio_url}/Media/ME1")
            )
    finally:
        await store.close()
    with sqlite3.connect(tmp_path / "inbox.db") as conn:
        ((tries,),) = conn.execute("SELECT attempts FROM media")
    return media, tries


@pytest.mark.parametrize(
    ("location", "error"),
    [
        ("file:///etc/passwd", "redirected to file://, which is not Twilio's media storage"),
        (
            "ftp://mms.twiliocdn.com/x",
            "redirected to ftp://mms.twiliocdn.com, which is not Twilio's media storage",
        ),
        (
            "http://mms.twiliocdn.com/x",
            "redirected to http://mms.twiliocdn.com, which is not Twilio's media storage",
        ),
        (
            "https://evil.example/x?sig=1",
            "redirected to https://evil.example, which is not Twilio's media storage",
        ),
        (
            "https://169.254.169.254/latest",
            "redirected to https://169.254.169.254, which is not Twilio's media storage",
        ),
        ("https://xn--ls8h.twiliocdn.com/x", "redirected to an invalid URL"),
        (  # Starlette escapes a Location: the host is then no DNS name
            "https://\u2603\u0300.twiliocdn.com/x",
            "redirected to https://%e2%98%83%cc%80.twiliocdn.com, which is not Twilio's media storage",
        ),
    ],
)
async def test_a_redirect_off_twilios_storage_is_given_up_at_once(
    tmp_path: Path, location: str, error: str
) -> None:
    async with twilio_redirecting_to(location) as twilio_url:
        media, tries = await fetch_through(tmp_path, twilio_url)

    assert (media.local_path, media.download_error, tries) == (None, error, 1)


async def test_a_redirect_to_another_local_name_is_not_followed(tmp_path: Path) -> None:
    async with recorder() as elsewhere:
        port = httpx.URL(elsewhere.url).port
        async with twilio_redirecting_to(f"http://localhost:{port}/x") as twilio_url:
            media, tries = await fetch_through(tmp_path, twilio_url)

    assert elsewhere.requests == []
    assert (media.download_error, tries) == (
        "redirected to http://localhost, which is not Twilio's media storage",
        1,
    )


async def test_a_redirect_loop_is_given_up(tmp_path: Path) -> None:
    async with twilio_redirecting_to("/Media/ME1") as twilio_url:
        media, tries = await fetch_through(tmp_path, twilio_url)

    assert (media.download_error, tries) == ("too many redirects", 1)


async def test_a_media_url_with_a_bad_idna_host_is_marked_failed_not_retried(tmp_path: Path) -> None:
    async with twilio_redirecting_to("/x") as twilio_url:
        media, tries = await fetch_through(
            tmp_path, twilio_url, "https://xn--ls8h.twilio.com/2010-04-01/Media/ME1"
        )

    assert (media.download_error, tries) == ("not downloaded: its URL is not on a Twilio host", 1)


async def test_httpx_logs_no_query_string_of_a_signed_url(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="httpx")
    async with (
        recorder() as cdn,
        twilio_redirecting_to(f"{cdn.url}/cdn/media?X-Amz-Signature=s3cr3t") as twilio_url,
    ):
        media, _ = await fetch_through(tmp_path, twilio_url)

    assert downloaded(media) == PNG
    lines = [r.getMessage() for r in caplog.records if r.name == "httpx"]
    assert any(f"{cdn.url}/cdn/media " in line for line in lines), lines
    assert "s3cr3t" not in caplog.text


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://mms.twiliocdn.com/AC1/abc", True),
        ("https://media.twiliocdn.com/x", True),
        ("https://api.twilio.com/2010-04-01/x", True),
        ("https://s3-external-1.amazonaws.com/media.twiliocdn.com/x", True),
        ("https://evil-twiliocdn.com/x", False),
        ("https://twiliocdn.com.evil.example/x", False),
        ("https://s3-external-1.amazonaws.com.evil.example/x", False),
        ("https://bucket.s3.amazonaws.com/x", False),
        ("http://mms.twiliocdn.com/x", False),
        ("http://127.0.0.1:9999/x", True),  # the base URL's host, as the emulator redirects to itself
        ("http://127.0.0.2/x", False),
    ],
)
def test_where_a_redirect_may_lead(url: str, allowed: bool) -> None:
    assert media_storage_url(httpx.URL(url), "http://127.0.0.1:8000") is allowed


def test_a_bad_idna_host_is_no_twilio_url() -> None:
    assert trusted_media_url("https://xn--ls8h.twilio.com/x", None) is False
    assert trusted_media_url("https://\u2603\u0300.twilio.com/x", None) is False
