"""How outside strings, dates and bubble extras read on screen: the plain functions of tui/format.py."""

from __future__ import annotations

import pytest
from rich.text import Text

from wa_inbox.tui.format import PLAIN_LIMIT, plain, sanitize

HOSTILE = ["[/x]", "[@click=app.quit]x[/]", "[b]", "[", "]", "[[", "a[b", "[/]", "[bold red]x", "\\[x]"]


@pytest.mark.parametrize("text", HOSTILE)
def test_markup_is_kept_as_text(text: str) -> None:
    shown = plain(text)
    assert isinstance(shown, Text)
    assert shown.plain == text
    assert shown.spans == []


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("\x1b[31mred", "␛[31mred"),
        ("\x1b]8;;http://x\x07link", "␛]8;;http://x␇link"),
        ("bell\x07", "bell␇"),
        ("nul\x00", "nul␀"),
        ("del\x7f", "del␡"),
        ("csi\x9b31m", "csi␚31m"),
        ("nel\x85", "nel␚"),
        ("rtl\u202eevil", "rtl␚evil"),
        ("isolate\u2067x\u2069", "isolate␚x␚"),
        ("zero\u200bwidth", "zero␚width"),
        ("bom\ufeff", "bom␚"),
        ("lone\ud800", "lone␚"),
        ("tab\there", "tab here"),
        ("crlf\r\nline", "crlf\nline"),
        ("cr\roverwrite", "cr␍overwrite"),
        ("lines\nstay", "lines\nstay"),
        ("sep\u2028para", "sep\npara"),
    ],
)
def test_control_and_invisible_characters_become_visible(text: str, shown: str) -> None:
    assert sanitize(text) == shown
    assert plain(text).plain == shown


def test_emoji_sequences_and_scripts_keep_their_joiners() -> None:
    family = "👨\u200d👩\u200d👧"
    persian = "می\u200cخواهم"
    assert sanitize(family) == family
    assert sanitize(persian) == persian
    assert sanitize("Chloé 日本 ✓✓ 🕓") == "Chloé 日本 ✓✓ 🕓"


def test_one_line_makes_line_breaks_spaces() -> None:
    assert sanitize("a\nb\r\nc\u2029d", one_line=True) == "a b c d"


def test_the_length_is_bounded() -> None:
    assert len(plain("x" * 10_000)) == PLAIN_LIMIT
    assert plain("x" * 10_000).plain.endswith("x…")
    assert plain("abcdef", 4).plain == "abc…"
    assert plain("abcd", 4).plain == "abcd"
    assert plain("abc", 0).plain == ""
    assert plain("\x1b" * 10_000, 3).plain == "␛␛…"


def test_style_is_applied_to_the_whole_text() -> None:
    shown = plain("[b]x", style="bold")
    assert shown.plain == "[b]x"
    assert str(shown.style) == "bold"
