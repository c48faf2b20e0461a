"""Fixtures: an emulator in-process, the real twilio SDK pointed at it, and a webhook receiver.

Everything runs over httpx.ASGITransport: no sockets, no sleeps, tiny status delays.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette
from twilio.rest import Client

from tests.emulator.fakes import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    CUSTOMER,
    EMULATOR_URL,
    HttpxTwilioClient,
    Receiver,
    make_config,
)
from wa_inbox.emulator import Emulator, EmulatorConfig, create_emulator


@pytest.fixture
def receiver() -> Receiver:
    return Receiver()


@pytest.fixture
def config() -> EmulatorConfig:
    """Override in a test module to start the emulator differently."""
    return make_config()


@pytest.fixture
async def emulator_app(config: EmulatorConfig, receiver: Receiver) -> AsyncIterator[Starlette]:
    app = create_emulator(config, callback_transport=httpx.ASGITransport(app=receiver.app))
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
def emulator(emulator_app: Starlette) -> Emulator:
    emulator: Emulator = emulator_app.state.emulator
    return emulator


@pytest.fixture
async def sdk_http(emulator_app: Starlette) -> AsyncIterator[HttpxTwilioClient]:
    http = HttpxTwilioClient(httpx.ASGITransport(app=emulator_app))
    yield http
    await http.close()


@pytest.fixture
def twilio(sdk_http: HttpxTwilioClient) -> Client:
    """The real SDK, authenticating as the account, talking to the emulator."""
    return Client(ACCOUNT_SID, AUTH_TOKEN, http_client=sdk_http)


@pytest.fixture
async def http(emulator_app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    """A plain client for what the SDK does not do: media bytes, control API, bad auth."""
    transport = httpx.ASGITransport(app=emulator_app)
    async with httpx.AsyncClient(transport=transport, base_url=EMULATOR_URL) as client:
        yield client


@pytest.fixture
async def customer_in_window(emulator: Emulator) -> str:
    """A customer who wrote a minute ago, so session messages may be sent to them."""
    await emulator.customer_says(CUSTOMER, "Hi, is my order on its way?", profile_name="Ana")
    return CUSTOMER
