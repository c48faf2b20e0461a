"""How messages, ticks, windows and dates read on screen; plain functions the widgets share.

Every string from outside (names, bodies, captions, errors, SIDs, URLs, file names) reaches the screen
through `plain`: as `Text`, never parsed as markup, bounded, with its control characters made visible.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta, tzinfo

from rich.style import StyleType
from rich.text import Text

from wa_inbox.domain import window
from wa_inbox.domain.models import Contact, Direction, MediaRef, Message
from wa_inbox.domain.status import FAILED
from wa_inbox.domain.status import tick as status_tick
from wa_inbox.domain.team import SYSTEM, ConversationStatus, EventKind, ThreadEvent

AMBER_BELOW_SECONDS = 2 * 3600

PLAIN_LIMIT = 2000
"""Characters of an outside string `plain` keeps by default: a 10,000-character name costs no more."""
SUBSTITUTE = "\u241a"  # ␚, the picture of SUB: "a character was replaced here"
_INVISIBLE = (
    "\u061c\u180e\u200b\u200e\u200f\u2060\u2061\u2062\u2063\u2064\ufeff\ufff9\ufffa\ufffb"
    + "".join(map(chr, range(0x202A, 0x202F)))  # bidi embeddings and overrides (U+202E reverses a line)
    + "".join(map(chr, range(0x2066, 0x2070)))  # bidi isolates, deprecated format characters
)
_SAFE: dict[int, str] = {
    **{code: chr(0x2400 + code) for code in range(0x20)},  # C0 as their pictures: ESC shows as ␛
    ord("\t"): " ",
    ord("\n"): "\n",
    0x7F: "\u2421",  # ␡
    **{code: SUBSTITUTE for code in range(0x80, 0xA0)},  # C1 (CSI, OSC, NEL, ...)
    **{ord(char): SUBSTITUTE for char in _INVISIBLE},
    0x2028: "\n",
    0x2029: "\n",
    **{code: SUBSTITUTE for code in range(0xD800, 0xE000)},  # lone surrogates cannot be written out
}
_ONE_LINE = {**_SAFE, ord("\n"): " ", 0x2028: " ", 0x2029: " "}


def sanitize(text: str, limit: int = PLAIN_LIMIT, *, one_line: bool = False) -> str:
    """`text` from outside, safe to draw: at most `limit` characters (the last one "…" when cut), control
    characters (C0 but newline, DEL, C1, so every ANSI escape) and the invisible ones that reorder or hide
    text (bidi overrides, zero-width spaces) replaced by visible marks, "\\r\\n" read as a line break.
    `one_line` makes line breaks spaces too. ZWJ and ZWNJ stay: emoji sequences and scripts need them."""
    if limit <= 0:
        return ""
    cut = len(text) > limit
    text = text[: limit - 1] if cut else text
    if "\r" in text:
        text = text.replace("\r\n", "\n")
    text = text.translate(_ONE_LINE if one_line else _SAFE)
    return text + "…" if cut else text


def plain(text: str, limit: int = PLAIN_LIMIT, *, one_line: bool = False, style: StyleType = "") -> Text:
    """An outside string (name, body, caption, error, SID, URL, file name) as `Text`: never read as markup,
    bounded and cleaned by `sanitize`. Use it wherever such a string reaches the screen."""
    return Text(sanitize(text, limit, one_line=one_line), style=style, end="")


ZONE: tzinfo | None = None
"""The agent's time zone for days and times on screen; None is the system's (`TZ`). Tests may set it."""
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
"""Spelled here, not by `strftime`, so that the locale cannot change a layout measured in cells."""
PREVIEW_LIMIT = 200
"""Characters of a body a one-line preview looks at: enough for any row, whatever the body's size."""
QUOTE_CHARS = 60
ATTACHED_CHARS = 120
"""How much of a quoted text, and of an ad's headline or an attachment's detail, a bubble shows."""


def tick(message: Message) -> str:
    """The delivery mark of an outbound message; failures carry their code."""
    if message.status in FAILED and message.error_code:
        return f"✗ {message.error_code}"
    return status_tick(message.status)


