"""`--ngrok`: the tunnel's URL becomes the public URL and, with `--point-twilio`, the Messaging
Service's webhooks for as long as it runs. No tunnel can open here, so pyngrok is replaced at its
boundary (`ngrok.connect`/`disconnect`); Twilio's side is the emulator's Messaging Services API."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest
from click.testing import CliRunner
from pyngrok import ngrok
from pyngrok.exception import PyngrokError
from twilio.request_validator import RequestValidator

from tests.support.world import running_world
from wa_inbox.cli import main
from wa_inbox.cli.inbox import _embedded
from wa_inbox.config import ConfigError
from wa_inbox.emulator.state import Service
from wa_inbox.receiver.app import create_app
from wa_inbox.testing import EmulatedInbox
from wa_inbox.tunnel import tunnel

TUNNEL = "https://f00d-203-0-113-7.ngrok-free.app"


@dataclass
class FakeNgrok:
    """Stands in for the ngrok agent: hands out one URL and remembers what was opened and closed."""

    opened: list[str] = field(default_factory=list)
    closed: list[str] = field(default_factory=list)
    refuse: bool = False

    def connect(self, addr: str, proto: str = "http", **options: object) -> SimpleNamespace:
        if self.refuse:
            raise PyngrokError("The ngrok agent failed to start: authentication failed")
        self.opened.append(addr)
        return SimpleNamespace(public_url=TUNNEL)

    def disconnect(self, public_url: str) -> None:
        self.closed.append(public_url)


@pytest.fixture
def fake_ngrok(monkeypatch: pytest.MonkeyPatch) -> FakeNgrok:
    fake = FakeNgrok()
    monkeypatch.setattr(ngrok, "connect", fake.connect)
    monkeypatch.setattr(ngrok, "disconnect", fake.disconnect)
    return fake


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[EmulatedInbox]:
    async with running_world(tmp_path) as running:
        yield running


def service(world: EmulatedInbox) -> Service:
    sid = world.settings.twilio.messaging_service_sid
    assert sid is not None
    return world.emulator.service(sid)


def hooks(service: Service) -> tuple[str | None, str, str | None]:
    return service.inbound_request_url, service.inbound_method, service.status_callback


async def test_twilio_posts_through_the_tunnel_while_it_runs(
    world: EmulatedInbox, fake_ngrok: FakeNgrok
) -> None:
    await world.emulator.configure_service(service(world).sid, inbound_method="GET", status_callback=None)
    before = hooks(service(world))

    async with tunnel(world.settings, 8080, point_twilio=True) as public:
        assert public.twilio.public_base_url == TUNNEL
        assert hooks(service(world)) == (f"{TUNNEL}/twilio/inbound", "POST", f"{TUNNEL}/twilio/status")
        assert (fake_ngrok.opened, fake_ngrok.closed) == (["8080"], [])

    assert hooks(service(world)) == before
    assert fake_ngrok.closed == [TUNNEL]


async def test_twilio_gets_its_webhooks_back_when_the_inbox_crashes(
    world: EmulatedInbox, fake_ngrok: FakeNgrok
) -> None:
    before = hooks(service(world))
    with pytest.raises(RuntimeError):
        async with tunnel(world.settings, 8080, point_twilio=True):
            raise RuntimeError("the inbox stopped")
    assert hooks(service(world)) == before
    assert fake_ngrok.closed == [TUNNEL]


async def test_without_point_twilio_only_the_public_url_changes(
    world: EmulatedInbox, fake_ngrok: FakeNgrok
) -> None:
    before = hooks(service(world))
    async with tunnel(world.settings, 8080) as public:
        assert public.twilio.public_base_url == TUNNEL
        assert hooks(service(world)) == before


async def test_signatures_are_checked_over_the_tunnel_url(
    world: EmulatedInbox, fake_ngrok: FakeNgrok
) -> None:
    """Twilio signs the URL it calls, the tunnel's, though the request reaches a local port."""
    token = world.settings.webhook_auth_token
    assert token is not None
    params = {"MessageSid": "SM" + "e" * 32, "MessageStatus": "sent"}
    validator = RequestValidator(token.get_secret_value())
    signed = {"X-Twilio-Signature": validator.compute_signature(f"{TUNNEL}/twilio/status", params)}
    async with tunnel(world.settings, 8080) as public:
        app = create_app(public, world.store)
        local = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1:8080")
        async with local:  # the store is given: no lifespan to run
            response = await local.post("/twilio/status", data=params, headers=signed)
    assert response.status_code == 204


async def test_an_ngrok_that_cannot_start_is_one_sentence(
    world: EmulatedInbox, fake_ngrok: FakeNgrok
) -> None:
    fake_ngrok.refuse = True
    with pytest.raises(ConfigError, match=r"^ngrok could not open a tunnel .*authtoken"):
        async with tunnel(world.settings, 8080, point_twilio=True):
            pass


async def test_point_twilio_needs_a_messaging_service(world: EmulatedInbox, fake_ngrok: FakeNgrok) -> None:
    twilio = world.settings.twilio.model_copy(
        update={"messaging_service_sid": None, "from_address": "whatsapp:+14155238886"}
    )
    settings = world.settings.model_copy(update={"twilio": twilio})
    with pytest.raises(ConfigError, match="needs a Messaging Service"):
        async with tunnel(settings, 8080, point_twilio=True):
            pass
    assert fake_ngrok.closed == [TUNNEL]


async def test_the_inbox_with_ngrok_starts_inside_the_tunnel(
    world: EmulatedInbox, fake_ngrok: FakeNgrok
) -> None:
    """`wa-inbox --ngrok --point-twilio`: the embedded receiver and sender get the tunnel's settings."""
    before = hooks(service(world))
    async with _embedded(world.settings, 0, ngrok=True, point_twilio=True)() as services:
        assert services.settings.twilio.public_base_url == TUNNEL
        assert hooks(service(world))[0] == f"{TUNNEL}/twilio/inbound"
    assert hooks(service(world)) == before
    assert fake_ngrok.closed == [TUNNEL]


def test_point_twilio_alone_is_refused() -> None:
    result = CliRunner().invoke(main, ["serve", "--point-twilio"])
    assert result.exit_code == 2
    assert "use it with --ngrok" in result.output
