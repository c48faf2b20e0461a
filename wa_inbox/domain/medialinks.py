"""Signed, expiring links to the files wa-inbox serves for Twilio to fetch (outbound media).

Twilio fetches a MediaUrl anonymously, so the link is the credential: it names a stored file id
(never a path) and an expiry, with an HMAC-SHA256 over both and the file name. Without the key nobody
can forge a link, extend one, or point one at another file.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from datetime import datetime

ROUTE = "/media/{token}/{filename}"
_KEY_LABEL = b"wa-inbox media links v1"
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")
_MAX_STEM = 60
_TOKEN = re.compile(r"([0-9a-f]{32})\.([0-9]{1,12})\.([A-Za-z0-9_-]{43})")
"""`file id.expiry.mac`, as `link_path` writes them: a `secrets.token_hex(16)` id, a Unix time, and an
unpadded URL-safe base64 HMAC-SHA256. Anything else is refused before it is parsed or hashed."""
_FILENAME = re.compile(r"[A-Za-z0-9_.-]{1,128}")


class BadLink(Exception):
    """Forged, altered or malformed: answered as if nothing were there."""


class ExpiredLink(Exception):
    """Genuine but past its expiry: Twilio had its chance to fetch the file."""


def derive_key(secret: str) -> bytes:
    """A key for links alone, so that the secret it comes from never signs two kinds of thing."""
    return hmac.new(secret.encode(), _KEY_LABEL, hashlib.sha256).digest()


def link_path(key: bytes, file_id: str, filename: str, expires: datetime) -> str:
    """The path (below the public base URL) of a link to `file_id`, valid until `expires`."""
    stamp = int(expires.timestamp())
    token = f"{file_id}.{stamp}.{_mac(key, file_id, stamp, filename)}"
    return ROUTE.format(token=token, filename=filename)


def verify(key: bytes, token: str, filename: str, now: datetime) -> str:
    """The file id a genuine link names; `BadLink` or `ExpiredLink` otherwise."""
    parts = _TOKEN.fullmatch(token)
    if parts is None or not _FILENAME.fullmatch(filename):
        raise BadLink
    file_id, stamp, mac = parts.groups()
    expected = _mac(key, file_id, int(stamp), filename)
    if not hmac.compare_digest(mac.encode(), expected.encode()):
        raise BadLink
    if now.timestamp() >= int(stamp):
        raise ExpiredLink
    return file_id


def public_filename(name: str, extension: str) -> str:
    """A URL-safe file name ending in the sniffed type's extension (Twilio guesses types from it too)."""
    stem = _UNSAFE.sub("-", name.rpartition(".")[0] or name).strip("-")[:_MAX_STEM]
    return f"{stem or 'file'}.{extension}"


def _mac(key: bytes, file_id: str, stamp: int, filename: str) -> str:
    digest = hmac.new(key, f"{file_id}\n{stamp}\n{filename}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
