"""Media: customer photos stored behind Basic auth and a short-lived redirect, like Twilio's."""

from __future__ import annotations

import httpx
import pytest
from twilio.rest import Client

from tests.emulator.fakes import ACCOUNT_SID, AUTH_TOKEN, CUSTOMER, SENDER, Receiver
from wa_inbox.emulator import Emulator
from wa_inbox.emulator.customers import tiny_png

PHOTO = tiny_png((200, 30, 30))


@pytest.fixture
async def photo_url(emulator: Emulator, receiver: Receiver) -> str:
    await emulator.customer_says(CUSTOMER, "Foto da caixa", media=[(PHOTO, "image/png")])
    return receiver.of("/inbound")[-1].params["MediaUrl0"]


async def test_inbound_media_is_announced_in_the_webhook(
    emulator: Emulator, receiver: Receiver, photo_url: str
) -> None:
    params = receiver.of("/inbound")[-1].params
    assert (params["NumMedia"], params["MediaContentType0"], params["MessageType"]) == (
        "1",
        "image/png",
        "image",
    )
    sid = params["MessageSid"]
    assert sid.startswith("MM")
    assert photo_url.startswith(
        f"http://emulator.test/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/{sid}/Media/ME"
    )


async def test_media_needs_auth(http: httpx.AsyncClient, photo_url: str) -> None:
    anonymous = await http.get(photo_url)
    assert anonymous.status_code == 401 and anonymous.json()["code"] == 20003
    wrong = await http.get(photo_url, auth=(ACCOUNT_SID, "nope"))
    assert wrong.status_code == 401


async def test_media_redirects_to_an_unauthenticated_cdn_url(http: httpx.AsyncClient, photo_url: str) -> None:
    redirect = await http.get(photo_url, auth=(ACCOUNT_SID, AUTH_TOKEN))
    assert redirect.status_code == 307
    location = redirect.headers["location"]
    assert location.startswith("http://emulator.test/_emulator/media-cdn/")
    content = await http.get(location)
    assert content.content == PHOTO and content.headers["content-type"] == "image/png"
    followed = await http.get(photo_url, auth=(ACCOUNT_SID, AUTH_TOKEN), follow_redirects=True)
    assert followed.content == PHOTO


async def test_unknown_cdn_token_is_refused(http: httpx.AsyncClient) -> None:
    assert (await http.get("/_emulator/media-cdn/forged")).status_code == 403


async def test_media_metadata_through_the_sdk(twilio: Client, receiver: Receiver, photo_url: str) -> None:
    sid = receiver.of("/inbound")[-1].params["MessageSid"]
    [media] = await twilio.messages(sid).media.list_async()
    assert (media.content_type, media.parent_sid) == ("image/png", sid)
    assert photo_url.endswith(media.sid)
    fetched = await twilio.messages(sid).media(media.sid).fetch_async()
    assert fetched.uri == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/{sid}/Media/{media.sid}.json"


async def test_outbound_media_message(
    twilio: Client, http: httpx.AsyncClient, customer_in_window: str
) -> None:
    url = "https://cdn.example.com/catalog/blue-jacket.jpg"
    message = await twilio.messages.create_async(
        to=customer_in_window, from_=SENDER, media_url=[url], body="Here it is"
    )
    assert (message.num_media, message.body) == ("1", "Here it is")
    [media] = await twilio.messages(message.sid).media.list_async()
    assert media.content_type == "image/jpeg"
    raw = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/{message.sid}/Media/{media.sid}"
    redirect = await http.get(raw, auth=(ACCOUNT_SID, AUTH_TOKEN))
    assert (redirect.status_code, redirect.headers["location"]) == (307, url)


async def test_unknown_media_is_404(twilio: Client, http: httpx.AsyncClient, photo_url: str) -> None:
    missing = photo_url.rsplit("/", 1)[0] + "/ME" + "0" * 32
    response = await http.get(missing, auth=(ACCOUNT_SID, AUTH_TOKEN))
    assert response.status_code == 404 and response.json()["code"] == 20404
