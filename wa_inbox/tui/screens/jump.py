"""Go to a conversation by name or number (ctrl+g): the command palette, searching the conversations.

Names come from customers, so each is shown as plain text (the palette's own highlighter would read
markup in it), cut to a bounded length before the fuzzy matcher, whose cost grows with the candidate.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from textual.command import CommandPalette, DiscoveryHit, Hit, Hits, Provider
from textual.content import Content
from textual.style import Style

from wa_inbox.domain.fuzzy import is_subsequence
from wa_inbox.domain.models import Conversation
from wa_inbox.tui.format import display_name, sanitize

if TYPE_CHECKING:
    from wa_inbox.tui.screens.inbox import InboxScreen

NAME_CHARS = 40
MOST_HITS = 50


def jump_palette(inbox: InboxScreen) -> CommandPalette:
    """A palette over the inbox's conversations; choosing one opens it."""

    class Conversations(Provider):
        async def discover(self) -> Hits:
            for row in inbox.conversations[:MOST_HITS]:
                yield DiscoveryHit(_label(row), _opener(inbox, row), text=_candidate(row))

        async def search(self, query: str) -> Hits:
            matcher = self.matcher(query)
            rows = inbox.conversations
            found = 0
            for row in rows:
                candidate = _candidate(row)
                if not is_subsequence(query, candidate) or not (score := matcher.match(candidate)):
                    continue
                _, offsets = matcher.fuzzy_search.match(matcher.query, candidate)
                yield Hit(score, _label(row, offsets, matcher.match_style), _opener(inbox, row), candidate)
                found += 1
                if found == MOST_HITS:
                    return

    return CommandPalette(providers=[Conversations], placeholder="Go to a conversation: name or number…")


def _candidate(row: Conversation) -> str:
    number = row.contact.address.removeprefix("whatsapp:")
    return f"{sanitize(display_name(row.contact), NAME_CHARS, one_line=True)}  {number}"


def _label(row: Conversation, offsets: Sequence[int] = (), style: Style | None = None) -> Content:
    """The candidate as text, never markup, with the matched characters marked."""
    content = Content(_candidate(row))
    if style is None:
        return content
    for offset in offsets:
        content = content.stylize(style, offset, offset + 1)
    return content


def _opener(inbox: InboxScreen, row: Conversation) -> Callable[[], None]:
    address = row.contact.address
    return lambda: inbox.open(address)
