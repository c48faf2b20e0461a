"""The JSON control API under /_emulator/, as the demo and scripts drive it."""

from __future__ import annotations

import base64

import httpx
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from tests.emulator.fakes import CUSTOMER, SENDER, Receiver
from wa_inbox.emulator import Emulator
from wa_inbox.emulator.customers import tiny_png


async def test_inbound_with_media(http: httpx.AsyncClient, receiver: Receiver) -> None:
    photo = base64.b64encode(tiny_png((1, 2, 3))).decode()
    payload = {
        "from": CUSTOMER,
        "body": "look",
        "profile_name": "Ana",
        "media": [{"content_type": "image/png", "base64": photo}],
    }
    response = await http.post("/_emulator/inbound", json=payload)
    assert response.status_code == 200
    [hook] = receiver.of("/inbound")
    assert hook.params["MessageSid"] == response.json()["sid"] and hook.params["NumMedia"] == "1"


async def test_button_and_location_inbound(http: httpx.AsyncClient, receiver: Receiver) -> None:
    await http.post("/_emulator/inbound", json={"from": CUSTOMER, "button": ["Reschedule", "r1"]})
    pin = {"latitude": 1.5, "longitude": 2.5}
    await http.post("/_emulator/inbound", json={"from": CUSTOMER, "location": pin})
    types = [h.params["MessageType"] for h in receiver.of("/inbound")]
    assert types == ["button", "location"]


async def test_config_changes_behaviour(
    http: httpx.AsyncClient, emulator: Emulator, twilio: Client, receiver: Receiver
) -> None:
    response = await http.post(
        "/_emulator/config", json={"read_rate": 0, "status_delay": [0, 0.001], "reorder": False}
    )
    assert response.json()["read_rate"] == 0 and response.json()["status_delay"] == [0, 0.001]
    await emulator.customer_says(CUSTOMER, "hi")
    message = await twilio.messages.create_async(
        to=CUSTOMER, from_=SENDER, body="hello", status_callback="http://receiver.test/status"
    )
    await emulator.wait_idle()
    assert receiver.statuses(message.sid) == ["queued", "sent", "delivered"]


async def test_fail_next_sent_and_opt_out(http: httpx.AsyncClient, twilio: Client) -> None:
    assert (await http.post("/_emulator/fail-next", json={"code": 20429})).status_code == 200
    await http.post("/_emulator/opt-out", json={"address": CUSTOMER})
    codes = []
    for _ in range(2):
        try:
            await twilio.messages.create_async(to=CUSTOMER, from_=SENDER, body="hi")
        except TwilioRestException as exc:
            codes.append(exc.code)
    assert codes == [20429, 21610]
    sent = (await http.get("/_emulator/sent")).json()
    assert [s["outcome"]["code"] for s in sent] == [20429, 21610]


async def test_chatter_start_and_stop(http: httpx.AsyncClient, receiver: Receiver) -> None:
    started = await http.post("/_emulator/chatter", json={"interval": 0.001})
    assert started.json() == {"chatter": "running", "interval": 0.001}
    await receiver.wait_for("/inbound", 3)
    stopped = await http.post("/_emulator/chatter", json={"stop": True})
    assert stopped.json() == {"chatter": "stopped"}


async def test_bad_control_requests_are_400(http: httpx.AsyncClient) -> None:
    bad = [
        ("/_emulator/config", {"auth_token": "x"}),
        ("/_emulator/fail-next", {"code": 20429, "via": "carrier-pigeon"}),
        ("/_emulator/inbound", {"from": "not a number"}),
        ("/_emulator/opt-out", {}),
    ]
    for path, payload in bad:
        response = await http.post(path, json=payload)
        assert response.status_code == 400 and "error" in response.json(), path
    assert (await http.post("/_emulator/chatter", content=b"[1]")).status_code == 400


async def test_unknown_path_is_twilio_404(http: httpx.AsyncClient) -> None:
    response = await http.get("/2010-04-01/Accounts/AC1/Calls.json")
    assert response.status_code == 404 and response.json()["code"] == 20404