def display_name(contact: Contact) -> str:
    return contact.profile_name or contact.address.removeprefix("whatsapp:")


AUTOMATIC = "wa-inbox"
"""How the screens name the author of what wa-inbox sent by itself (`domain.team.SYSTEM`)."""
AGENT_CHARS = 32


def sender_label(message: Message, me: str | None) -> str | None:
    """Who sent an outbound message when it was not this inbox's agent `me`: their name, or
    `AUTOMATIC` for wa-inbox's own replies; None for an inbound message, one of `me`'s, or one stored
    before agents had names (outside text: draw it with `plain`)."""
    if message.direction is not Direction.OUTBOUND or message.author is None or message.author == me:
        return None
    return AUTOMATIC if message.author == SYSTEM else message.author[:AGENT_CHARS]


def preview(message: Message | None, limit: int = PREVIEW_LIMIT, me: str | None = None) -> str:
    """One line standing for a message in the conversation list, from at most `limit` characters of
    its body (still outside text: draw it with `plain`): "You: …" for `me`'s replies, "ana: …" for
    another agent's, "wa-inbox: …" for an automatic one."""
    if message is None:
        return ""
    text = " ".join(message.body[:limit].split()) or _attachment_label(message)
    if message.direction is not Direction.OUTBOUND:
        return text
    return f"{sender_label(message, me) or 'You'}: {text}"


def local(moment: datetime) -> datetime:
    """A stored (UTC) time in the agent's zone, `ZONE`."""
    return moment.astimezone(ZONE)


def day_label(day: date, today: date) -> str:
    """A thread's day separator: "Today", "Yesterday", "Mon 23 Nov", "Mon 23 Nov 2025" in another year."""
    if day == today:
        return "Today"
    if day == today - timedelta(days=1):
        return "Yesterday"
    label = f"{WEEKDAYS[day.weekday()]} {day.day} {MONTHS[day.month - 1]}"
    return label if day.year == today.year else f"{label} {day.year}"


def when_label(moment: datetime, now: datetime, compact: bool = False) -> str:
    """When a conversation's last message came, for the list, in the agent's zone: "14:05" today,
    "Yesterday" ("Yest." compact), "23 Nov" this year, "Nov 2025" ("2025" compact) before. At most 9
    cells, 6 compact."""
    when, today = local(moment), local(now).date()
    day = when.date()
    if day == today:
        return f"{when.hour:02d}:{when.minute:02d}"
    if day == today - timedelta(days=1):
        return "Yest." if compact else "Yesterday"
    if day.year == today.year:
        return f"{day.day} {MONTHS[day.month - 1]}"
    return str(day.year) if compact else f"{MONTHS[day.month - 1]} {day.year}"


def _attachment_label(message: Message) -> str:
    if message.media:
        return f"[{message.media[0].content_type.split('/')[0]}]"
    if message.location:
        return "[location]"
    return ""


def window_state(last_inbound_at: datetime | None, now: datetime) -> tuple[str, str]:
    """(label, level) for the 24-hour window: level is "open", "closing" (under 2 h) or "closed"."""
    left = window.remaining(last_inbound_at, now)
    if left.total_seconds() <= 0:
        return "closed", "closed"
    level = "closing" if left.total_seconds() < AMBER_BELOW_SECONDS else "open"
    return window.format_remaining(left), level


