"""How outside strings, dates and bubble extras read on screen: the plain functions of tui/format.py."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from rich.cells import cell_len
from rich.text import Text

from wa_inbox.domain.models import Direction, Location, MediaRef, Message
from wa_inbox.tui import format as fmt
from wa_inbox.tui.format import PLAIN_LIMIT, plain, sanitize

HOSTILE = ["[/x]", "[@click=app.quit]x[/]", "[b]", "[", "]", "[[", "a[b", "[/]", "[bold red]x", "\\[x]"]


@pytest.mark.parametrize("text", HOSTILE)
def test_markup_is_kept_as_text(text: str) -> None:
    shown = plain(text)
    assert isinstance(shown, Text)
    assert shown.plain == text
    assert shown.spans == []


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("\x1b[31mred", "␛[31mred"),
        ("\x1b]8;;http://x\x07link", "␛]8;;http://x␇link"),
        ("bell\x07", "bell␇"),
        ("nul\x00", "nul␀"),
        ("del\x7f", "del␡"),
        ("csi\x9b31m", "csi␚31m"),
        ("nel\x85", "nel␚"),
        ("rtl\u202eevil", "rtl␚evil"),
        ("isolate\u2067x\u2069", "isolate␚x␚"),
        ("zero\u200bwidth", "zero␚width"),
        ("bom\ufeff", "bom␚"),
        ("lone\ud800", "lone␚"),
        ("tab\there", "tab here"),
        ("crlf\r\nline", "crlf\nline"),
        ("cr\roverwrite", "cr␍overwrite"),
        ("lines\nstay", "lines\nstay"),
        ("sep\u2028para", "sep\npara"),
    ],
)
def test_control_and_invisible_characters_become_visible(text: str, shown: str) -> None:
    assert sanitize(text) == shown
    assert plain(text).plain == shown


def test_emoji_sequences_and_scripts_keep_their_joiners() -> None:
    family = "👨\u200d👩\u200d👧"
    persian = "می\u200cخواهم"
    assert sanitize(family) == family
    assert sanitize(persian) == persian
    assert sanitize("Chloé 日本 ✓✓ 🕓") == "Chloé 日本 ✓✓ 🕓"


def test_one_line_makes_line_breaks_spaces() -> None:
    assert sanitize("a\nb\r\nc\u2029d", one_line=True) == "a b c d"


def test_the_length_is_bounded() -> None:
    assert len(plain("x" * 10_000)) == PLAIN_LIMIT
    assert plain("x" * 10_000).plain.endswith("x…")
    assert plain("abcdef", 4).plain == "abc…"
    assert plain("abcd", 4).plain == "abcd"
    assert plain("abc", 0).plain == ""
    assert plain("\x1b" * 10_000, 3).plain == "␛␛…"


def test_style_is_applied_to_the_whole_text() -> None:
    shown = plain("[b]x", style="bold")
    assert shown.plain == "[b]x"
    assert str(shown.style) == "bold"


# --- dates -----------------------------------------------------------------------------------------

NOW = datetime(2026, 3, 14, 15, 0, tzinfo=UTC)  # a Saturday
TODAY = date(2026, 3, 14)


@pytest.fixture(autouse=True)
def utc(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fmt, "ZONE", UTC)


@pytest.fixture
def zone(monkeypatch: pytest.MonkeyPatch) -> Callable[[int], None]:
    """Set the agent's zone to UTC+hours (the widgets' days and times follow `fmt.ZONE`)."""
    return lambda hours: monkeypatch.setattr(fmt, "ZONE", timezone(timedelta(hours=hours)))


@pytest.mark.parametrize(
    ("day", "label"),
    [
        (date(2026, 3, 14), "Today"),
        (date(2026, 3, 13), "Yesterday"),
        (date(2026, 3, 12), "Thu 12 Mar"),
        (date(2026, 1, 1), "Thu 1 Jan"),
        (date(2025, 12, 31), "Wed 31 Dec 2025"),
        (date(2025, 11, 23), "Sun 23 Nov 2025"),
        (date(2026, 3, 15), "Sun 15 Mar"),  # a clock behind the sender's: a date, not "Tomorrow"
    ],
)
def test_day_labels(day: date, label: str) -> None:
    assert fmt.day_label(day, TODAY) == label


def test_yesterday_across_a_new_year() -> None:
    assert fmt.day_label(date(2025, 12, 31), date(2026, 1, 1)) == "Yesterday"
    assert fmt.day_label(date(2025, 12, 30), date(2026, 1, 1)) == "Tue 30 Dec 2025"


@pytest.mark.parametrize(
    ("moment", "full", "compact"),
    [
        (NOW - timedelta(minutes=5), "14:55", "14:55"),
        (datetime(2026, 3, 14, 0, 1, tzinfo=UTC), "00:01", "00:01"),
        (datetime(2026, 3, 13, 23, 59, tzinfo=UTC), "Yesterday", "Yest."),
        (datetime(2026, 3, 12, 9, 0, tzinfo=UTC), "12 Mar", "12 Mar"),
        (datetime(2025, 11, 23, 9, 0, tzinfo=UTC), "Nov 2025", "2025"),
    ],
)
def test_when_labels_in_the_list(
    zone: Callable[[int], None], moment: datetime, full: str, compact: str
) -> None:
    zone(0)
    assert fmt.when_label(moment, NOW) == full
    assert fmt.when_label(moment, NOW, compact=True) == compact
    assert cell_len(full) <= 9 and cell_len(compact) <= 6


def test_days_are_the_agents_not_utcs(zone: Callable[[int], None]) -> None:
    late = datetime(2026, 3, 13, 22, 30, tzinfo=UTC)  # 13 March in UTC
    zone(0)
    assert fmt.when_label(late, NOW) == "Yesterday"
    zone(3)  # 01:30 on the 14th in UTC+3
    assert fmt.when_label(late, NOW) == "01:30"
    assert fmt.local(late).date() == TODAY
    zone(-5)  # 17:30 on the 13th; and now is 10:00 on the 14th
    assert fmt.when_label(late, NOW) == "Yesterday"


def test_without_a_zone_the_systems_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    with monkeypatch.context() as patch:
        patch.setattr(fmt, "ZONE", None)
        patch.setenv("TZ", "JST-9")  # POSIX spelling: no tz database needed
        time.tzset()
        assert fmt.ZONE is None
        assert fmt.local(NOW).strftime("%H:%M") == "00:00"
        assert fmt.when_label(datetime(2026, 3, 14, 14, 30, tzinfo=UTC), NOW) == "Yesterday"
    time.tzset()


# --- bubble extras and previews --------------------------------------------------------------------

BASE = Message(
    id=1,
    sid="SM" + "a" * 32,
    direction=Direction.INBOUND,
    address="whatsapp:+5511987654321",
    from_addr="whatsapp:+5511987654321",
    to_addr="whatsapp:+14155238886",
    body="Hi",
    status="received",
    error_code=None,
    error_message=None,
    message_type="text",
    media=(),
    location=None,
    button_text=None,
    button_payload=None,
    referral={},
    replied_to_sid=None,
    content_sid=None,
    content_variables=None,
    created_at=NOW,
    updated_at=NOW,
    read_by_agent_at=None,
)


def extras(**fields: object) -> list[str]:
    lines = fmt.describe_extras(replace(BASE, **fields))  # type: ignore[arg-type]
    assert all(isinstance(line, Text) for line in lines)
    return [line.plain for line in lines]


def test_a_plain_message_has_no_extras() -> None:
    assert extras() == []


def test_a_referral_needs_a_headline_url_or_body() -> None:
    assert extras(referral={"ReferralNumMedia": "0"}) == []
    assert extras(referral={"ReferralCtwaClid": "ARA", "ReferralHeadline": "  "}) == []
    assert extras(referral={"ReferralHeadline": "Spring sale"}) == ["📣 from an ad: Spring sale"]
    assert extras(referral={"ReferralSourceUrl": "https://fb.me/x", "ReferralBody": "b"}) == [
        "📣 from an ad: https://fb.me/x"
    ]
    assert extras(referral={"ReferralBody": "Shoes -50%"}) == ["📣 from an ad: Shoes -50%"]


def test_a_reply_quotes_the_text_it_replies_to() -> None:
    replied = "SM" + "b" * 32
    assert extras(replied_to_sid=replied) == ["↩ reply to an earlier message"]
    assert extras(replied_to_sid=replied, replied_to_body="Is it\nin stock?") == ["↩ Is it in stock?"]
    (quote,) = extras(replied_to_sid=replied, replied_to_body="word " * 100)
    assert quote.startswith("↩ word word") and quote.endswith("…")
    assert len(quote) == len("↩ ") + fmt.QUOTE_CHARS


def test_a_template_shows_its_name_else_its_sid() -> None:
    sid = "HX" + "c" * 32
    assert extras(content_sid=sid) == [f"📄 template {sid}"]
    assert extras(content_sid=sid, template_name="order_shipped") == ["📄 template order_shipped"]


@pytest.mark.parametrize("hostile", [*HOSTILE, "\x1b[2J\x1b[H", "a\u202eb", "x" * 10_000])
def test_extras_keep_outside_strings_as_text(hostile: str) -> None:
    media = MediaRef(0, f"https://example.com/{hostile}", hostile, download_error=hostile)
    lines = fmt.describe_extras(
        replace(
            BASE,
            media=(media,),
            location=Location(1.5, 2.5, address=hostile, label=hostile),
            button_text=hostile,
            button_payload=hostile,
            message_type="button",
            referral={"ReferralHeadline": hostile},
            replied_to_sid="SM1",
            replied_to_body=hostile,
            content_sid="HX1",
            template_name=hostile,
        )
    )
    assert len(lines) == 6
    for line in lines:
        assert line.spans == [] or all(span.style == "" for span in line.spans)
        assert "\x1b" not in line.plain and "\u202e" not in line.plain and "\n" not in line.plain
        assert len(line.plain) < 300
    if len(hostile) < 20 and hostile.isprintable():
        assert all(hostile in line.plain for line in lines[1:])


def test_a_preview_reads_a_bounded_part_of_the_body() -> None:
    assert fmt.preview(replace(BASE, body="a\n b\tc")) == "a b c"
    assert fmt.preview(replace(BASE, body="x" * 100_000)) == "x" * fmt.PREVIEW_LIMIT
    assert fmt.preview(replace(BASE, direction=Direction.OUTBOUND, body="[b]ok")) == "You: [b]ok"


def test_media_removed_by_retention_says_so_rather_than_downloading() -> None:
    url = "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1"
    removed = MediaRef(0, url, "image/jpeg", size_bytes=2048, removed="removed after 30 days")

    assert extras(media=(removed,)) == ["📎 image/jpeg  removed after 30 days"]
    assert extras(media=(MediaRef(0, url, "image/jpeg"),)) == ["📎 image/jpeg  downloading…"]
