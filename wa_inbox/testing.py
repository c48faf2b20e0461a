"""An emulated inbox: the built-in Twilio emulator and a whole wa-inbox (receiver, sender, store) wired
to each other on loopback ports, like `starlette.testclient` for an app. Tests, benchmarks and
`wa-inbox demo` start one; nothing here talks to the real Twilio.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from wa_inbox.config import Settings
from wa_inbox.dburl import DatabaseUrl
from wa_inbox.emulator.app import create_emulator
from wa_inbox.emulator.config import EmulatorConfig
from wa_inbox.emulator.emulator import Emulator
from wa_inbox.gateway.outbox import Outbox
from wa_inbox.running.inbox import running_inbox
from wa_inbox.running.sockets import bind, serve_in_background
from wa_inbox.store import Store, open_store

BUSINESS = "whatsapp:+14155238886"
"""The business's WhatsApp sender in the emulator."""


@dataclass(frozen=True, slots=True)
class EmulatedInbox:
    """The emulator and a whole inbox wired to it, for tests, benchmarks and the demo."""

    settings: Settings
    store: Store
    emulator: Emulator
    outbox: Outbox | None
    """None when started with `send=False` (tests that play the sender themselves)."""
    receiver_url: str
    emulator_url: str


def emulated_settings(
    db_path: Path | DatabaseUrl,
    receiver_url: str,
    emulator_url: str,
    account_sid: str,
    token: str,
    media_dir: Path | None = None,
) -> Settings:
    """Settings that point wa-inbox at the emulator; media beside a database file unless `media_dir`
    is given (it must be for a server's database: a folder every replica shares)."""
    if media_dir is None:
        if not isinstance(db_path, Path):
            raise ValueError("a server's database needs a media_dir: the folder every replica shares")
        media_dir = db_path.parent / f"{db_path.stem}-media"
    return Settings.model_validate(
        {
            "twilio": {
                "account_sid": account_sid,
                "auth_token": token,
                "messaging_service_sid": "MG" + "d" * 32,
                "public_base_url": receiver_url,
                "base_url": emulator_url,
            },
            "store": {"path": db_path},
            "media": {"storage_dir": media_dir},
            "webhook_auth_token": token,
        }
    )


@contextlib.asynccontextmanager
async def emulated_inbox(
    db_path: Path | DatabaseUrl,
    settings_changes: Callable[[Settings], Settings] = lambda settings: settings,
    twilio_transport: httpx.AsyncBaseTransport | None = None,
    send: bool = True,
    media_dir: Path | None = None,
    **emulator_options: Any,
) -> AsyncIterator[EmulatedInbox]:
    """The emulator and the inbox (receiver + sender) on loopback ports, wired to each other; the
    database a SQLite file or a PostgreSQL URL (then with the replicas' shared `media_dir`)."""
    emulator_sock, receiver_sock = bind(), bind()
    emulator_url = f"http://127.0.0.1:{emulator_sock.getsockname()[1]}"
    receiver_url = f"http://127.0.0.1:{receiver_sock.getsockname()[1]}"
    account_sid, token = "AC" + secrets.token_hex(16), secrets.token_hex(16)
    settings = settings_changes(
        emulated_settings(db_path, receiver_url, emulator_url, account_sid, token, media_dir)
    )
    # A plain WhatsApp sender: Twilio does no STOP handling of its own, wa-inbox does it (reference §5.2).
    options: dict[str, Any] = {"advanced_opt_out": False, **emulator_options}
    config = EmulatorConfig(
        account_sid,
        token,
        public_url=emulator_url,
        inbound_url=receiver_url + settings.webhooks.inbound_path,
        status_callback_url=receiver_url + settings.webhooks.status_path,
        **options,
    )
    emulator_app = create_emulator(config)
    store = await open_store(db_path)
    try:
        async with (  # the emulator stops first: no callback then finds the receiver gone
            running_inbox(settings, store, receiver_sock, twilio_transport, send, role="demo") as inbox,
            serve_in_background(emulator_app, emulator_sock),
        ):
            yield EmulatedInbox(
                settings, store, emulator_app.state.emulator, inbox.outbox, receiver_url, emulator_url
            )
    finally:
        await store.close()
