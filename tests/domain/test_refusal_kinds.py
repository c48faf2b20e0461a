"""Each refusal names its rule (`RefusalKind`), a fixed word the metrics count; the sentence is the same
`refusal` gives."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.domain.test_policy import ANA, HX, LIMITS, NOW, contact
from wa_inbox.domain.policy import Attachment, Draft, RefusalKind, refusal, why_refused

CLOSED = timedelta(hours=25)


@pytest.mark.parametrize(
    ("draft", "last_inbound", "opted_out_ago", "kind"),
    [
        (Draft(ANA, "   "), timedelta(hours=1), None, RefusalKind.SHAPE),
        (Draft(ANA, content_sid=HX, body="and text"), timedelta(hours=1), None, RefusalKind.SHAPE),
        (Draft(ANA, "Olá"), timedelta(hours=1), timedelta(days=1), RefusalKind.OPT_OUT),
        (Draft(ANA, "Olá"), CLOSED, None, RefusalKind.WINDOW),
        (Draft(ANA, "Olá"), None, None, RefusalKind.WINDOW),
        (
            Draft(ANA, content_sid=HX, template_approval="rejected"),
            CLOSED,
            None,
            RefusalKind.TEMPLATE_NOT_APPROVED,
        ),
        (Draft(ANA, "x" * 1601), timedelta(hours=1), None, RefusalKind.LENGTH),
        (
            Draft(ANA, "", (Attachment("a.exe", "application/x-dos"),)),
            timedelta(hours=1),
            None,
            RefusalKind.MEDIA,
        ),
        (
            Draft(ANA, "", (Attachment("a.jpg", "image/jpeg", 9_000_000),)),
            timedelta(hours=1),
            None,
            RefusalKind.MEDIA,
        ),
    ],
)
def test_each_rule_names_itself_with_the_sentence_refusal_gives(
    draft: Draft, last_inbound: timedelta | None, opted_out_ago: timedelta | None, kind: RefusalKind
) -> None:
    customer = contact(last_inbound, opted_out_ago)

    refused = why_refused(draft, customer, NOW, LIMITS)

    assert refused is not None and refused.kind is kind
    assert refused.sentence == refusal(draft, customer, NOW, LIMITS)


def test_what_goes_has_no_refusal() -> None:
    assert why_refused(Draft(ANA, "Olá"), contact(), NOW, LIMITS) is None
    approved = Draft(ANA, content_sid=HX, template_approval="approved")
    assert why_refused(approved, contact(CLOSED), NOW, LIMITS) is None


def test_an_opt_out_comes_before_a_closed_window() -> None:
    refused = why_refused(Draft(ANA, "Olá"), contact(CLOSED, timedelta(days=1)), NOW, LIMITS)

    assert refused is not None and refused.kind is RefusalKind.OPT_OUT
