"""What each Twilio error code means for the inbox: what happened, whether to retry, what to do.

Two retry flags, because they answer different questions. `retryable`: the condition is transient,
so the same message may succeed later (with backoff). `retry_by_sender`: the REST request itself
was refused without being processed, so the sender may resend it at once after backing off without
risking a duplicate; only 20429 qualifies, since 63018 and the 300xx codes arrive by status
callback for a message Twilio already accepted.

`template_problem` marks the codes that, for a template send, mean our copy of the account's
templates may be stale (deleted, paused, re-worded): the sender then re-syncs the templates.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType


@dataclass(frozen=True, slots=True)
class ErrorInfo:
    code: int
    meaning: str
    retryable: bool
    action: str
    marks_opted_out: bool = False
    retry_by_sender: bool = False
    template_problem: bool = False


def _permanent(code: int, meaning: str, action: str) -> ErrorInfo:
    return ErrorInfo(code=code, meaning=meaning, retryable=False, action=action)


def _transient(code: int, meaning: str, action: str) -> ErrorInfo:
    return ErrorInfo(code=code, meaning=meaning, retryable=True, action=action)


def _template(code: int, meaning: str, action: str) -> ErrorInfo:
    return ErrorInfo(code=code, meaning=meaning, retryable=False, action=action, template_problem=True)


_ENTRIES = (
    _permanent(
        11200,
        "Twilio could not get a 2xx response from a webhook or fetch a URL.",
        "Check that the webhook URL is reachable and answers 2xx quickly, and that media URLs are public.",
    ),
    _permanent(
        20003,
        "Twilio rejected the credentials (authentication failed or permission denied).",
        "Fix the account SID, auth token or API key in the config; retrying will not help.",
    ),
    ErrorInfo(
        code=20429,
        meaning="Too many concurrent requests to the Twilio API; the request was not processed.",
        retryable=True,
        action="Nothing to do: the message is resent automatically after a backoff.",
        retry_by_sender=True,
    ),
    _permanent(
        21211,
        "The 'To' number is not a valid phone number.",
        "Correct the contact's number to international form, like whatsapp:+14155550100.",
    ),
    _permanent(
        21408,
        "Sending to this country is not enabled on the Twilio account.",
        "Enable the country in the Twilio console's Messaging Geo Permissions, then send again.",
    ),
    ErrorInfo(
        code=21610,
        meaning="The recipient has opted out of messages from this sender.",
        retryable=False,
        action="Do not message this contact again until they opt back in by sending START.",
        marks_opted_out=True,
    ),
    _permanent(
        21614,
        "The 'To' number is not a valid mobile number.",
        "Check the contact's number; this number cannot receive messages.",
    ),
    _permanent(
        21617,
        "The message body exceeds Twilio's 1,600-character limit.",
        "Shorten the message or split it into several messages.",
    ),
    _permanent(21602, "The message body is missing.", "Write a message, or pick a template."),
    _permanent(
        21603,
        "The 'From' address is missing.",
        "Set the WhatsApp sender number in the configuration.",
    ),
    _permanent(21604, "The 'To' address is missing.", "Pick a contact with a valid number."),
    _template(
        21655,
        "The template (ContentSid) does not exist on this account; it may have been deleted.",
        "Pick the template again: wa-inbox re-syncs its templates after this error.",
    ),
    _template(
        21656,
        "The template's variables (ContentVariables) are not a JSON object of text values.",
        "Fill in every variable and send again; wa-inbox re-syncs its templates after this error.",
    ),
    _transient(
        30003,
        "The recipient's phone is unreachable (switched off or out of coverage).",
        "Try again later; if it keeps failing, reach the customer another way.",
    ),
    _permanent(
        30005,
        "The recipient's number is unknown or no longer active.",
        "Check the number with the customer through another channel.",
    ),
    _permanent(
        30006,
        "The recipient's number is a landline or its carrier is unreachable.",
        "Use another number for this customer.",
    ),
    _permanent(
        30007,
        "The message was filtered as spam or as violating carrier policy.",
        "Review the content before sending anything similar; do not simply resend it.",
    ),
    _transient(
        30008,
        "Delivery failed for an unknown reason.",
        "Try once more later; if it fails again, report it to the operator.",
    ),
    _permanent(
        63003,
        "The recipient cannot be reached on WhatsApp.",
        "Confirm the customer uses WhatsApp on this number, or contact them another way.",
    ),
    _template(
        63005,
        "WhatsApp did not accept the message content.",
        "Fix the template, its variables or the media before sending again; "
        "after a template, wa-inbox re-syncs its templates.",
    ),
    _permanent(
        63007,
        "The 'From' address is not a WhatsApp sender on this Twilio account.",
        "Set the sender to a WhatsApp-enabled number of this account, like whatsapp:+14155238886.",
    ),
    _template(  # for a template send: WhatsApp no longer counts it as approved
        63016,
        "Free-form messages are not allowed outside the 24-hour customer service window.",
        "Send an approved template instead; the customer's reply reopens the window.",
    ),
    _transient(
        63018,
        "The WhatsApp sender's rate limit was exceeded.",
        "Wait a few minutes before resending, and send less to this contact at once.",
    ),
    _permanent(
        63019,
        "Twilio could not download the media attached to the message.",
        "Make sure the media URL is public and its type is supported, then send again.",
    ),
    _permanent(
        63024,
        "The recipient is not a valid WhatsApp user (no account, terms not accepted, or an outdated app).",
        "Reach the customer through another channel; do not resend on WhatsApp.",
    ),
    _template(
        63027,
        "WhatsApp has no such template in this language (it was deleted or never approved in it).",
        "Pick another template or language; wa-inbox re-syncs its templates after this error.",
    ),
    _template(
        63028,
        "The number of variables sent does not match the template's.",
        "Fill in exactly the template's variables; wa-inbox re-syncs its templates after this error.",
    ),
    _permanent(
        63030,
        "The message used a parameter this channel does not support.",
        "Remove the unsupported part, such as extra attachments, and send again.",
    ),
    _permanent(
        63032,
        "Meta withheld this marketing template because the user is part of a Meta experiment.",
        "Do not resend soon; use another channel if the message matters.",
    ),
    _permanent(
        63049,
        "Meta chose not to deliver this marketing template.",
        "Do not resend now; use a utility template if the message is not marketing.",
    ),
)

CATALOGUE: Mapping[int, ErrorInfo] = MappingProxyType({info.code: info for info in _ENTRIES})


def describe(code: int | None) -> ErrorInfo | None:
    """Never None for a real code, so every failure shown to the agent carries some advice."""
    if code is None:
        return None
    return CATALOGUE.get(code) or _permanent(
        code,
        f"Twilio error {code} (not in wa-inbox's catalogue)",
        f"Look the code up at https://www.twilio.com/docs/api/errors/{code}.",
    )
