"""The running inbox: the receiver on a socket, the media downloader, retention (webhook log, media
files, published events), when it can send, the sender with its template sync, and the event relay
when the event stream is on; all counting into one `Metrics`, served at `/metrics` (on the receiver's
port, or on `[metrics] port`).

`serve`, the demo (through `wa_inbox.testing`) and the TUI's embedded mode all start it the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import httpx

from wa_inbox.config import METRICS_PATH, ConfigError, Settings
from wa_inbox.gateway.assignment import assigning
from wa_inbox.gateway.client import make_twilio_client
from wa_inbox.gateway.lease import new_owner
from wa_inbox.gateway.media_download import downloading_media
from wa_inbox.gateway.outbox import Outbox
from wa_inbox.gateway.template_sync import TemplateSync
from wa_inbox.metrics import Metrics
from wa_inbox.receiver.app import create_app
from wa_inbox.receiver.connections import fit_open_files
from wa_inbox.receiver.metrics import metrics_app
from wa_inbox.retention import pruning_published_events, pruning_webhook_log, removing_old_media
from wa_inbox.running.events import relaying_events
from wa_inbox.running.sockets import Listening, bind, serve_in_background
from wa_inbox.store import Store

if TYPE_CHECKING:
    from wa_inbox.gateway.event_relay import RelayTiming

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RunningInbox:
    listening: Listening
    outbox: Outbox | None
    """None when no Twilio credentials are set: the receiver then runs alone."""
    metrics: Metrics
    metrics_url: str | None
    """Where `/metrics` is served (None: `[metrics] enabled = false`)."""


@contextlib.asynccontextmanager
async def running_inbox(
    settings: Settings,
    store: Store,
    sock: socket.socket,
    twilio_transport: httpx.AsyncBaseTransport | None = None,
    send: bool = True,
    role: str = "wa-inbox",
    relay_timing: RelayTiming | None = None,
) -> AsyncIterator[RunningInbox]:
    """The receiver, plus the sender when `send` is set and the settings allow it.

    The sender sends only while it holds the database's sender lease (see `gateway.lease`); `role`
    starts its id there (`serve@host:pid.tag`), which the log and the inbox's status line show. Template
    sync, media downloads, retention and automatic assignment run in the lease holder's process only
    (`Leadership`): several replicas on one database run each of them once. Without a sender, this
    process runs them itself.
    The event relay, when `[events]` is on, publishes in the process whose sender holds the lease
    (`running.events`; `relay_timing`: tests shorten its waits).
    """
    metrics = Metrics()
    async with (
        serve_in_background(
            create_app(settings, store, metrics), sock, fit_open_files(settings.receiver)
        ) as listening,
        _serving_metrics(settings, metrics, listening) as metrics_url,
    ):
        can_send = send and _can_send(settings)
        client = make_twilio_client(settings, twilio_transport, metrics) if can_send else None
        if client is None:
            log.warning("No Twilio credentials or sender: receiving only, nothing will be sent.")
            async with (
                _duties(settings, store, metrics),
                relaying_events(settings, store, None, relay_timing),
            ):
                yield RunningInbox(listening, None, metrics, metrics_url)
            return
        templates = TemplateSync(client, store)
        owner = new_owner(role)
        outbox = Outbox(
            settings, store, client, on_template_error=templates.after_error, owner=owner, metrics=metrics
        )
        tasks = [
            asyncio.create_task(outbox.run(), name="wa-inbox-sender"),
            asyncio.create_task(
                outbox.leadership.run_duty("wa-inbox-templates", templates.run),
                name="wa-inbox-templates-duty",
            ),
            asyncio.create_task(
                outbox.leadership.run_duty(
                    "wa-inbox-duties", lambda: _holding(_duties(settings, store, metrics))
                ),
                name="wa-inbox-duties",
            ),
        ]
        try:
            async with relaying_events(settings, store, outbox, relay_timing):
                yield RunningInbox(listening, outbox, metrics, metrics_url)
        finally:
            for task in reversed(tasks):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await client.http_client.close()


@contextlib.asynccontextmanager
async def _duties(settings: Settings, store: Store, metrics: Metrics) -> AsyncIterator[None]:
    """What one process per database runs beside the sender: with a sender, the lease holder's."""
    async with (
        downloading_media(settings, store, metrics),
        pruning_webhook_log(settings, store),
        pruning_published_events(settings, store),
        removing_old_media(settings, store),
        assigning(settings, store),  # `[team] auto_assign`: new conversations to recent agents in turn
    ):
        yield


async def _holding(duties: contextlib.AbstractAsyncContextManager[None]) -> None:
    """Keep `duties` running until cancelled (when the sender lease is lost)."""
    async with duties:
        await asyncio.Event().wait()


@contextlib.asynccontextmanager
async def _serving_metrics(
    settings: Settings, metrics: Metrics, receiver: Listening
) -> AsyncIterator[str | None]:
    """`/metrics` on `[metrics] port` while the block runs (the receiver serves it when no port is set);
    the URL it is served at."""
    config = settings.metrics
    if not config.enabled:
        yield None
        return
    if config.port is None:
        yield receiver.url + METRICS_PATH
        return
    try:
        sock = bind(config.host, config.port)
    except OSError as error:
        raise ConfigError(
            f"Cannot serve metrics on {config.host}:{config.port} ({error.strerror}): "
            "set another [metrics] port, or leave it unset to serve them on the receiver's port."
        ) from None
    async with serve_in_background(metrics_app(metrics), sock) as listening:
        yield listening.url + METRICS_PATH


def _can_send(settings: Settings) -> bool:
    try:
        settings.require_sender()
    except ConfigError:
        return False
    return True
