"""An ngrok tunnel to the local receiver and, on request, Twilio's webhooks pointed through it.

Inside `tunnel(...)` the settings carry the tunnel's https URL as the public base URL, so webhook
signatures are checked over the URL Twilio really calls. With `point_twilio`, every Messaging
Service of the settings posts inbound messages and status callbacks to the tunnel until the block
ends; then each gets back the URLs and method it had before.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import httpx

from wa_inbox.config import ConfigError, Settings

if TYPE_CHECKING:
    from twilio.rest import Client

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Webhooks:
    """What a Messaging Service does with inbound messages and status callbacks."""

    inbound_request_url: str | None
    inbound_method: str | None
    status_callback: str | None


@contextlib.asynccontextmanager
async def tunnel(
    settings: Settings,
    port: int,
    point_twilio: bool = False,
    twilio_transport: httpx.AsyncBaseTransport | None = None,
) -> AsyncIterator[Settings]:
    """Open a tunnel to `port`; yields `settings` with the tunnel's URL as the public base URL."""
    async with contextlib.AsyncExitStack() as stack:
        url = await stack.enter_async_context(_ngrok(port))
        public = with_public_url(settings, url)
        log.info("ngrok: Twilio reaches this receiver at %s", url)
        if point_twilio:
            await stack.enter_async_context(_pointed(public, twilio_transport))
        yield public


def with_public_url(settings: Settings, url: str) -> Settings:
    twilio = settings.twilio.model_copy(update={"public_base_url": url})
    return settings.model_copy(update={"twilio": twilio})


@contextlib.asynccontextmanager
async def _ngrok(port: int) -> AsyncIterator[str]:
    """pyngrok is synchronous (it starts and asks a local agent): its calls run on a thread."""
    from pyngrok import ngrok
    from pyngrok.exception import PyngrokError

    try:
        opened = await asyncio.to_thread(ngrok.connect, str(port), "http")
    except PyngrokError as error:
        raise ConfigError(
            f"ngrok could not open a tunnel ({error}): add your authtoken with "
            "`ngrok config add-authtoken TOKEN`, or set PUBLIC_BASE_URL to a URL of your own."
        ) from None
    public_url = opened.public_url
    if public_url is None:
        raise ConfigError("ngrok opened a tunnel without a public URL: set PUBLIC_BASE_URL instead.")
    try:
        yield _https(public_url)
    finally:
        await asyncio.to_thread(ngrok.disconnect, public_url)


def _https(url: str) -> str:
    """ngrok serves every tunnel over https as well; Twilio should call that."""
    return "https://" + url.partition("://")[2].rstrip("/")


@contextlib.asynccontextmanager
async def _pointed(settings: Settings, transport: httpx.AsyncBaseTransport | None) -> AsyncIterator[None]:
    """Each Messaging Service posts to `settings`' public URL until the block ends, then as before."""
    from wa_inbox.gateway.client import make_twilio_client

    sids = settings.messaging_service_sids()
    if not sids:
        raise ConfigError(
            "--point-twilio needs a Messaging Service: set TWILIO_MESSAGING_SERVICE_SID (MG…), "
            "or point your WhatsApp sender's webhooks at the tunnel in the Twilio console."
        )
    client = make_twilio_client(settings, transport)
    try:
        before = {sid: await fetch_webhooks(client, sid) for sid in sids}
        try:
            for sid in sids:
                await update_webhooks(client, sid, _ours(settings))
            log.info("pointed %s at %s", ", ".join(sids), settings.twilio.public_base_url)
            yield
        finally:
            for sid, webhooks in before.items():
                await _restore(client, sid, webhooks)
    finally:
        await client.http_client.close()


async def _restore(client: Client, sid: str, webhooks: Webhooks) -> None:
    """Put a service's webhooks back; if Twilio cannot be told, say what to set by hand."""
    from twilio.base.exceptions import TwilioRestException

    try:
        await update_webhooks(client, sid, webhooks)
    except (TwilioRestException, httpx.TransportError) as error:
        log.error(
            "could not give %s back its webhooks (%s): set inbound %s %s and status callback %s by hand",
            sid,
            error,
            webhooks.inbound_method,
            webhooks.inbound_request_url,
            webhooks.status_callback,
        )
        return
    log.info("gave %s back its webhooks", sid)


def _ours(settings: Settings) -> Webhooks:
    base = settings.twilio.public_base_url or ""
    return Webhooks(base + settings.webhooks.inbound_path, "POST", base + settings.webhooks.status_path)


async def fetch_webhooks(client: Client, sid: str) -> Webhooks:
    service = await client.messaging.v1.services(sid).fetch_async()
    return Webhooks(service.inbound_request_url, service.inbound_method, service.status_callback)


async def update_webhooks(client: Client, sid: str, webhooks: Webhooks) -> None:
    """An empty string clears a URL at Twilio (None would leave it unchanged)."""
    await client.messaging.v1.services(sid).update_async(
        inbound_request_url=webhooks.inbound_request_url or "",
        inbound_method=webhooks.inbound_method or "POST",
        status_callback=webhooks.status_callback or "",
    )
