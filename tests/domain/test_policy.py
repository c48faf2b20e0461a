"""The send policy: what Twilio or WhatsApp would refuse is refused first, in one sentence."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from wa_inbox.domain.models import Contact
from wa_inbox.domain.policy import Attachment, Draft, Limits, refusal

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
ANA = "whatsapp:+5511987654321"
LIMITS = Limits(5_000_000, 16_000_000, ("image/", "application/pdf"))
HX = "HX" + "a" * 32


def contact(
    last_inbound: timedelta | None = timedelta(hours=1), opted_out_ago: timedelta | None = None
) -> Contact:
    return Contact(
        ANA,
        "Ana",
        "5511987654321",
        NOW - last_inbound if last_inbound is not None else None,
        opted_out_ago is not None,
        NOW - opted_out_ago if opted_out_ago is not None else None,
        "keyword 'STOP'" if opted_out_ago is not None else None,
    )


def test_text_inside_the_window_is_fine() -> None:
    assert refusal(Draft(ANA, "Olá"), contact(), NOW, LIMITS) is None


def test_text_after_the_window_closed_names_when_and_the_way_out() -> None:
    reason = refusal(Draft(ANA, "Olá"), contact(timedelta(hours=25)), NOW, LIMITS)

    assert reason is not None
    assert "closed at 2026-11-24 11:00 UTC" in reason and "approved template" in reason


def test_a_customer_who_never_wrote_gets_templates_only() -> None:
    assert "never written" in (refusal(Draft(ANA, "Hi"), None, NOW, LIMITS) or "")
    assert refusal(Draft(ANA, content_sid=HX), None, NOW, LIMITS) is None


def test_opted_out_blocks_templates_too_and_names_the_date() -> None:
    reason = refusal(Draft(ANA, content_sid=HX), contact(opted_out_ago=timedelta(days=2)), NOW, LIMITS)

    assert reason is not None and "opted out on 2026-11-22 12:00 UTC by sending STOP" in reason


def test_an_old_opt_out_expires_with_a_suppression_ttl() -> None:
    ttl = Limits(5_000_000, 16_000_000, ("image/",), suppression_ttl=timedelta(days=30))

    assert refusal(Draft(ANA, "Hi"), contact(opted_out_ago=timedelta(days=31)), NOW, ttl) is None
    assert refusal(Draft(ANA, "Hi"), contact(opted_out_ago=timedelta(days=29)), NOW, ttl) is not None


@pytest.mark.parametrize(
    ("draft", "words"),
    [
        (Draft(ANA, "  "), "nothing to send"),
        (Draft(ANA, "x" * 1601), "1,601 characters"),
        (Draft(ANA, "hi", content_sid=HX), "without a body"),
        (Draft(ANA, content_sid=HX, content_variables={"name": "Ana"}), "numbered"),
        (Draft(ANA, "", (Attachment("https://a/1.jpg"), Attachment("https://a/2.jpg"))), "one attachment"),
        (
            Draft(ANA, "", (Attachment("https://a/b.jpg", "image/jpeg", 6_000_000, "b.jpg"),)),
            "limit for images",
        ),
        (Draft(ANA, "", (Attachment("https://a/b.pdf", "application/pdf", 17_000_000, "b.pdf"),)), "16.0 MB"),
        (Draft(ANA, "", (Attachment("https://a/b.exe", "application/x-msdownload", 10, "b.exe"),)), "a type"),
    ],
)
def test_what_twilio_would_refuse(draft: Draft, words: str) -> None:
    reason = refusal(draft, contact(), NOW, LIMITS)

    assert reason is not None and words in reason
    assert reason.startswith("Not sent") and reason.count(". ") == 0  # one sentence
