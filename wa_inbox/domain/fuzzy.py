"""Fuzzy matching the way pickers expect it: every character of the query, in order, anywhere."""

from __future__ import annotations


def is_subsequence(query: str, text: str) -> bool:
    """True when the query's characters (spaces ignored, any case) appear in `text` in order."""
    haystack = text.casefold()
    position = 0
    for char in query.casefold().replace(" ", ""):
        position = haystack.find(char, position) + 1
        if position == 0:
            return False
    return True
