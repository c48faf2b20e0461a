"""Search results show the part of a message around the hit, with the words found highlighted."""

from __future__ import annotations

import time

from rich.text import Text

from wa_inbox.tui.snippet import hits, snippet


def highlighted(text: Text) -> list[str]:
    return [text.plain[span.start : span.end] for span in text.spans]


def test_a_hit_deep_in_a_long_message_is_what_shows() -> None:
    body = "Hello! " + "We are checking the warehouse again today. " * 10 + "Your reembolso is approved."

    shown = snippet(body, "REEMB", 40)

    assert shown.plain.startswith("…") and "reembolso" in shown.plain
    assert highlighted(shown) == ["reembolso"]


def test_case_and_accents_are_ignored_as_the_index_ignores_them() -> None:
    assert [("Não chegou"[s:e]) for s, e in hits("Não chegou", ["nao", "CHEG"])] == ["Não", "chegou"]
    assert highlighted(snippet("Meu pedido NÃO chegou", "nao", 80)) == ["NÃO"]


def test_only_word_prefixes_match() -> None:
    assert hits("a refund, prefund", ["fund"]) == []
    assert hits("a refund, prefund", ["ref"]) == [(2, 8)]


def test_outside_text_stays_text_and_one_line() -> None:
    shown = snippet("[bold]x[/bold]\nsecond line \x1b[31m", "second", 80)

    assert "\n" not in shown.plain and "\x1b" not in shown.plain
    assert shown.plain.startswith("[bold]x[/bold]")


def test_a_huge_body_costs_a_bounded_time() -> None:
    body = "word " * 400_000  # 2 MB

    started = time.perf_counter()
    shown = snippet(body, "word", 60)

    assert time.perf_counter() - started < 0.5
    assert len(shown.plain) <= 60
