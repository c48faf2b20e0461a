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


class MalformedWebhook(ValueError):
    """The request is signed but cannot be what Twilio sends; the message says why."""


def parse_inbound(form: Form) -> InboundMessage:
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
    status = _get(form, "MessageStatus") or _get(form, "SmsStatus")
    if not status:
        raise MalformedWebhook("MessageStatus is missing")
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
    if len(sid) != 34 or not sid.isalnum():
        raise MalformedWebhook("MessageSid is not a Twilio SID")
    return sid


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
    if not text.isdigit():
        raise MalformedWebhook("ErrorCode is not a number")
    return int(text)


def _media(form: Form) -> tuple[MediaRef, ...]:
    count = _get(form, "NumMedia") or "0"
    if not count.isdigit() or int(count) > 10:
        raise MalformedWebhook("NumMedia is not a small number")
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
    try:
        return Location(float(latitude), float(longitude), _get(form, "Address"), _get(form, "Label"))
    except ValueError:
        raise MalformedWebhook("Latitude or Longitude is not a number") from None
