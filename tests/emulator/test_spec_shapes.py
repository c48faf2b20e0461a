"""Every emulator response (and the SDK's requests) against Twilio's OpenAPI subsets in tests/spec."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from twilio.rest import Client

from tests.emulator.fakes import ACCOUNT_SID, AUTH_TOKEN, CUSTOMER, SENDER, SERVICE_SID
from tests.support.openapi import ACCOUNT, API, CONTENT, check, pointer
from wa_inbox.emulator import BY_NAME, TEMPLATES, Emulator
from wa_inbox.emulator.customers import tiny_png

AUTH = (ACCOUNT_SID, AUTH_TOKEN)


def response_ref(path: str, method: str, status: str = "200") -> str:
    parts = ("paths", path, method, "responses", status, "content", "application/json", "schema")
    return pointer(*parts)


def assert_complete(doc: dict[str, Any], schema: str, record: dict[str, Any]) -> None:
    """Every field the spec declares is present (the spec marks none as required)."""
    declared = set(doc["components"]["schemas"][schema]["properties"])
    assert declared <= set(record), declared - set(record)


@pytest.fixture
async def world(twilio: Client, emulator: Emulator) -> dict[str, str]:
    """An inbound photo, a session reply, a templated send and a media send; their SIDs."""
    photo = await emulator.customer_says(CUSTOMER, "caixa", media=[(tiny_png((9, 9, 9)), "image/png")])
    reply = await twilio.messages.create_async(to=CUSTOMER, from_=SENDER, body="Thanks!")
    await twilio.messages.create_async(
        to=CUSTOMER,
        messaging_service_sid=SERVICE_SID,
        content_sid=BY_NAME["order_shipped"].sid,
        content_variables=json.dumps({"1": "Ana", "2": "#1"}),
        status_callback="http://receiver.test/status",
    )
    await twilio.messages.create_async(
        to=CUSTOMER, from_=SENDER, media_url=["https://cdn.example.com/x.pdf"], body=""
    )
    await emulator.fail_next(63016, via="callback")
    await twilio.messages.create_async(to=CUSTOMER, from_=SENDER, body="will fail")
    await emulator.wait_idle()
    return {"photo": photo, "reply": reply.sid}


async def test_message_create_fetch_and_list(
    http: httpx.AsyncClient, emulator: Emulator, world: dict[str, str]
) -> None:
    base = f"/2010-04-01/Accounts/{ACCOUNT_SID}"
    form = {"To": CUSTOMER, "From": SENDER, "Body": "shape"}
    created = (await http.post(f"{base}/Messages.json", data=form, auth=AUTH)).json()
    check(API, response_ref(f"{ACCOUNT}/Messages.json", "post", "201"), created)
    assert_complete(API, "api.v2010.account.message", created)
    page = (await http.get(f"{base}/Messages.json", params={"PageSize": 2}, auth=AUTH)).json()
    check(API, response_ref(f"{ACCOUNT}/Messages.json", "get"), page)
    everything = (await http.get(f"{base}/Messages.json", auth=AUTH)).json()["messages"]
    assert {m["status"] for m in everything} >= {"received", "read", "failed"}
    for message in everything:
        fetched = (await http.get(f"{base}/Messages/{message['sid']}.json", auth=AUTH)).json()
        check(API, response_ref(f"{ACCOUNT}/Messages/{{Sid}}.json", "get"), fetched)
        assert_complete(API, "api.v2010.account.message", fetched)


async def test_media_list_and_fetch(http: httpx.AsyncClient, world: dict[str, str]) -> None:
    base = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/{world['photo']}"
    listed = (await http.get(f"{base}/Media.json", auth=AUTH)).json()
    check(API, response_ref(f"{ACCOUNT}/Messages/{{MessageSid}}/Media.json", "get"), listed)
    [media] = listed["media_list"]
    fetched = (await http.get(f"{base}/Media/{media['sid']}.json", auth=AUTH)).json()
    path = f"{ACCOUNT}/Messages/{{MessageSid}}/Media/{{Sid}}.json"
    check(API, response_ref(path, "get"), fetched)
    assert_complete(API, "api.v2010.account.message.media", fetched)


async def test_content_endpoints(http: httpx.AsyncClient) -> None:
    contents = (await http.get("/v1/Content", params={"PageSize": 3}, auth=AUTH)).json()
    check(CONTENT, response_ref("/v1/Content", "get"), contents)
    both = (await http.get("/v1/ContentAndApprovals", auth=AUTH)).json()
    check(CONTENT, response_ref("/v1/ContentAndApprovals", "get"), both)
    assert_complete(CONTENT, "content.v1.content_and_approvals", both["contents"][0])
    for template in TEMPLATES:
        one = (await http.get(f"/v1/Content/{template.sid}", auth=AUTH)).json()
        check(CONTENT, response_ref("/v1/Content/{Sid}", "get"), one)
        assert_complete(CONTENT, "content.v1.content", one)
        approval = (await http.get(f"/v1/Content/{template.sid}/ApprovalRequests", auth=AUTH)).json()
        check(CONTENT, response_ref("/v1/Content/{Sid}/ApprovalRequests", "get"), approval)


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda t: t.friendly_name)
def test_template_types_follow_the_types_schema(template: Any) -> None:
    check(CONTENT, pointer("components", "schemas", "types"), template.types)


async def test_sdk_create_requests_match_create_message_request(
    emulator: Emulator, world: dict[str, str]
) -> None:
    body = pointer(
        "paths",
        f"{ACCOUNT}/Messages.json",
        "post",
        "requestBody",
        "content",
        "application/x-www-form-urlencoded",
        "schema",
    )
    properties = API["paths"][f"{ACCOUNT}/Messages.json"]["post"]["requestBody"]["content"]
    declared = properties["application/x-www-form-urlencoded"]["schema"]["properties"]
    for entry in await emulator.sent():
        check(API, body, entry["params"])
        assert set(entry["params"]) <= set(declared)


async def test_error_body_shape(http: httpx.AsyncClient) -> None:
    response = await http.get(f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json")
    assert response.json() == {
        "code": 20003,
        "message": "Authenticate",
        "more_info": "https://www.twilio.com/docs/errors/20003",
        "status": 401,
    }
