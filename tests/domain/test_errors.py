from __future__ import annotations

import pytest

from wa_inbox.domain.errors import CATALOGUE, ErrorInfo, describe

REQUIRED = [
    11200, 20003, 20429, 21211, 21408, 21610, 21614, 30003, 30005, 30006, 30007, 30008,
    63003, 63005, 63007, 63016, 63018, 63024, 63030, 63032, 63049,
    21617, 63019, 21602, 21603, 21604,
]  # fmt: skip


@pytest.mark.parametrize("code", REQUIRED)
def test_every_code_is_catalogued(code: int) -> None:
    info = CATALOGUE[code]
    assert info.code == code
    assert info.meaning
    assert info.action.endswith(".")


def test_retryable_codes() -> None:
    assert {code for code, info in CATALOGUE.items() if info.retryable} == {
        20429,
        30003,
        30008,
        63018,
    }


def test_only_20429_is_resent_by_the_sender() -> None:
    assert {code for code, info in CATALOGUE.items() if info.retry_by_sender} == {20429}


def test_only_21610_marks_opted_out() -> None:
    assert {code for code, info in CATALOGUE.items() if info.marks_opted_out} == {21610}


def test_catalogue_is_read_only() -> None:
    with pytest.raises(TypeError):
        CATALOGUE[1] = CATALOGUE[20429]  # type: ignore[index]


def test_describe_known() -> None:
    assert describe(63016) is CATALOGUE[63016]


def test_describe_none() -> None:
    assert describe(None) is None


def test_describe_unknown() -> None:
    assert describe(12345) == ErrorInfo(
        code=12345,
        meaning="Twilio error 12345 (not in wa-inbox's catalogue)",
        retryable=False,
        action="Look the code up at https://www.twilio.com/docs/api/errors/12345.",
    )