def describe_extras(message: Message) -> list[Text]:
    """The lines under a bubble's text: media, location, button taps, ad referrals, quotes, templates."""
    lines = [
        Text.assemble("📎 ", _one_line(m.content_type, ATTACHED_CHARS), "  ", _media_state(m))
        for m in message.media
    ]
    if message.location:
        place = message.location.label or message.location.address or ""
        where = f"📍 {message.location.latitude:.5f}, {message.location.longitude:.5f}"
        lines.append(Text.assemble(where, " " if place else "", _one_line(place, ATTACHED_CHARS)))
    if message.button_payload or (message.button_text and message.message_type == "button"):
        button = _one_line(message.button_text or "", 80)
        payload = _one_line(message.button_payload or "", 80)
        lines.append(Text.assemble("🔘 tapped “", button, "” (", payload, ")"))
    if ad := _ad(message.referral):
        lines.append(Text.assemble("📣 from an ad: ", _one_line(ad, ATTACHED_CHARS)))
    if message.replied_to_sid or message.replied_to_body:
        quote = " ".join((message.replied_to_body or "")[: QUOTE_CHARS * 4].split())
        what = _one_line(quote, QUOTE_CHARS) if quote else Text("reply to an earlier message")
        lines.append(Text.assemble("↩ ", what))
    if message.template_name or message.content_sid:
        template = message.template_name or message.content_sid or ""
        lines.append(Text.assemble("📄 template ", _one_line(template, 80)))
    return lines


def _ad(referral: Mapping[str, str] | None) -> str:
    """What names the ad a message came from: its headline, source URL or body; "" when none says."""
    for key in ("ReferralHeadline", "ReferralSourceUrl", "ReferralBody"):
        value = (referral or {}).get(key) or ""
        if value.strip():
            return value.strip()
    return ""


def _one_line(text: str, limit: int) -> Text:
    return plain(text, limit, one_line=True)


def _media_state(media: MediaRef) -> Text:
    """Where an attachment stands: on disk with its size (o opens it), on its way, given up, or removed
    by retention (never "downloading…" again)."""
    if media.removed:
        return _one_line(media.removed, ATTACHED_CHARS)
    if media.local_path:
        size = f"{media.size_bytes / 1000:,.0f} kB · " if media.size_bytes is not None else ""
        return Text(f"{size}o opens it")
    if media.download_error:
        return Text.assemble("not downloaded: ", _one_line(media.download_error, ATTACHED_CHARS))
    if media.url.startswith("http") and "/Media/" in media.url:
        return Text("downloading…")
    return _one_line(media.url.rsplit("/", 1)[-1], ATTACHED_CHARS)


def agent_name(name: str) -> str:
    """An agent as the screens name them: `AUTOMATIC` for wa-inbox itself (outside text: `plain`)."""
    return AUTOMATIC if name == SYSTEM else name[:AGENT_CHARS]


def event_sentence(event: ThreadEvent) -> str:
    """A thread line that is not a message, without its time: "ana assigned this to ben", "ben took
    this", "ana marked this resolved", "ana snoozed this until Sat 14 Mar 09:00", "ana added the label
    vip" (outside text: draw it with `plain`). Notes are drawn as notes, not as a sentence."""
    who = agent_name(event.author)
    if event.kind is EventKind.ASSIGNED:
        if not event.body:
            return f"{who} unassigned this"
        if event.body == event.author:
            return f"{who} took this"
        return f"{who} assigned this to {agent_name(event.body)}"
    if event.kind is EventKind.STATUS:
        if event.body == ConversationStatus.SNOOZED:
            until = _moment(event.detail)
            return f"{who} snoozed this until {until}" if until else f"{who} snoozed this"
        if event.body == ConversationStatus.OPEN:
            return f"{who} reopened this"
        return f"{who} marked this {event.body}"
    if event.kind is EventKind.LABEL:
        added, label = event.body.startswith("+"), event.body[1:]
        return f"{who} {'added' if added else 'removed'} the label {label}"
    return f"{who}: {event.body}"


def moment_label(moment: datetime) -> str:
    """A time to come or past, in the agent's zone, locale-free: "Sat 14 Mar 09:00"."""
    when = local(moment)
    return f"{WEEKDAYS[when.weekday()]} {when.day} {MONTHS[when.month - 1]} {when.hour:02d}:{when.minute:02d}"


def _moment(text: str | None) -> str:
    """A snooze's end as the store keeps it (ISO 8601), as `moment_label` says it; "" when absent."""
    if not text:
        return ""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return text
    return moment_label(moment if moment.tzinfo else moment.replace(tzinfo=UTC))
