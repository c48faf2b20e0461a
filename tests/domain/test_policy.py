"""The send policy: what Twilio or WhatsApp would refuse is refused first, in one sentence."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from wa_inbox.domain.models import Contact
from wa_inbox.domain.policy import (
    Attachment,
    Draft,
    Limits,
    refusal,
    sendable,
    standing_refusal,
    template_draft,
)
from wa_inbox.domain.templates import TemplateInfo

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
    assert standing_refusal(contact(), NOW, LIMITS) is None  # the draft's fault: no standing refusal


PENDING = TemplateInfo(HX, "track_order", "en", "twilio/text", "Your order {{1}}", approval="pending")
APPROVED_ONE = TemplateInfo(
    "HX" + "b" * 32, "order_shipped", "en", "twilio/text", "Shipped {{1}}", approval="approved"
)
REJECTED = TemplateInfo("HX" + "c" * 32, "winback", "en", "twilio/text", "Come back", approval="rejected")
TEMPLATES = [PENDING, APPROVED_ONE, REJECTED]


def test_an_unapproved_template_outside_the_window_is_refused_by_name() -> None:
    reason = refusal(template_draft(ANA, PENDING, {"1": "#8"}), contact(timedelta(hours=25)), NOW, LIMITS)

    assert reason is not None and reason.startswith("Not sent") and reason.count(". ") == 0
    assert "'track_order' is pending, not approved by WhatsApp" in reason
    to_a_stranger = refusal(template_draft(ANA, PENDING), None, NOW, LIMITS)
    assert to_a_stranger is not None and "is pending, not approved" in to_a_stranger


def test_an_approved_template_goes_outside_the_window() -> None:
    assert (
        refusal(template_draft(ANA, APPROVED_ONE, {"1": "#8"}), contact(timedelta(hours=25)), NOW, LIMITS)
        is None
    )
    assert refusal(template_draft(ANA, APPROVED_ONE), None, NOW, LIMITS) is None


def test_any_template_goes_inside_the_window() -> None:
    assert refusal(template_draft(ANA, PENDING, {"1": "#8"}), contact(), NOW, LIMITS) is None


def test_a_template_given_by_sid_unchecked_is_left_to_twilio() -> None:
    assert refusal(Draft(ANA, content_sid=HX), contact(timedelta(hours=25)), NOW, LIMITS) is None


def test_a_template_draft_carries_its_approval_and_preview() -> None:
    draft = template_draft(ANA, PENDING, {"1": "#8"})

    assert (draft.content_sid, draft.content_variables, draft.preview) == (HX, {"1": "#8"}, "Your order #8")
    assert (draft.template_name, draft.template_approval, draft.body, draft.media) == (
        "track_order",
        "pending",
        "",
        (),
    )


@pytest.mark.parametrize(
    ("who", "offered"),
    [
        (contact(), TEMPLATES),
        (contact(timedelta(hours=25)), [APPROVED_ONE]),
        (contact(None), [APPROVED_ONE]),
        (contact(opted_out_ago=timedelta(days=2)), []),
        (contact(timedelta(hours=25), opted_out_ago=timedelta(days=2)), []),
    ],
    ids=["window-open", "window-closed", "never-wrote", "opted-out", "opted-out-window-closed"],
)
def test_the_picker_offers_what_a_send_would_take(who: Contact, offered: list[TemplateInfo]) -> None:
    assert sendable(TEMPLATES, who, NOW, LIMITS) == offered


def test_the_picker_offers_again_once_an_opt_out_expired() -> None:
    ttl = Limits(5_000_000, 16_000_000, ("image/",), suppression_ttl=timedelta(days=30))

    assert sendable(TEMPLATES, contact(opted_out_ago=timedelta(days=31)), NOW, ttl) == TEMPLATES
    assert sendable(TEMPLATES, contact(opted_out_ago=timedelta(days=29)), NOW, ttl) == []


TTL = Limits(5_000_000, 16_000_000, ("image/",), suppression_ttl=timedelta(days=30))
STANDINGS = [
    ("window-open", contact(), LIMITS, None),
    ("window-closed", contact(timedelta(hours=25)), LIMITS, True),
    ("never-wrote", contact(None), LIMITS, True),
    ("opted-out", contact(opted_out_ago=timedelta(days=2)), LIMITS, False),
    ("opted-out-window-closed", contact(timedelta(hours=25), opted_out_ago=timedelta(days=2)), LIMITS, False),
    ("opt-out-within-ttl", contact(opted_out_ago=timedelta(days=29)), TTL, False),
    ("opt-out-past-ttl", contact(opted_out_ago=timedelta(days=31)), TTL, None),
    (
        "opt-out-past-ttl-window-closed",
        contact(timedelta(days=40), opted_out_ago=timedelta(days=31)),
        TTL,
        True,
    ),
]


@pytest.mark.parametrize(
    ("who", "limits", "template_possible"), [s[1:] for s in STANDINGS], ids=[s[0] for s in STANDINGS]
)
def test_the_banner_says_what_a_session_text_would_get(
    who: Contact, limits: Limits, template_possible: bool | None
) -> None:
    standing = standing_refusal(who, NOW, limits)

    sent = refusal(Draft(ANA, "Olá, tudo bem?"), who, NOW, limits)
    assert (standing.reason if standing else None) == sent
    assert (standing.template_possible if standing else None) == template_possible
    approved = refusal(template_draft(ANA, APPROVED_ONE, {"1": "#8"}), who, NOW, limits)
    assert standing is None or standing.template_possible == (approved is None)
    assert bool(sendable(TEMPLATES, who, NOW, limits)) == (standing is None or standing.template_possible)


@pytest.mark.parametrize(
    "opted_out", [contact(opted_out_ago=timedelta(days=2)), contact(None, timedelta(days=2))]
)
def test_an_opted_out_customer_is_never_pointed_to_a_template(opted_out: Contact) -> None:
    standing = standing_refusal(opted_out, NOW, LIMITS)

    assert standing is not None and not standing.template_possible
    assert "template" not in standing.reason and "until they send START" in standing.reason
