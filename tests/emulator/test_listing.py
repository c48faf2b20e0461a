"""Listing messages through the SDK: filters, newest-first order and paging across pages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from twilio.rest import Client

from tests.emulator.fakes import ACCOUNT_SID, CUSTOMER, SENDER, HttpxTwilioClient
from wa_inbox.emulator import Emulator

OTHER = "whatsapp:+447400123456"
MESSAGES = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"


@pytest.fixture
async def history(twilio: Client, emulator: Emulator) -> list[str]:
    """Six messages to CUSTOMER and four to OTHER, oldest first; plus CUSTOMER's inbound."""
    await emulator.customer_says(CUSTOMER, "hello")
    sids = []
    for n in range(10):
        to = CUSTOMER if n % 3 else OTHER
        message = await twilio.messages.create_async(to=to, from_=SENDER, body=f"message {n}")
        sids.append(message.sid)
    return sids


def pages_fetched(http: HttpxTwilioClient) -> int:
    return sum(r.method == "GET" and r.url.path == MESSAGES for r in http.requests)


async def test_list_pages_through_the_sdk_newest_first(
    twilio: Client, sdk_http: HttpxTwilioClient, history: list[str]
) -> None:
    listed = await twilio.messages.list_async(from_=SENDER, page_size=3)
    assert [m.sid for m in listed] == history[::-1]
    assert pages_fetched(sdk_http) == 4


async def test_list_filters_by_to_across_pages(
    twilio: Client, sdk_http: HttpxTwilioClient, history: list[str]
) -> None:
    listed = await twilio.messages.list_async(to=CUSTOMER, page_size=2)
    assert [m.body for m in listed] == [f"message {n}" for n in (8, 7, 5, 4, 2, 1)]
    assert {m.direction for m in listed} == {"outbound-api"}


async def test_limit_stops_paging_early(
    twilio: Client, sdk_http: HttpxTwilioClient, history: list[str]
) -> None:
    streamed = [m.sid async for m in await twilio.messages.stream_async(limit=5, page_size=2)]
    assert streamed == history[::-1][:5]
    assert pages_fetched(sdk_http) == 3


async def test_inbound_messages_are_listed_too(twilio: Client, history: list[str]) -> None:
    [inbound] = await twilio.messages.list_async(from_=CUSTOMER)
    assert (inbound.direction, inbound.status, inbound.to) == ("inbound", "received", SENDER)


async def test_date_sent_filters(twilio: Client, history: list[str]) -> None:
    yesterday = datetime.now(UTC) - timedelta(days=1)
    since = await twilio.messages.list_async(to=CUSTOMER, date_sent_after=yesterday)
    assert len(since) == 6
    assert await twilio.messages.list_async(date_sent_before=yesterday) == []
    assert len(await twilio.messages.list_async(date_sent=datetime.now(UTC).date())) == 11
    hour_ago = datetime.now(UTC) - timedelta(hours=1)
    assert len(await twilio.messages.list_async(to=OTHER, date_sent_after=hour_ago)) == 4


async def test_paging_is_stable_while_messages_arrive(
    twilio: Client, http: httpx.AsyncClient, history: list[str]
) -> None:
    auth = (ACCOUNT_SID, twilio.password)
    first = (await http.get(MESSAGES, params={"PageSize": 4}, auth=auth)).json()
    await twilio.messages.create_async(to=CUSTOMER, from_=SENDER, body="newcomer")
    second = (await http.get(first["next_page_uri"], auth=auth)).json()
    assert [m["sid"] for m in first["messages"] + second["messages"]] == history[::-1][:8]
    assert (second["page"], second["start"], second["end"]) == (1, 4, 7)


async def test_envelope_shape(twilio: Client, http: httpx.AsyncClient, history: list[str]) -> None:
    auth = (ACCOUNT_SID, twilio.password)
    query = {"To": OTHER, "DateSent>": "2020-01-01", "PageSize": 2}
    page = (await http.get(MESSAGES, params=query, auth=auth)).json()
    assert set(page) == {
        "messages",
        "first_page_uri",
        "next_page_uri",
        "previous_page_uri",
        "page",
        "page_size",
        "uri",
        "start",
        "end",
    }
    assert (page["page"], page["page_size"], page["start"], page["end"]) == (0, 2, 0, 1)
    assert "DateSent%3E=2020-01-01" in page["next_page_uri"]
    assert page["previous_page_uri"] is None


@pytest.mark.parametrize("query", [{"PageSize": "0"}, {"PageSize": "1001"}, {"DateSent>": "soon"}])
async def test_bad_list_parameters_are_400(
    twilio: Client, http: httpx.AsyncClient, query: dict[str, str]
) -> None:
    response = await http.get(MESSAGES, params=query, auth=(ACCOUNT_SID, twilio.password))
    assert response.status_code == 400 and response.json()["code"] == 20001
