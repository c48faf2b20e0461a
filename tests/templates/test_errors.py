"""The error codes after which a template send means our copy of the templates may be stale."""

from __future__ import annotations

from wa_inbox.domain.errors import CATALOGUE, describe


def test_the_template_problems() -> None:
    marked = {code for code, info in CATALOGUE.items() if info.template_problem}
    assert marked == {21655, 21656, 63005, 63016, 63027, 63028}
    assert all(not CATALOGUE[code].retryable and CATALOGUE[code].action.endswith(".") for code in marked)


def test_an_uncatalogued_code_is_no_template_problem() -> None:
    info = describe(63099)
    assert info is not None and not info.template_problem
