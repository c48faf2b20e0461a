"""WhatsApp addresses in one canonical form, `whatsapp:+E164`, so each contact is one row."""

from __future__ import annotations

import re
from functools import lru_cache

import phonenumbers

PREFIX = "whatsapp:"
_HINT = "like +14155550100 or whatsapp:+14155550100"
_INTERNATIONAL = re.compile(r"\+[0-9\s().-]+")
_NATIONAL = re.compile(r"[0-9\s().-]+")
_NOT_A_COUNTRY = frozenset({phonenumbers.UNKNOWN_REGION, phonenumbers.REGION_CODE_FOR_NON_GEO_ENTITY})


class InvalidAddress(ValueError):
    """Not a phone number WhatsApp could reach; the message says how to fix the input."""


@lru_cache(maxsize=65536)
def to_whatsapp(raw: str) -> str:
    """Canonicalise a typed or received address; cached because every webhook calls it."""
    text = raw.strip()
    has_prefix = text[: len(PREFIX)].lower() == PREFIX
    number = text[len(PREFIX) :].strip() if has_prefix else text
    if ":" in number:
        raise InvalidAddress(f"{text!r} is not a WhatsApp address: give the number alone, {_HINT}.")
    if not number:
        raise InvalidAddress(f"The phone number is empty: give it in international form, {_HINT}.")
    if _NATIONAL.fullmatch(number):
        raise InvalidAddress(f"{text!r} has no country code: start with + and the code, {_HINT}.")
    if not _INTERNATIONAL.fullmatch(number):
        raise InvalidAddress(_not_valid(text))
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException as exc:
        raise InvalidAddress(_not_valid(text)) from exc
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidAddress(_not_valid(text))
    return PREFIX + phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def _not_valid(text: str) -> str:
    return f"{text!r} is not a valid phone number: give it in international form, {_HINT}."


def e164(address: str) -> str:
    """The bare number, for APIs and displays that must not carry the channel prefix."""
    return to_whatsapp(address).removeprefix(PREFIX)


def country_of(address: str) -> str | None:
    """ISO 3166 region of the number, or None for numbers that belong to no single country.

    Raises InvalidAddress like e164: the caller passes addresses, not arbitrary text.
    """
    region = phonenumbers.region_code_for_number(phonenumbers.parse(e164(address), None))
    return None if region is None or region in _NOT_A_COUNTRY else region
