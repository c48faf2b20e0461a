"""A PostgreSQL database URL that never shows its password.

`WA_INBOX_DB`, `[store] path` and `--db` take a SQLite file path or a `postgresql://` URL. The URL may
carry a password, and the database's name is printed in many places (start-up logs, the demo's banner,
error sentences): `str()` of a `DatabaseUrl` is the URL with the password replaced by `***`, and only
`.conninfo` (given to the driver, never printed) holds it whole.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

SCHEMES = ("postgresql", "postgres")

_URL = re.compile(r"([a-zA-Z][a-zA-Z0-9+.-]+):/")


def scheme_of(text: str) -> str | None:
    """The URL scheme `text` starts with (`postgresql`), or None for a file path."""
    match = _URL.match(text)
    return match.group(1).lower() if match else None


class DatabaseUrl:
    """A `postgresql://` URL: `str()` shows it without its password, `conninfo` is for the driver."""

    __slots__ = ("_url",)

    def __init__(self, url: str) -> None:
        if scheme_of(url) not in SCHEMES:
            raise ValueError(f"not a PostgreSQL URL: it must start with postgresql://, not {url[:12]!r}")
        self._url = url

    @property
    def conninfo(self) -> str:
        """The whole URL, password included: for the driver only."""
        return self._url

    def __str__(self) -> str:
        parts = urlsplit(self._url)
        if parts.password is None:
            return self._url
        netloc = parts.netloc.rsplit("@", 1)
        user = netloc[0].split(":", 1)[0]
        return urlunsplit(parts._replace(netloc=f"{user}:***@{netloc[1]}"))

    def __repr__(self) -> str:
        return f"DatabaseUrl({str(self)!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, DatabaseUrl) and other._url == self._url

    def __hash__(self) -> int:
        return hash(self._url)
