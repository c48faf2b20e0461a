"""May this be sent now? The rules Twilio and WhatsApp would enforce, checked before any request leaves.

Each refusal is one sentence for the agent, saying what is wrong and what they can do instead. This is
the one place the rules live: the send (`refusal`), the template picker (`sendable`) and the banner
over a conversation (`standing_refusal`) all ask `refusal`, so what is offered or announced is what a
send would do.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from wa_inbox.domain import window
from wa_inbox.domain.models import Contact
from wa_inbox.domain.templates import APPROVED, TemplateInfo

MAX_BODY_CHARS = 1600
MAX_MEDIA_PER_MESSAGE = 1


@dataclass(frozen=True, slots=True)
class Attachment:
    """A media URL, with what we know of the file behind it (nothing, for a remote URL)."""

    url: str
    content_type: str | None = None
    size_bytes: int | None = None
    name: str | None = None


@dataclass(frozen=True, slots=True)
class Draft:
    """What an agent asks to send: text, one attachment (with an optional caption) or a template."""

    address: str
    """The customer it goes to."""
    body: str = ""
    media: tuple[Attachment, ...] = ()
    content_sid: str | None = None
    content_variables: Mapping[str, str] = field(default_factory=dict)
    preview: str = ""
    """For a template, the text as rendered here: kept in the inbox, never sent (Twilio renders it)."""
    template_name: str | None = None
    """The template's name, for the agent's sentence; None when only its SID is known."""
    template_approval: str | None = None
    """WhatsApp's verdict on the template ("approved", "pending", …) as the sender knows it; None when
    it was given by SID unchecked, and Twilio judges it."""
    author: str | None = None
    """The agent sending it (recorded on the message); `domain.team.SYSTEM` for automatic replies."""

    @property
    def is_template(self) -> bool:
        return self.content_sid is not None


def template_draft(to: str, template: TemplateInfo, values: Mapping[str, str] | None = None) -> Draft:
    """A draft sending `template` with its variables `values`, carrying what `refusal` checks of it."""
    values = dict(values or {})
    return Draft(
        to,
        content_sid=template.sid,
        content_variables=values,
        preview=template.render(values),
        template_name=template.name,
        template_approval=template.approval,
    )


@dataclass(frozen=True, slots=True)
class Limits:
    """The configurable part of the rules: media limits and how long an opt-out lasts."""

    max_image_bytes: int
    max_doc_bytes: int
    allowed_mime_prefixes: tuple[str, ...]
    suppression_ttl: timedelta | None = None
    """An opt-out older than this no longer blocks sending; None keeps it until the customer sends START."""


class RefusalKind(StrEnum):
    """Which rule refused a draft: a fixed, short word for counting and logs (the sentence is for
    people, and names the customer)."""

    SHAPE = "shape"
    """Nothing to send, or a template with a body, attachment or badly numbered variables."""
    OPT_OUT = "opt_out"
    WINDOW = "window"
    """The 24-hour window is closed (or never opened) for a session message."""
    TEMPLATE_NOT_APPROVED = "template_not_approved"
    """Outside the window, a template WhatsApp has not approved."""
    LENGTH = "length"
    MEDIA = "media"
    """Too many attachments, a type WhatsApp does not take, or a file over its size limit."""


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a draft must not be sent: the rule (`kind`) and the sentence for the agent."""

    kind: RefusalKind
    sentence: str


def refusal(draft: Draft, contact: Contact | None, now: datetime, limits: Limits) -> str | None:
    """The reason this draft must not be sent, or None when Twilio would accept it."""
    refused = why_refused(draft, contact, now, limits)
    return refused.sentence if refused else None


def why_refused(draft: Draft, contact: Contact | None, now: datetime, limits: Limits) -> Refusal | None:
    """`refusal` with the rule that refused: the first check that fails, or None.

    An opt-out is checked before the window, so its sentence (never "use a template") comes first.
    """
    checks = (
        (RefusalKind.SHAPE, lambda: _shape(draft)),
        (RefusalKind.OPT_OUT, lambda: _opted_out(contact, now, limits.suppression_ttl)),
        (RefusalKind.WINDOW, lambda: _window(draft, contact, now)),
        (RefusalKind.TEMPLATE_NOT_APPROVED, lambda: _unapproved_outside(draft, contact, now)),
        (RefusalKind.LENGTH, lambda: _length(draft)),
        (RefusalKind.MEDIA, lambda: _media(draft, limits)),
    )
    for kind, check in checks:
        if sentence := check():
            return Refusal(kind, sentence)
    return None


def sendable(
    templates: Sequence[TemplateInfo], contact: Contact, now: datetime, limits: Limits
) -> list[TemplateInfo]:
    """The templates the picker may offer `contact` now: those `refusal` lets through, in order.

    None to a customer who opted out; inside the window any, outside it only approved ones.
    """
    return [t for t in templates if refusal(template_draft(contact.address, t), contact, now, limits) is None]


