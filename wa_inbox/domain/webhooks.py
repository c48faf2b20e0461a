"""Turn Twilio's webhook forms into domain values, or say in one phrase why they are malformed.

Twilio adds parameters without notice, so unknown keys are never an error: the raw form is kept beside
what is parsed here.
"""

from __future__ import annotations

import re

from wa_inbox.domain.addresses import InvalidAddress, to_whatsapp
from wa_inbox.domain.models import Form, InboundMessage, Location, MediaRef, StatusUpdate

_REFERRAL_PREFIX = "Referral"
_REFERRAL_SOURCES = ("ReferralSourceId", "ReferralSourceUrl", "ReferralBody", "ReferralHeadline")
"""What only a message from an ad (click-to-WhatsApp) carries; `ReferralNumMedia=0` comes on every one."""
_CANONICAL = re.compile(r"whatsapp:\+[1-9][0-9]{6,14}")
"""How Twilio writes every WhatsApp address it sends: already `to_whatsapp`'s output, so kept as is."""
_MESSAGE_SID = re.compile(r"(?:SM|MM)[0-9a-f]{32}").fullmatch
"""A message's SID: `SM` (or `MM`, for some media messages) and 32 lowercase hex digits, ASCII only.
(Each shape is a bound `fullmatch`: the fastest check there is, and every webhook makes a few.)"""
_OTHER_SIDS = (
    ("AccountSid", re.compile(r"AC[0-9a-f]{32}").fullmatch, "an account SID (AC…)"),
    ("MessagingServiceSid", re.compile(r"MG[0-9a-f]{32}").fullmatch, "a Messaging Service SID (MG…)"),
    ("OriginalRepliedMessageSid", _MESSAGE_SID, "a message SID (SM…)"),
)
"""Optional SIDs: when Twilio sends one, it has this shape."""
_NUM_MEDIA = re.compile(r"[0-9]|10").fullmatch
"""WhatsApp carries at most 10 media items; Twilio writes the count in plain ASCII digits."""
_ERROR_CODE = re.compile(r"[0-9]{1,9}").fullmatch
"""Twilio's error codes have five digits; nine keep any of them and fit every integer column."""
_STATUS = re.compile(r"[a-z_]{1,32}").fullmatch
"""Twilio's statuses are short lowercase words (`sent`, `partially_delivered`, ...)."""
_COORDINATE = re.compile(r"-?[0-9]{1,3}(?:\.[0-9]{1,20})?(?:[eE][-+]?[0-9]{1,3})?").fullmatch
"""Decimal degrees as Twilio writes them (`-23.5505199`, or `1e-05` as Python would): ASCII digits, no
inf or nan; an exponent that overflows to inf is then out of range."""


class MalformedWebhook(ValueError):
    """The request is signed but cannot be what Twilio sends; the message says why."""


def parse_inbound(form: Form) -> InboundMessage:
    _check_other_sids(form)
    return InboundMessage(
        sid=_sid(form),
        from_addr=_address(form, "From"),
        to_addr=_address(form, "To"),
        body=_get(form, "Body") or "",
        account_sid=_get(form, "AccountSid"),
        messaging_service_sid=_get(form, "MessagingServiceSid"),
        profile_name=_get(form, "ProfileName"),
        wa_id=_get(form, "WaId"),
        message_type=_get(form, "MessageType"),
        media=_media(form),
        location=_location(form),
        button_text=_get(form, "ButtonText"),
        button_payload=_get(form, "ButtonPayload"),
        referral=_referral(form),
        replied_to_sid=_get(form, "OriginalRepliedMessageSid"),
        forwarded=_get(form, "Forwarded") == "true",
        frequently_forwarded=_get(form, "FrequentlyForwarded") == "true",
    )


def parse_status(form: Form) -> StatusUpdate:
    _check_other_sids(form)
    status = _get(form, "MessageStatus") or _get(form, "SmsStatus")
    if not status:
        raise MalformedWebhook("MessageStatus is missing")
    if not _STATUS(status):
        raise MalformedWebhook("MessageStatus is not a Twilio status")
    code = _get(form, "ErrorCode")
    return StatusUpdate(
        sid=_sid(form),
        status=status,
        error_code=_error_code(code),
        error_message=_get(form, "ErrorMessage") or _get(form, "ChannelStatusMessage"),
        from_addr=_optional_address(form, "From"),
        to_addr=_optional_address(form, "To"),
        messaging_service_sid=_get(form, "MessagingServiceSid"),
    )


def _get(form: Form, key: str) -> str | None:
    values = form.get(key)
    return values[0] if values else None


def _sid(form: Form) -> str:
    sid = _get(form, "MessageSid") or _get(form, "SmsMessageSid") or _get(form, "SmsSid")
    if not sid:
        raise MalformedWebhook("MessageSid is missing")
    if not _MESSAGE_SID(sid):
        raise MalformedWebhook("MessageSid is not a Twilio message SID")
    return sid


def _check_other_sids(form: Form) -> None:
    for key, matches, what in _OTHER_SIDS:
        values = form.get(key)
        if values and values[0] and not matches(values[0]):
            raise MalformedWebhook(f"{key} is not {what}")


def _address(form: Form, key: str) -> str:
    value = _get(form, key)
    if not value:
        raise MalformedWebhook(f"{key} is missing")
    if _CANONICAL.fullmatch(value):  # a number phonenumbers' tables don't know yet is still Twilio's word
        return value
    try:
        return to_whatsapp(value)
    except InvalidAddress:
        raise MalformedWebhook(f"{key} is not a WhatsApp address") from None


def _optional_address(form: Form, key: str) -> str | None:
    return _address(form, key) if _get(form, key) else None


def _error_code(text: str | None) -> int | None:
    if not text:
        return None
    if not _ERROR_CODE(text):
        raise MalformedWebhook("ErrorCode is not a Twilio error code")
    return int(text)


def _media(form: Form) -> tuple[MediaRef, ...]:
    count = _get(form, "NumMedia") or "0"
    if not _NUM_MEDIA(count):
        raise MalformedWebhook("NumMedia is not a number from 0 to 10")
    refs = []
    for index in range(int(count)):
        url = _get(form, f"MediaUrl{index}")
        if not url:
            raise MalformedWebhook(f"MediaUrl{index} is missing")
        content_type = _get(form, f"MediaContentType{index}") or "application/octet-stream"
        refs.append(MediaRef(index, url, content_type))
    return tuple(refs)


def _referral(form: Form) -> dict[str, str]:
    """The ad's fields, when the message came from one; otherwise none, though Twilio sends some."""
    if not any(_get(form, key) for key in _REFERRAL_SOURCES):
        return {}
    return {k: v[0] for k, v in form.items() if k.startswith(_REFERRAL_PREFIX) and v}


def _location(form: Form) -> Location | None:
    latitude, longitude = _get(form, "Latitude"), _get(form, "Longitude")
    if latitude is None or longitude is None:
        return None
    lat, lon = _coordinate(latitude, 90), _coordinate(longitude, 180)
    if lat is None or lon is None:
        raise MalformedWebhook("Latitude or Longitude is not a coordinate")
    return Location(lat, lon, _get(form, "Address"), _get(form, "Label"))


def _coordinate(text: str, bound: int) -> float | None:
    """Decimal degrees within ±`bound`, or None: never inf or nan, which JSON cannot carry."""
    if not _COORDINATE(text):
        return None
    value = float(text)
    return value if -bound <= value <= bound else None
