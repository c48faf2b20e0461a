"""How messages, ticks and windows read on screen; plain functions the widgets share."""

from __future__ import annotations

from datetime import datetime

from rich.style import StyleType
from rich.text import Text

from wa_inbox.domain import window
from wa_inbox.domain.models import Contact, Direction, MediaRef, Message

TICKS = {
    "pending": "🕓",
    "sending": "🕓",
    "accepted": "🕓",
    "scheduled": "🕓",
    "queued": "🕓",
    "sent": "✓",
    "delivered": "✓✓",
    "partially_delivered": "✓✓",
    "read": "✓✓",
}
FAILED = frozenset({"failed", "undelivered", "canceled"})
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


def tick(message: Message) -> str:
    """The delivery mark of an outbound message; failures carry their code."""
    if message.status in FAILED:
        return f"✗ {message.error_code}" if message.error_code else "✗"
    return TICKS.get(message.status, "·")


def display_name(contact: Contact) -> str:
    return contact.profile_name or contact.address.removeprefix("whatsapp:")


def preview(message: Message | None) -> str:
    """One line standing for a message in the conversation list."""
    if message is None:
        return ""
    text = " ".join(message.body.split()) or _attachment_label(message)
    return f"You: {text}" if message.direction is Direction.OUTBOUND else text


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


def describe_extras(message: Message) -> list[str]:
    """The lines under a bubble's text: media, location, button taps, ad referrals, quotes."""
    lines = [f"📎 {m.content_type}  {_media_state(m)}" for m in message.media]
    if message.location:
        place = message.location.label or message.location.address or ""
        lines.append(f"📍 {message.location.latitude:.5f}, {message.location.longitude:.5f} {place}".rstrip())
    if message.button_payload or (message.button_text and message.message_type == "button"):
        lines.append(f"🔘 tapped “{message.button_text}” ({message.button_payload})")
    if message.referral:
        headline = message.referral.get("ReferralHeadline") or message.referral.get("ReferralSourceUrl", "")
        lines.append(f"📣 from an ad: {headline}")
    if message.replied_to_sid:
        lines.append(f"↩ reply to {message.replied_to_sid[:10]}…")
    if message.template_sid:
        lines.append(f"📄 template {message.template_sid}")
    return lines


def _media_state(media: MediaRef) -> str:
    """Where an attachment stands: on disk with its size (o opens it), on its way, or given up."""
    if media.local_path:
        size = f"{media.size_bytes / 1000:,.0f} kB · " if media.size_bytes is not None else ""
        return f"{size}o opens it"
    if media.download_error:
        return f"not downloaded: {media.download_error}"
    if media.url.startswith("http") and "/Media/" in media.url:
        return "downloading…"
    return media.url.rsplit("/", 1)[-1]
