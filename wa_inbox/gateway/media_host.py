"""Attach a local file: check it, copy it into the data dir, and give Twilio a signed link to the copy.

Twilio fetches media from a public URL, anonymously. The receiver serves the copy at a signed,
expiring path (see `domain.medialinks`); the link is what is queued and sent as the MediaUrl. Every
check runs first, so a file the policy refuses is neither copied nor queued.
"""

from __future__ import annotations

import asyncio
import codecs
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path

import filetype

from wa_inbox.config import ConfigError, Settings
from wa_inbox.domain.clock import utc_now
from wa_inbox.domain.medialinks import link_path, public_filename
from wa_inbox.domain.models import HostedFile
from wa_inbox.domain.policy import Attachment, Draft, refusal
from wa_inbox.gateway.submission import Refused
from wa_inbox.store import Store

SNIFF_BYTES = 8192
"""What `filetype` reads of a file to recognise it."""
_MAGICLESS = {".vcf": "text/vcard", ".vcard": "text/vcard"}
"""Text formats with no signature to sniff: the only ones whose extension may name the type."""
_UNKNOWN = ("application/octet-stream", "bin")


@dataclass(frozen=True, slots=True)
class _LocalFile:
    name: str
    content_type: str
    extension: str
    size_bytes: int
    data: bytes
    """The whole file when it is within the limits; the start of it otherwise."""


class MediaHost:
    """Publishes agents' files through the receiver at `public_base_url`."""

    def __init__(self, settings: Settings, store: Store, clock: Callable[[], datetime] = utc_now) -> None:
        key, base_url = settings.media_link_key(), settings.twilio.public_base_url
        if key is None:
            raise ConfigError(
                f"{settings.webhooks.signature_auth_token_env} is not set: links to local files are "
                "signed with it; set it, or attach a public https:// URL instead."
            )
        if base_url is None:
            raise ConfigError(
                "PUBLIC_BASE_URL is not set: Twilio fetches local files from the receiver there; "
                "set it, or attach a public https:// URL instead."
            )
        self._key, self._base_url = key, base_url
        self._store, self._clock = store, clock
        self._limits = settings.limits()
        self._cap = max(self._limits.max_image_bytes, self._limits.max_doc_bytes)
        self._ttl = timedelta(seconds=settings.media.presign_ttl_seconds)
        self._folder = settings.media.storage_dir / "outbound"

    async def attach(self, draft: Draft, path: Path) -> Draft:
        """`draft` with `path` attached as a signed link; `Refused` (nothing copied) if it cannot go."""
        local = await asyncio.to_thread(_read, path, self._cap)
        checked = _with(draft, Attachment(str(path), local.content_type, local.size_bytes, local.name))
        contact = await self._store.get_contact(draft.address)
        if reason := refusal(checked, contact, self._clock(), self._limits):
            raise Refused(reason)
        hosted = await asyncio.to_thread(self._keep, local)
        await self._store.add_hosted_file(hosted)
        expires = self._clock() + self._ttl
        url = self._base_url + link_path(self._key, hosted.id, hosted.filename, expires)
        return _with(draft, Attachment(url, hosted.content_type, hosted.size_bytes, local.name))

    def _keep(self, local: _LocalFile) -> HostedFile:
        """Copy under a random id: links name the id, and the file no longer depends on the original."""
        self._folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        file_id = secrets.token_hex(16)
        path = self._folder / file_id
        path.write_bytes(local.data)
        filename = public_filename(local.name, local.extension)
        return HostedFile(file_id, str(path), filename, local.content_type, local.size_bytes)


def sniff(head: bytes, suffix: str) -> tuple[str, str]:
    """The MIME type and extension the content shows, never what the file's name claims.

    Formats without a signature (vCard) give the sniffer nothing: for those alone, and only when the
    sniffer finds nothing and the content is text, the extension names the type. Anything else it
    does not recognise is application/octet-stream, which the policy refuses.
    """
    kind = filetype.guess(head)
    if kind is not None:
        return kind.mime, kind.extension
    magicless = _MAGICLESS.get(suffix.lower())
    return (magicless, suffix.lower()[1:]) if magicless and _is_text(head) else _UNKNOWN


def _read(path: Path, cap: int) -> _LocalFile:
    """Read at most `cap` + 1 bytes: enough to know the file is too big, without holding it all."""
    try:
        with path.open("rb") as file:
            size = os.fstat(file.fileno()).st_size
            data = file.read(cap + 1)
    except OSError as error:
        raise Refused(f"Not sent: {path} cannot be read ({error.strerror}).") from None
    content_type, extension = sniff(data[:SNIFF_BYTES], path.suffix)
    whole = len(data) <= cap
    return _LocalFile(path.name, content_type, extension, len(data) if whole else max(size, len(data)), data)


def _is_text(head: bytes) -> bool:
    """UTF-8 without NULs; a character cut at the end of `head` does not count against it."""
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return False
    return b"\0" not in head


def _with(draft: Draft, item: Attachment) -> Draft:
    return replace(draft, media=(*draft.media, item))
