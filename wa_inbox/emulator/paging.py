"""List paging in Twilio's two envelope styles: v2010 `*_page_uri` fields and Content API `meta`.

Next-page links carry a PageToken naming the last record seen, so paging stays stable while new
messages arrive, as Twilio's does.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar
from urllib.parse import urlencode

from wa_inbox.emulator.resources import TwilioError

T = TypeVar("T")
MAX_PAGE_SIZE = 1000


def _int_param(query: Mapping[str, str], key: str, default: int, low: int, high: int) -> int:
    raw = query.get(key)
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise TwilioError(20001, f"Invalid {key}: {raw}")
    return int(raw)


@dataclass(frozen=True)
class Page(Generic[T]):
    """One cut of a list: its records and the next page's token (None on the last page)."""

    items: list[T]
    next_token: str | None


@dataclass(frozen=True)
class PageRequest:
    """PageSize, Page and PageToken of a list request."""

    size: int
    number: int
    token: str | None

    @classmethod
    def from_query(cls, query: Mapping[str, str]) -> PageRequest:
        size = _int_param(query, "PageSize", 50, 1, MAX_PAGE_SIZE)
        number = _int_param(query, "Page", 0, 0, 10**9)
        return cls(size, number, query.get("PageToken") or None)

    def cut(self, items: Sequence[T], sid_of: Callable[[T], str]) -> Page[T]:
        start = self._offset(items, sid_of)
        chunk = list(items[start : start + self.size])
        more = start + self.size < len(items)
        return Page(chunk, f"PA{sid_of(chunk[-1])}" if more and chunk else None)

    def _offset(self, items: Sequence[T], sid_of: Callable[[T], str]) -> int:
        """Just after the token's record when it is still listed, else Page * PageSize."""
        if self.token and self.token.startswith("PA"):
            sids = [sid_of(item) for item in items]
            if self.token[2:] in sids:
                return sids.index(self.token[2:]) + 1
        return self.number * self.size

    def link(self, base: str, filters: list[tuple[str, str]], number: int, token: str | None) -> str:
        query = [*filters, ("PageSize", str(self.size)), ("Page", str(number))]
        return f"{base}?{urlencode(query + ([('PageToken', token)] if token else []))}"


def v2010_envelope(
    key: str,
    records: list[dict[str, Any]],
    path: str,
    filters: list[tuple[str, str]],
    req: PageRequest,
    page: Page[Any],
) -> dict[str, Any]:
    """The api.twilio.com list shape the SDK's Page reads (relative `*_page_uri` links)."""
    previous = req.link(path, filters, req.number - 1, None) if req.number > 0 else None
    following = req.link(path, filters, req.number + 1, page.next_token)
    start = req.number * req.size
    return {
        key: records,
        "end": start + max(len(records) - 1, 0),
        "first_page_uri": req.link(path, filters, 0, None),
        "next_page_uri": following if page.next_token else None,
        "page": req.number,
        "page_size": req.size,
        "previous_page_uri": previous,
        "start": start,
        "uri": req.link(path, filters, req.number, req.token),
    }


def content_envelope(
    records: list[dict[str, Any]], url: str, req: PageRequest, page: Page[Any]
) -> dict[str, Any]:
    """The content.twilio.com list shape: records under `contents`, absolute links in `meta`."""
    previous = req.link(url, [], req.number - 1, None) if req.number > 0 else None
    following = req.link(url, [], req.number + 1, page.next_token)
    return {
        "contents": records,
        "meta": {
            "page": req.number,
            "page_size": req.size,
            "first_page_url": req.link(url, [], 0, None),
            "previous_page_url": previous,
            "url": req.link(url, [], req.number, req.token),
            "next_page_url": following if page.next_token else None,
            "key": "contents",
        },
    }
