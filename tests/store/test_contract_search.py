"""Search on every backend, with what agents really type: operators and quotes of either backend's
query language are plain text, and words are found where SQLite's tokenizer finds them (inside an
e-mail address or a decimal number too, whatever the backend's own index makes of those)."""

from __future__ import annotations

import pytest

from tests.support.store import ANA, inbound
from wa_inbox.store import Store

URGENT = "Order #42 (urgent): isn't it ready? Write to ana@example.com, total 12.50"

SYNTAX_ONLY = ["&", "|", "!", "(", ")", ":*", "'", "''", "\\", '"', "*", "()", "& | ! ( ) :* '", "-", "^"]
"""Query syntax of tsquery and FTS5, with no word in it."""

WRAPPED = [
    "urgent:*",
    "(urgent)",
    "!urgent",
    "urgent & ready",
    "urgent | order",
    "'urgent'",
    '"urgent"',
    "isn't",
    "\\urgent",
    "#42",
    "ready?",
    "URGENT: order",
]
"""Words of `URGENT`, wrapped in the syntax: each finds it, operators read as plain characters."""


@pytest.fixture
async def urgent(store: Store) -> Store:
    await inbound(store, 1, URGENT)
    await inbound(store, 2, "nothing to see here", address=ANA)
    return store


@pytest.mark.parametrize("text", SYNTAX_ONLY)
async def test_query_syntax_alone_finds_nothing_and_never_raises(urgent: Store, text: str) -> None:
    assert await urgent.search(text) == []


@pytest.mark.parametrize("text", WRAPPED)
async def test_words_wrapped_in_query_syntax_are_found_as_words(urgent: Store, text: str) -> None:
    assert [m.body for m in await urgent.search(text)] == [URGENT]


@pytest.mark.parametrize("text", ["example", "example.com", "ana@example", "50", "12.5"])
async def test_words_inside_an_address_or_a_number_are_found(urgent: Store, text: str) -> None:
    assert [m.body for m in await urgent.search(text)] == [URGENT]


async def test_every_word_must_match_at_a_word_start(urgent: Store) -> None:
    assert await urgent.search("rgent") == []  # inside a word: no
    assert await urgent.search("urgent missing") == []  # every word, not any
    assert [m.body for m in await urgent.search("see her")] == ["nothing to see here"]
