"""The receiver's signed media links: the exact file for a genuine, fresh link; nothing for anything else."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from tests.support.media import ANA, PNG
from wa_inbox.domain.clock import utc_now
from wa_inbox.domain.medialinks import link_path
from wa_inbox.domain.policy import Draft
from wa_inbox.gateway.media_host import MediaHost
from wa_inbox.testing import EmulatedInbox

Tamper = Callable[[str, str, str, str], tuple[str, str]]
"""(file id, expiry, mac, file name) -> (token, file name) of an altered link."""

TAMPERINGS: dict[str, Tamper] = {
    "another file name": lambda i, s, m, n: (f"{i}.{s}.{m}", "other.png"),
    "a later expiry": lambda i, s, m, n: (f"{i}.{int(s) + 86_400}.{m}", n),
    "an altered signature": lambda i, s, m, n: (f"{i}.{s}.{'B' if m[0] == 'A' else 'A'}{m[1:]}", n),
    "another file id": lambda i, s, m, n: (f"{'0' * len(i)}.{s}.{m}", n),
    "no signature": lambda i, s, m, n: (f"{i}.{s}", n),
    "no token at all": lambda i, s, m, n: ("photo", n),
}


async def attached(
    world: EmulatedInbox, tmp_path: Path, name: str = "photo.png", clock: Callable[[], datetime] = utc_now
) -> str:
    """Attach a PNG saved as `name`; returns the link the outbox would send."""
    path = tmp_path / name
    path.write_bytes(PNG)
    draft = await MediaHost(world.settings, world.store, clock).attach(Draft(ANA, "Sua caixa"), path)
    return draft.media[0].url


async def get(url: str) -> httpx.Response:
    """Anonymously, as Twilio fetches a MediaUrl."""
    async with httpx.AsyncClient(timeout=10) as client:
        return await client.get(url)


async def raw_get(base_url: str, target: str) -> tuple[int, bytes]:
    """GET `target` byte for byte: an HTTP client would normalise `..` before sending it."""
    url = httpx.URL(base_url)
    reader, writer = await asyncio.open_connection(url.host, url.port)
    writer.write(f"GET {target} HTTP/1.1\r\nHost: {url.host}\r\nConnection: close\r\n\r\n".encode())
    await writer.drain()
    raw = await reader.read()
    writer.close()
    await writer.wait_closed()
    head, _, body = raw.partition(b"\r\n\r\n")
    return int(head.split()[1]), body


async def test_a_valid_link_serves_the_exact_bytes_with_their_type_and_length(
    world: EmulatedInbox, tmp_path: Path
) -> None:
    url = await attached(world, tmp_path, "box.jpg")  # named a JPEG, but the bytes are a PNG

    response = await get(url)

    assert url.startswith(world.receiver_url + "/media/") and url.endswith("/box.png")
    assert response.status_code == 200
    assert response.content == PNG
    assert response.headers["content-type"] == "image/png"
    assert response.headers["content-length"] == str(len(PNG))


async def test_an_expired_link_is_gone(world: EmulatedInbox, tmp_path: Path) -> None:
    ttl = timedelta(seconds=world.settings.media.presign_ttl_seconds)
    made_at = datetime.now(UTC) - ttl - timedelta(seconds=5)

    expired = await attached(world, tmp_path, clock=lambda: made_at)
    fresh = await attached(world, tmp_path)

    assert (await get(expired)).status_code == 410
    assert (await get(fresh)).status_code == 200


@pytest.mark.parametrize("tamper", TAMPERINGS.values(), ids=TAMPERINGS.keys())
async def test_a_tampered_link_is_not_found(world: EmulatedInbox, tmp_path: Path, tamper: Tamper) -> None:
    url = await attached(world, tmp_path)
    base, token, name = url.rsplit("/", 2)
    file_id, stamp, mac = token.split(".")
    token, name = tamper(file_id, stamp, mac, name)

    response = await get(f"{base}/{token}/{name}")

    assert (response.status_code, response.content) == (404, b"Not found.")
    assert (await get(url)).status_code == 200


async def test_a_genuine_link_to_a_file_never_hosted_is_not_found(world: EmulatedInbox) -> None:
    key = world.settings.media_link_key()
    assert key is not None
    path = link_path(key, "f" * 32, "inbox.db", datetime.now(UTC) + timedelta(hours=1))

    assert (await get(world.receiver_url + path)).status_code == 404


async def test_a_link_whose_copy_was_removed_is_not_found(world: EmulatedInbox, tmp_path: Path) -> None:
    url = await attached(world, tmp_path)
    for copy in (world.settings.media.storage_dir / "outbound").iterdir():
        copy.unlink()

    assert (await get(url)).status_code == 404


async def test_no_path_reaches_another_file_of_the_data_dir(world: EmulatedInbox, tmp_path: Path) -> None:
    url = await attached(world, tmp_path)
    token, name = url.rsplit("/", 2)[1:]
    targets = [
        f"/media/{token}/..%2F..%2Finbox.db",
        f"/media/{token}/../../inbox.db",
        f"/media/{token}/{name}/../../../inbox.db",
        f"/media/{token}/%2e%2e%2f%2e%2e%2finbox.db",
        "/media/../inbox.db",
        "/media/..%2F..%2Finbox.db/inbox.db",
        f"/media/{token}/..%2Foutbound%2F{name}",
    ]

    answers = [await raw_get(world.receiver_url, target) for target in targets]

    assert [status for status, _ in answers] == [404] * len(targets)
    assert not any(b"SQLite format 3" in body or PNG in body for _, body in answers)
    assert (await get(url)).content == PNG


@pytest.mark.parametrize(
    "component",
    [
        "{id}.{nines}.x/f",  # 5,000 digits of expiry: past Python's int-string limit
        "{id}.%C2%B2.{mac}/f",  # superscript two, which str.isdigit() takes for a digit
        "{id}.%D9%A1%D9%A2.{mac}/f",  # Arabic-Indic twelve
        "{id}.1.{mac}.{mac}/f",
        "{id}..{mac}/f",
        "{upper}.1.{mac}/f",
        "{id}.1.{mac}/{long_name}",
        "{id}.1.{mac}/%00.png",
        "{id}.1.{mac}/caf%C3%A9.png",
    ],
)
async def test_a_malformed_link_is_not_found_without_an_error(world: EmulatedInbox, component: str) -> None:
    target = "/media/" + component.format(
        id="a" * 32, upper="A" * 32, nines="9" * 5000, mac="A" * 43, long_name="n" * 5000
    )

    status, body = await raw_get(world.receiver_url, target)

    assert (status, body) == (404, b"Not found.")