@dataclass(frozen=True, slots=True)
class Standing:
    """Why a text to a contact would be refused right now, whatever the agent writes: the banner's line."""

    reason: str
    """The very sentence `refusal` gives for a session text."""
    template_possible: bool
    """Whether an approved template would still go: True for a closed window, False for an opt-out."""


_PROBE_TEXT = "."
"""Any short text: what `standing_refusal` asks about is the contact, not the text."""
_PROBE_TEMPLATE = "HX" + "0" * 32


def standing_refusal(contact: Contact, now: datetime, limits: Limits) -> Standing | None:
    """What the banner says before any send: None when a session text would go now.

    Asked of `refusal` itself with probe drafts, so the banner and the send cannot disagree.
    """
    reason = refusal(Draft(contact.address, _PROBE_TEXT), contact, now, limits)
    if reason is None:
        return None
    template = Draft(contact.address, content_sid=_PROBE_TEMPLATE, template_approval=APPROVED)
    return Standing(reason, refusal(template, contact, now, limits) is None)


def _who(contact: Contact | None, address: str) -> str:
    return contact.profile_name or address if contact else address


def _shape(draft: Draft) -> str | None:
    if draft.is_template:
        if draft.body or draft.media:
            return "Not sent: a template carries its own text, so send it without a body or attachment."
        if any(not (key.isdigit() and isinstance(v, str)) for key, v in draft.content_variables.items()):
            return 'Not sent: template variables are numbered ("1", "2", …) and their values are text.'
        return None
    if not draft.body.strip() and not draft.media:
        return "Not sent: there is nothing to send; write a message, attach a file or pick a template."
    return None


def _opted_out(contact: Contact | None, now: datetime, ttl: timedelta | None) -> str | None:
    if contact is None or not contact.opted_out:
        return None
    if ttl is not None and contact.opted_out_at is not None and now - contact.opted_out_at > ttl:
        return None
    when = f" on {contact.opted_out_at:%Y-%m-%d %H:%M} UTC" if contact.opted_out_at else ""
    how = f" ({contact.opted_out_source})" if contact.opted_out_source else ""
    return (
        f"Not sent: {_who(contact, contact.address)} opted out{when} by sending STOP{how}; "
        "nothing can be sent until they send START."
    )


def _window(draft: Draft, contact: Contact | None, now: datetime) -> str | None:
    """A session message (not a template) outside the window."""
    last = contact.last_inbound_at if contact else None
    if draft.is_template or window.is_open(last, now):
        return None
    who = _who(contact, draft.address)
    if last is None:
        return f"Not sent: {who} has never written to you, so only an approved template can start the chat."
    closed = window.expires_at(last)
    return (
        f"Not sent: the 24-hour window with {who} closed at {closed:%Y-%m-%d %H:%M} UTC; "
        "only an approved template can be sent until they write again."
    )


def _unapproved_outside(draft: Draft, contact: Contact | None, now: datetime) -> str | None:
    """Outside the window WhatsApp takes only approved templates (an unchecked one, Twilio judges)."""
    last = contact.last_inbound_at if contact else None
    if not draft.is_template or window.is_open(last, now):
        return None
    approval = draft.template_approval
    if approval is None or approval == APPROVED:
        return None
    name = repr(draft.template_name) if draft.template_name else draft.content_sid
    return (
        f"Not sent: the template {name} is {approval}, not approved by WhatsApp, and outside the "
        "24-hour window only an approved template can be sent; pick an approved one."
    )


def _length(draft: Draft) -> str | None:
    if len(draft.body) <= MAX_BODY_CHARS:
        return None
    return f"Not sent: the message is {len(draft.body):,} characters and Twilio's limit is 1,600; shorten it."


def _media(draft: Draft, limits: Limits) -> str | None:
    if len(draft.media) > MAX_MEDIA_PER_MESSAGE:
        return "Not sent: WhatsApp takes one attachment per message; send the files one at a time."
    for item in draft.media:
        if reason := _attachment(item, limits):
            return reason
    return None


def _attachment(item: Attachment, limits: Limits) -> str | None:
    name = item.name or item.url
    kind = item.content_type
    if kind is not None and not kind.startswith(limits.allowed_mime_prefixes):
        return (
            f"Not sent: {name} is {kind}, a type WhatsApp does not take here "
            "(allowed: images, audio, video, PDF and Office documents)."
        )
    if item.size_bytes is None or kind is None:
        return None
    is_image = kind.startswith("image/")
    limit = limits.max_image_bytes if is_image else limits.max_doc_bytes
    if item.size_bytes <= limit:
        return None
    what = "images" if is_image else "files"
    size, most = _megabytes(item.size_bytes), _megabytes(limit)
    return f"Not sent: {name} is {size} and WhatsApp's limit for {what} is {most}."


def _megabytes(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB"
