"""The Content API through the SDK: templates, their approvals, paging with `meta` links."""

from __future__ import annotations

import httpx
import pytest
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from tests.emulator.fakes import ACCOUNT_SID, AUTH_TOKEN, HttpxTwilioClient
from wa_inbox.emulator import BY_NAME, TEMPLATES


async def test_content_and_approvals_list(twilio: Client) -> None:
    listed = await twilio.content.v1.content_and_approvals.list_async()
    assert [c.sid for c in listed] == [t.sid for t in TEMPLATES]
    statuses = {c.friendly_name: c.approval_requests["status"] for c in listed}
    assert {"approved", "pending", "rejected", "unsubmitted", "paused"} == set(statuses.values())
    shipped = next(c for c in listed if c.friendly_name == "order_shipped")
    assert shipped.types == {"twilio/text": {"body": "Hi {{1}}, your order {{2}} has shipped."}}
    assert shipped.approval_requests["category"] == "UTILITY"
    assert shipped.account_sid == ACCOUNT_SID and shipped.date_created is not None


async def test_rejected_template_says_why(twilio: Client) -> None:
    listed = await twilio.content.v1.content_and_approvals.list_async()
    rejected = next(c for c in listed if c.approval_requests["status"] == "rejected")
    assert rejected.approval_requests["rejection_reason"]


async def test_content_list_pages_through_meta_links(twilio: Client, sdk_http: HttpxTwilioClient) -> None:
    listed = await twilio.content.v1.contents.list_async(page_size=3)
    assert len(listed) == len(TEMPLATES)
    pages = [r for r in sdk_http.requests if r.url.path == "/v1/Content"]
    assert len(pages) == 3
    assert pages[1].url.params["PageToken"].startswith("PAHX")


async def test_fetch_content_and_its_approval(twilio: Client) -> None:
    quick = BY_NAME["delivery_slot_confirm"]
    content = await twilio.content.v1.contents(quick.sid).fetch_async()
    actions = content.types["twilio/quick-reply"]["actions"]
    assert [a["id"] for a in actions] == ["confirm_delivery", "reschedule_delivery", "talk_to_agent"]
    assert content.links["approval_fetch"].endswith(f"/v1/Content/{quick.sid}/ApprovalRequests")
    approval = await twilio.content.v1.contents(quick.sid).approval_fetch().fetch_async()
    assert (approval.whatsapp["status"], approval.whatsapp["name"]) == ("approved", quick.friendly_name)


async def test_unknown_content_is_404(twilio: Client) -> None:
    with pytest.raises(TwilioRestException) as caught:
        await twilio.content.v1.contents("HX" + "0" * 32).fetch_async()
    assert (caught.value.status, caught.value.code) == (404, 20404)


async def test_content_needs_auth(http: httpx.AsyncClient) -> None:
    assert (await http.get("/v1/Content")).status_code == 401
    assert (await http.get("/v1/Content", auth=(ACCOUNT_SID, AUTH_TOKEN))).status_code == 200


def test_template_variables_have_samples_for_every_placeholder() -> None:
    for template in TEMPLATES:
        assert "{{" not in template.render({}), template.friendly_name
