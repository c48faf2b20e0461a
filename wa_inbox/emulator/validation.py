"""Checks on a Create Message request, in the order Twilio reports problems.

Yields a normalised OutboundRequest or raises TwilioError with the code Twilio would answer.
Account state (opt-outs, windows) is not checked here; that is the Emulator's business.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

import phonenumbers

from wa_inbox.emulator.resources import TwilioError
from wa_inbox.emulator.templates import Template

FormParams = Mapping[str, list[str]]
MAX_BODY = 1600
_SERVICE_SID = re.compile(r"MG[0-9a-fA-F]{32}")


@dataclass(frozen=True)
class OutboundRequest:
    """A valid send: who, from where, and exactly one kind of content."""

    to: str
    from_: str
    messaging_service_sid: str | None
    body: str
    media_url: str | None
    template: Template | None
    status_callback: str | None


def whatsapp_e164(address: str) -> bool:
    """True for 'whatsapp:+<valid number in canonical E.164>'."""
    number = address.removeprefix("whatsapp:")
    if number == address or not number.startswith("+"):
        return False
    try:
        parsed = phonenumbers.parse(number)
    except phonenumbers.NumberParseException:
        return False
    canonical = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    return phonenumbers.is_valid_number(parsed) and canonical == number


def parse_create(form: FormParams, sender: str, templates: Mapping[str, Template]) -> OutboundRequest:
    """The request as Twilio would accept it (`templates`: the account's, by SID), or its TwilioError."""
    to = _recipient(_one(form, "To"))
    from_, service = _sender(_one(form, "From"), _one(form, "MessagingServiceSid"), sender)
    template, variables = _template(_one(form, "ContentSid"), _one(form, "ContentVariables"), templates)
    body, media_url = _content(_one(form, "Body"), form.get("MediaUrl", []), template)
    if template is not None:
        body = template.render(variables)
    callback = _one(form, "StatusCallback")
    return OutboundRequest(to, from_, service, body, media_url, template, callback)


def _one(form: FormParams, key: str) -> str | None:
    """The first value of key; an empty value counts as absent, as in Twilio's API."""
    values = form.get(key) or [""]
    return values[0] or None


def _recipient(to: str | None) -> str:
    if to is None:
        raise TwilioError(21604)
    if not whatsapp_e164(to):
        raise TwilioError(21211, f"Invalid 'To' Phone Number: {to}")
    return to


def _sender(from_: str | None, service: str | None, sender: str) -> tuple[str, str | None]:
    """The From to use (the pool's sender when only a Messaging Service is named)."""
    if service is not None and not _SERVICE_SID.fullmatch(service):
        raise TwilioError(21701, f"The Messaging Service Sid {service} is invalid.")
    if from_ is None:
        if service is None:
            raise TwilioError(21603)
        return sender, service
    if not from_.startswith("whatsapp:"):
        raise TwilioError(21910)
    if from_ != sender:
        raise TwilioError(63007, f"Twilio could not find a Channel with the From address {from_}")
    return from_, service


def _template(
    sid: str | None, raw_variables: str | None, templates: Mapping[str, Template]
) -> tuple[Template | None, dict[str, str]]:
    if sid is None:
        if raw_variables is not None:
            raise TwilioError(21656, "ContentVariables can only be used with a ContentSid.")
        return None, {}
    if sid not in templates:
        raise TwilioError(21655, f"The ContentSid {sid} is invalid.")
    return templates[sid], _variables(raw_variables)


def _variables(raw: str | None) -> dict[str, str]:
    """ContentVariables must be a JSON object of strings, e.g. '{"1": "Ana"}'."""
    if raw is None:
        return {}
    try:
        values = json.loads(raw)
    except ValueError:
        values = None
    if not isinstance(values, dict) or not all(isinstance(v, str) for v in values.values()):
        raise TwilioError(21656, f"The ContentVariables Parameter is invalid: {raw}")
    return values


def _content(body: str | None, media: list[str], template: Template | None) -> tuple[str, str | None]:
    """Exactly one kind of content: a template, or a body and/or one media item."""
    if template is not None:
        if body is not None or media:
            raise TwilioError(63030, "Body and MediaUrl cannot be combined with a ContentSid.")
        return "", None
    if body is None and not media:
        raise TwilioError(21619)
    if len(media) > 1:
        raise TwilioError(63030, "WhatsApp messages can carry only one MediaUrl.")
    if media and not _is_http_url(media[0]):
        raise TwilioError(21620, f"Invalid media URL: {media[0]}")
    if body is not None and len(body) > MAX_BODY:
        raise TwilioError(21617)
    return body or "", media[0] if media else None


def _is_http_url(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc)
