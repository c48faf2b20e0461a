from __future__ import annotations

import pytest

from wa_inbox.domain.addresses import InvalidAddress, country_of, e164, to_whatsapp


@pytest.mark.parametrize(
    "raw",
    [
        "whatsapp:+14155550100",
        "+14155550100",
        "+1 (415) 555-0100",
        "+1-415-555-0100",
        "  whatsapp:+14155550100 \n",
        "WhatsApp:+14155550100",
        "whatsapp: +1 415 555 0100",
    ],
)
def test_to_whatsapp_normalises_accepted_forms(raw: str) -> None:
    assert to_whatsapp(raw) == "whatsapp:+14155550100"


def test_to_whatsapp_keeps_foreign_numbers() -> None:
    assert to_whatsapp("+55 11 98765-4321") == "whatsapp:+5511987654321"


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ("", "is empty"),
        ("   ", "is empty"),
        ("whatsapp:", "is empty"),
        ("4155550100", "no country code"),
        ("(415) 555-0100", "no country code"),
        ("+1 555", "not a valid phone number"),
        ("+15555550100", "not a valid phone number"),
        ("+1-800-FLOWERS", "not a valid phone number"),
        ("+14155550100 ext 5", "not a valid phone number"),
        ("hello", "not a valid phone number"),
        ("+", "not a valid phone number"),
        ("sms:+14155550100", "not a WhatsApp address"),
        ("messenger:+14155550100", "not a WhatsApp address"),
        ("whatsapp:whatsapp:+14155550100", "not a WhatsApp address"),
    ],
)
def test_to_whatsapp_rejects_with_a_fix(raw: str, fragment: str) -> None:
    with pytest.raises(InvalidAddress) as caught:
        to_whatsapp(raw)
    message = str(caught.value)
    assert fragment in message
    assert "+14155550100" in message
    assert message.endswith(".")
    assert message.count(". ") == 0


def test_error_message_quotes_the_input() -> None:
    with pytest.raises(InvalidAddress, match=r"^'\+1 555' is not a valid phone number: "):
        to_whatsapp("+1 555")


def test_invalid_address_is_a_value_error() -> None:
    assert issubclass(InvalidAddress, ValueError)


def test_to_whatsapp_is_cached_for_the_hot_path() -> None:
    to_whatsapp.cache_clear()
    to_whatsapp("whatsapp:+14155550100")
    to_whatsapp("whatsapp:+14155550100")
    assert to_whatsapp.cache_info().hits == 1


def test_e164_drops_the_prefix() -> None:
    assert e164("whatsapp:+14155550100") == "+14155550100"
    assert e164("+1 (415) 555-0100") == "+14155550100"


def test_e164_validates() -> None:
    with pytest.raises(InvalidAddress):
        e164("whatsapp:+1555")


@pytest.mark.parametrize(
    ("address", "country"),
    [
        ("whatsapp:+14155550100", "US"),
        ("whatsapp:+5511987654321", "BR"),
        ("whatsapp:+442079460000", "GB"),
    ],
)
def test_country_of(address: str, country: str) -> None:
    assert country_of(address) == country


def test_country_of_non_geographic_number_is_none() -> None:
    assert country_of("whatsapp:+80012345678") is None


def test_country_of_validates() -> None:
    with pytest.raises(InvalidAddress):
        country_of("sms:+14155550100")
