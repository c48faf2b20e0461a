from __future__ import annotations

import pytest

from wa_inbox.domain.optout import (
    DEFAULT_START_KEYWORDS,
    DEFAULT_STOP_KEYWORDS,
    OptAction,
    OptKeywords,
)

DEFAULTS = OptKeywords.from_lists(DEFAULT_STOP_KEYWORDS, DEFAULT_START_KEYWORDS)


@pytest.mark.parametrize("body", ["STOP", "stop", "  Stop \n", "StopAll", "UNSUBSCRIBE", "quit"])
def test_stop_keywords(body: str) -> None:
    assert DEFAULTS.classify(body) is OptAction.STOP


@pytest.mark.parametrize("body", ["START", " unstop", "Subscribe\n"])
def test_start_keywords(body: str) -> None:
    assert DEFAULTS.classify(body) is OptAction.START


@pytest.mark.parametrize("body", ["stop please", "don't stop", "", "   ", "hello", "s t o p", "stop."])
def test_other_bodies(body: str) -> None:
    assert DEFAULTS.classify(body) is None


def test_from_lists_normalises() -> None:
    keywords = OptKeywords.from_lists([" ARRÊT ", "Halt"], ["Go", ""])
    assert keywords == OptKeywords(stop=frozenset({"arrêt", "halt"}), start=frozenset({"go"}))
    assert keywords.classify("arrêt") is OptAction.STOP
    assert keywords.classify("") is None


def test_classify_casefolds() -> None:
    keywords = OptKeywords.from_lists(["strasse"], [])
    assert keywords.classify("STRASSE") is OptAction.STOP
    assert keywords.classify("straße") is OptAction.STOP


def test_keyword_in_both_lists_is_refused() -> None:
    with pytest.raises(ValueError, match="'stop'"):
        OptKeywords.from_lists(["stop", "end"], ["START", " Stop"])


def test_opt_action_values() -> None:
    assert [action.value for action in OptAction] == ["stop", "start"]
