"""Webhook forms into domain values: addresses as Twilio writes them are kept, others normalised."""

from __future__ import annotations

import pytest

from wa_inbox.domain.addresses import to_whatsapp
from wa_inbox.domain.webhooks import MalformedWebhook, parse_inbound, parse_status

SID = "SM" + "c" * 32


def status(**fields: str) -> dict[str, list[str]]:
    return {k: [v] for k, v in {"MessageSid": SID, "MessageStatus": "sent", **fields}.items()}


def test_a_canonical_address_is_taken_as_twilio_wrote_it() -> None:
    unknown_to_phonenumbers = "whatsapp:+10000000000"  # no such US area code, but Twilio's word stands
    with pytest.raises(ValueError):
        to_whatsapp(unknown_to_phonenumbers)

    assert parse_status(status(To=unknown_to_phonenumbers)).to_addr == unknown_to_phonenumbers


def test_other_spellings_are_normalised() -> None:
    update = parse_status(status(To="whatsapp:+55 (11) 98765-4321", From="+14155238886"))

    assert (update.to_addr, update.from_addr) == ("whatsapp:+5511987654321", "whatsapp:+14155238886")


@pytest.mark.parametrize("address", ["whatsapp:not-a-number", "whatsapp:+0123456789", "whatsapp:+1"])
def test_what_is_no_number_is_malformed(address: str) -> None:
    with pytest.raises(MalformedWebhook, match="To is not a WhatsApp address"):
        parse_status(status(To=address))


def inbound(**fields: str) -> dict[str, list[str]]:
    base = {"MessageSid": SID, "From": "whatsapp:+5511987654321", "To": "whatsapp:+14155238886"}
    return {k: [v] for k, v in {**base, "ReferralNumMedia": "0", **fields}.items()}


def test_referral_num_media_alone_is_no_referral() -> None:
    assert parse_inbound(inbound()).referral == {}
    assert parse_inbound(inbound(ReferralSourceType="ad", ReferralCtwaClid="ARA")).referral == {}


@pytest.mark.parametrize(
    "source", ["ReferralSourceId", "ReferralSourceUrl", "ReferralBody", "ReferralHeadline"]
)
def test_a_message_from_an_ad_keeps_every_referral_field(source: str) -> None:
    referral = parse_inbound(inbound(**{source: "x", "ReferralCtwaClid": "ARA"})).referral

    assert referral == {"ReferralNumMedia": "0", source: "x", "ReferralCtwaClid": "ARA"}
