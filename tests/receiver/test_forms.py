"""Our form parser against the standard library's, on any body: the signature depends on it."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

from hypothesis import given, settings
from hypothesis import strategies as st

from wa_inbox.receiver.forms import parse_form


def reference(body: str) -> dict[str, list[str]]:
    form: dict[str, list[str]] = {}
    for key, value in parse_qsl(body, keep_blank_values=True):
        form.setdefault(key, []).append(value)
    return form


pairs = st.lists(st.tuples(st.text(), st.text()), max_size=12)


@settings(max_examples=600, deadline=None)
@given(pairs)
def test_agrees_on_encoded_forms(items: list[tuple[str, str]]) -> None:
    body = urlencode(items)
    assert parse_form(body) == reference(body)


@settings(max_examples=600, deadline=None)
@given(st.text(alphabet=st.sampled_from("ab=&%+;2C3Fé \x00"), max_size=40))
def test_agrees_on_raw_oddities(body: str) -> None:
    assert parse_form(body) == reference(body)


def test_repeated_keys_keep_every_value_in_order() -> None:
    assert parse_form("MediaUrl=a&x=1&MediaUrl=b&MediaUrl=a") == {"MediaUrl": ["a", "b", "a"], "x": ["1"]}


def test_only_short_values_are_cached() -> None:
    """Forms are parsed before their signature is checked: a forger's long values must not be kept."""
    from wa_inbox.receiver import forms

    forms._cached_unquote.cache_clear()
    long_value = "%41" * 5000

    assert parse_form(f"Body={long_value}&From=whatsapp%3A%2B5511987654321") == {
        "Body": ["A" * 5000],
        "From": ["whatsapp:+5511987654321"],
    }
    assert forms._cached_unquote.cache_info().currsize == 1
    for n in range(10_000):
        parse_form(f"Body=x%20{n}")
    assert forms._cached_unquote.cache_info().currsize == forms._cached_unquote.cache_info().maxsize == 4096
