"""Customers' media: downloaded after the webhook, with credentials for Twilio only, retried while it lags."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

import pytest

from tests.support.media import (
    ACCOUNT_SID,
    ANA,
    AUTH_TOKEN,
    PNG,
    downloaded,
    ingest_with_media,
    media_of,
    media_world,
    recorder,
    twilio_redirecting_to,
)
from wa_inbox.config import Settings
from wa_inbox.gateway.media_download import downloading_media, trusted_media_url
from wa_inbox.store import open_store
from wa_inbox.testing import EmulatedInbox

BUSINESS = "whatsapp:+14155238886"


def attempts(world: EmulatedInbox, sid: str) -> int:
    with sqlite3.connect(world.settings.store.path) as conn:
        ((count,),) = conn.execute(
            "SELECT f.attempts FROM media f JOIN messages m ON m.id = f.message_id WHERE m.sid = ?", (sid,)
        )
        return int(count)


@pytest.mark.parametrize(
    ("url", "trusted"),
    [
        ("https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1", True),
        ("https://media.twilio.com/x", True),
        ("http://api.twilio.com/x", False),
        ("https://api.twilio.com.example.net/x", False),
        ("https://eviltwilio.com/x", False),
        ("https://mms.twiliocdn.com/x", False),
        ("http://127.0.0.1:8000/2010-04-01/x", True),
        ("http://127.0.0.1:8001/x", False),
        ("https://127.0.0.1:8000/x", False),
        ("http://localhost:8000/x", False),
        ("not a url at all", False),
    ],
)
def test_credentials_go_only_to_twilio_or_the_base_url(url: str, trusted: bool) -> None:
    assert trusted_media_url(url, "http://127.0.0.1:8000") is trusted


async def test_inbound_media_is_downloaded_with_auth_through_the_redirect(tmp_path: Path) -> None:
    async with media_world(tmp_path) as world:
        sid = await world.emulator.customer_says(ANA, "Foto da caixa", media=[(PNG, "image/png")])

        media = await media_of(world.store, sid)

    assert downloaded(media) == PNG
    assert media.local_path == str(world.settings.media.storage_dir / "inbound" / "1.png")


async def test_media_that_lags_behind_its_webhook_is_retried_after_a_404(tmp_path: Path) -> None:
    async with media_world(tmp_path) as world:
        await world.emulator.configure(media_delay_misses=1)
        sid = await world.emulator.customer_says(ANA, "Foto", media=[(PNG, "image/png")])
        placeholder = await world.store.get_message(sid)

        media = await media_of(world.store, sid)

    assert placeholder is not None and placeholder.media[0].local_path is None
    assert downloaded(media) == PNG
    assert attempts(world, sid) == 2


async def test_retries_are_bounded(tmp_path: Path) -> None:
    async with media_world(tmp_path, download_attempts=2) as world:
        await world.emulator.configure(media_delay_misses=100)
        sid = await world.emulator.customer_says(ANA, "Foto", media=[(PNG, "image/png")])

        media = await media_of(world.store, sid)

    assert (media.local_path, media.download_error) == (None, "Twilio answered 404")
    assert attempts(world, sid) == 2


async def test_media_larger_than_the_limit_is_not_kept(tmp_path: Path) -> None:
    async with media_world(tmp_path, max_doc_bytes=len(PNG) - 1) as world:
        sid = await world.emulator.customer_says(ANA, "Foto", media=[(PNG, "image/png")])

        media = await media_of(world.store, sid)

    assert media.local_path is None
    assert media.download_error == f"larger than the {len(PNG) - 1}-byte limit"
    assert attempts(world, sid) == 1
    assert not (world.settings.media.storage_dir / "inbound").exists()


async def test_media_on_a_foreign_host_is_never_fetched(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with recorder() as foreign, media_world(tmp_path) as world:
        with caplog.at_level(logging.WARNING, logger="wa_inbox.gateway.media_download"):
            sid = await ingest_with_media(world.store, f"{foreign.url}/2010-04-01/Media/ME1")

            media = await media_of(world.store, sid)

    assert foreign.requests == []
    assert media.local_path is None
    assert media.download_error == "not downloaded: its URL is not on a Twilio host"
    assert f"{foreign.url}/2010-04-01/Media/ME1 is not a Twilio URL" in caplog.text


async def test_credentials_are_not_sent_on_to_the_redirects_other_host(tmp_path: Path) -> None:
    async with recorder() as cdn, twilio_redirecting_to(f"{cdn.url}/cdn/token") as twilio_url:
        settings = Settings.model_validate(
            {
                "twilio": {"account_sid": ACCOUNT_SID, "auth_token": AUTH_TOKEN, "base_url": twilio_url},
                "media": {"storage_dir": tmp_path / "media"},
            }
        )
        store = await open_store(tmp_path / "inbox.db")
        try:
            async with downloading_media(settings, store):
                media = await media_of(store, await ingest_with_media(store, f"{twilio_url}/Media/ME1"))
        finally:
            await store.close()

    (request,) = cdn.requests
    assert "authorization" not in request
    assert downloaded(media) == PNG
