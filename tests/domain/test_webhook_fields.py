"""Whatever a form holds, parsing it gives a value or `MalformedWebhook`: never another exception (a 500)."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from wa_inbox.domain.webhooks import MalformedWebhook, parse_inbound, parse_status

KEYS = [
    "MessageSid",
    "SmsSid",
    "From",
    "To",
    "Body",
    "NumMedia",
    "MediaUrl0",
    "MediaContentType0",
    "Latitude",
    "Longitude",
    "MessageStatus",
    "ErrorCode",
    "AccountSid",
    "MessagingServiceSid",
    "OriginalRepliedMessageSid",
    "ReferralSourceId",
]
NASTY = st.sampled_from(
    ["", "0", "10", "²", "٣", "1e999", "nan", "-inf", "9" * 5000, str(2**70), "SM" + "a" * 32, "[/x]", "\x00"]
)
VALUES = st.one_of(NASTY, st.text(max_size=40))
FORMS = st.dictionaries(st.sampled_from(KEYS), st.lists(VALUES, min_size=1, max_size=2), max_size=len(KEYS))
BASE = {"MessageSid": ["SM" + "b" * 32], "From": ["whatsapp:+5511987654321"], "To": ["whatsapp:+14155238886"]}


@settings(max_examples=800, deadline=None)
@given(FORMS, st.booleans())
def test_parsing_never_raises_anything_but_malformed(form: dict[str, list[str]], on_base: bool) -> None:
    form = {**BASE, **form} if on_base else form
    for parse in (parse_inbound, parse_status):
        try:
            parsed = parse(form)
        except MalformedWebhook:
            continue
        location = getattr(parsed, "location", None)
        if location is not None:
            assert math.isfinite(location.latitude) and math.isfinite(location.longitude)
        error_code = getattr(parsed, "error_code", None)
        assert error_code is None or 0 <= error_code < 2**63
