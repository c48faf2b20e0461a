"""The part of a message around what the agent searched for, with the words found highlighted.

The store's search matches word prefixes, ignoring case and accents (FTS5's `unicode61` with
`remove_diacritics 2`); this finds the same words in the body to show where the hit is, since a
long message's start may say nothing about why it was found. Bounded: at most SCAN_CHARS of a body
are looked at, however long it is.
"""

from __future__ import annotations

import unicodedata

from rich.style import StyleType
from rich.text import Text

from wa_inbox.tui.format import sanitize

SCAN_CHARS = 4000
"""How much of a body is searched for the hit (a WhatsApp body holds at most 1,600 characters)."""


def fold(char: str) -> str:
    """A character as the search index sees it: lower case, accents dropped."""
    decomposed = unicodedata.normalize("NFKD", char.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def hits(text: str, words: list[str]) -> list[tuple[int, int]]:
    """(start, end) of each word of `text` that begins with one of `words` (folded)."""
    prefixes = ["".join(fold(c) for c in word) for word in words]
    found, start = [], None
    for index, char in enumerate(text + " "):
        if char.isalnum():
            start = index if start is None else start
            continue
        if start is not None:
            folded = "".join(fold(c) for c in text[start:index])
            if any(p and folded.startswith(p) for p in prefixes):
                found.append((start, index))
            start = None
    return found


def snippet(body: str, query: str, width: int, highlight: StyleType = "bold reverse") -> Text:
    """About `width` characters of `body` on one line, starting a little before the first hit."""
    text = sanitize(body[:SCAN_CHARS], SCAN_CHARS, one_line=True)
    found = hits(text, query.split())
    begin = max(0, found[0][0] - width // 4) if found else 0
    shown = text[begin : begin + width]
    result = Text(("…" if begin else "") + shown, end="")
    offset = 1 if begin else 0
    for start, end in found:
        if end > begin and start < begin + width:
            result.stylize(
                highlight, max(start, begin) - begin + offset, min(end, begin + width) - begin + offset
            )
    return result
