"""Sending a local file: sniffed and checked first, then served to Twilio through a signed link."""

from __future__ import annotations

import io
import sqlite3
import zipfile
from pathlib import Path

import httpx
import pytest

from tests.support.cli import run_cli
from tests.support.media import ANA, PNG
from tests.support.world import eventually
from wa_inbox.domain.policy import Draft
from wa_inbox.gateway.media_host import MediaHost, sniff
from wa_inbox.gateway.submission import Refused
from wa_inbox.testing import EmulatedInbox

VCARD = b"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Ana Silva\r\nTEL:+5511987654321\r\nEND:VCARD\r\n"
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< >>\n%%EOF\n"
ELF = b"\x7fELF\x02\x01\x01\x00" + bytes(56)
BIG_PNG = PNG + bytes(6_000_000)


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as writer:
        writer.writestr("notes.txt", "hello")
    return buffer.getvalue()


ZIP = _zip()


def copies(world: EmulatedInbox) -> list[Path]:
    folder = world.settings.media.storage_dir / "outbound"
    return sorted(folder.iterdir()) if folder.exists() else []


def queued(world: EmulatedInbox) -> int:
    with sqlite3.connect(world.settings.store.path) as conn:
        ((count,),) = conn.execute("SELECT COUNT(*) FROM messages WHERE direction = 'out'")
        return int(count)


@pytest.mark.parametrize(
    ("head", "suffix", "expected"),
    [
        (PNG, ".png", "image/png"),
        (PNG, ".pdf", "image/png"),
        (PDF, ".jpg", "application/pdf"),
        (ELF, ".pdf", "application/x-executable"),
        (ZIP, ".docx", "application/zip"),
        (VCARD, ".vcf", "text/vcard"),
        (VCARD, ".txt", "application/octet-stream"),
        (b"\x00\x01\x02\xff binary", ".vcf", "application/octet-stream"),
        (b"", ".png", "application/octet-stream"),
    ],
    ids=[
        "png",
        "png named .pdf",
        "pdf named .jpg",
        "executable named .pdf",
        "zip named .docx",
        "vcard",
        "vcard named .txt",
        "binary named .vcf",
        "empty",
    ],
)
def test_the_type_comes_from_the_content_not_the_name(head: bytes, suffix: str, expected: str) -> None:
    assert sniff(head, suffix)[0] == expected


async def test_a_local_image_reaches_twilio_as_a_link_that_serves_it(
    world: EmulatedInbox, tmp_path: Path
) -> None:
    photo = tmp_path / "caixa.png"
    photo.write_bytes(PNG)
    assert world.outbox is not None

    draft = await MediaHost(world.settings, world.store).attach(Draft(ANA, "Sua caixa"), photo)
    await world.outbox.submit(draft)

    (sent,) = await eventually(world.emulator.sent, lambda sent: len(sent) == 1)
    (url,) = sent["params"]["MediaUrl"]
    assert url.startswith(world.receiver_url + "/media/")
    async with httpx.AsyncClient(timeout=10) as anonymous:
        fetched = await anonymous.get(url)
    assert (fetched.status_code, fetched.content) == (200, PNG)
    assert fetched.headers["content-type"] == "image/png"
    assert sent["outcome"]["status"] == 201


async def test_a_vcard_is_sent_as_text_vcard(world: EmulatedInbox, tmp_path: Path) -> None:
    card = tmp_path / "ana.vcf"
    card.write_bytes(VCARD)

    draft = await MediaHost(world.settings, world.store).attach(Draft(ANA), card)

    assert draft.media[0].content_type == "text/vcard"
    assert draft.media[0].url.endswith("/ana.vcf")


@pytest.mark.parametrize(
    ("name", "content", "says"),
    [
        ("big.png", BIG_PNG, "is 6.0 MB and WhatsApp's limit for images is 5.2 MB"),
        ("big.pdf", PDF + bytes(17_000_000), "is 17.0 MB and WhatsApp's limit for files is 16.8 MB"),
        ("invoice.pdf", ELF, "is application/x-executable, a type WhatsApp does not take"),
        ("photo.jpg", b"<html><body>hi</body></html>", "is application/octet-stream, a type"),
    ],
    ids=["oversize image", "oversize document", "executable named .pdf", "unrecognised content"],
)
async def test_oversize_and_disallowed_files_are_refused_before_anything_is_copied_or_queued(
    world: EmulatedInbox, tmp_path: Path, name: str, content: bytes, says: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)

    with pytest.raises(Refused, match=says):
        await MediaHost(world.settings, world.store).attach(Draft(ANA), path)

    assert copies(world) == []
    assert await world.emulator.sent() == []
    assert queued(world) == 0


async def test_the_cli_sends_a_local_file(world: EmulatedInbox, tmp_path: Path) -> None:
    photo = tmp_path / "caixa.png"
    photo.write_bytes(PNG)

    run = await run_cli(world.settings, "send", "--to", ANA, "--media", str(photo), "--body", "Sua caixa")

    assert run.status == 0, run.stderr
    (sent,) = await world.emulator.sent()
    assert sent["outcome"]["sid"] == run.stdout.strip()
    async with httpx.AsyncClient(timeout=10) as anonymous:
        fetched = await anonymous.get(sent["params"]["MediaUrl"][0])
    assert fetched.content == PNG


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (BIG_PNG, "WhatsApp's limit for images is 5.2 MB"),
        (ZIP, "is application/zip, a type WhatsApp does not take"),
    ],
    ids=["oversize image", "zip named .png"],
)
async def test_the_cli_refuses_oversize_and_disallowed_files_with_a_sentence(
    world: EmulatedInbox, tmp_path: Path, content: bytes, says: str
) -> None:
    path = tmp_path / "caixa.png"
    path.write_bytes(content)

    run = await run_cli(world.settings, "send", "--to", ANA, "--media", str(path))

    assert run.status == 2
    assert run.stderr.startswith("wa-inbox: Not sent: caixa.png is ") and run.stderr.count("\n") == 1
    assert says in run.stderr
    assert await world.emulator.sent() == []
    assert queued(world) == 0
    assert not list((tmp_path / "xdg-data").rglob("outbound/*"))
