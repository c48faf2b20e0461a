"""A real receiver on a real loopback port, with a real SQLite file (or a PostgreSQL database), signed by
the SDK's own validator."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from starlette.datastructures import FormData
from twilio.request_validator import RequestValidator

from wa_inbox.config import Settings
from wa_inbox.dburl import DatabaseUrl
from wa_inbox.receiver.app import create_app
from wa_inbox.running.sockets import bind, serve_in_background
from wa_inbox.store import Store
from wa_inbox.store.sqlite import SqliteStore

TOKEN = "0123456789abcdef0123456789abcdef"
CUSTOMER = "whatsapp:+5511987654321"
BUSINESS = "whatsapp:+14155238886"
FormInput = Mapping[str, str | Sequence[str]]


def make_settings(public_base_url: str, db_path: Path | DatabaseUrl, **sections: Any) -> Settings:
    data: dict[str, Any] = {
        "twilio": {"public_base_url": public_base_url},
        "store": {"path": db_path},
        "webhook_auth_token": TOKEN,
        **sections,
    }
    return Settings.model_validate(data)


def sign(url: str, form: FormInput, token: str = TOKEN) -> str:
    """The SDK's own signature: the oracle for everything our receiver accepts."""
    return RequestValidator(token).compute_signature(url, FormData(_pairs(form)))


def _pairs(form: FormInput) -> list[tuple[str, str]]:
    pairs = []
    for key, value in form.items():
        values = [value] if isinstance(value, str) else list(value)
        pairs.extend((key, v) for v in values)
    return pairs


@dataclass
class Receiver:
    url: str
    store: Store
    db_path: Path | DatabaseUrl
    """The SQLite file, or the PostgreSQL database, the store is on."""
    client: httpx.AsyncClient

    async def post(
        self,
        path: str,
        form: FormInput,
        *,
        signature: str | None = "sign",
        signed_url: str | None = None,
    ) -> httpx.Response:
        """POST a form; by default signed for the exact URL we call, as Twilio would."""
        url = self.url + path
        headers = {}
        if signature == "sign":
            signature = sign(signed_url or url, form)
        if signature is not None:
            headers["X-Twilio-Signature"] = signature
        return await self.client.post(url, data=dict(_grouped(form)), headers=headers)

    def rows(self, sql: str, *params: object) -> list[tuple[Any, ...]]:
        if isinstance(self.db_path, DatabaseUrl):
            from tests.support.postgres import rows

            return rows(self.db_path, sql, params)
        with sqlite3.connect(f"file:{self.db_path}?mode=ro", uri=True) as conn:
            return conn.execute(sql, params).fetchall()


def _grouped(form: FormInput) -> dict[str, str | list[str]]:
    return {k: (v if isinstance(v, str) else list(v)) for k, v in form.items()}


@contextlib.asynccontextmanager
async def running_receiver(tmp_path: Path, **sections: Any) -> AsyncIterator[Receiver]:
    """The receiver on a fresh loopback port, with its own store file under `tmp_path`."""
    sock = bind()
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    db_path = tmp_path / "inbox.db"
    store = await SqliteStore.open(db_path)
    settings = make_settings(url, db_path, **sections)
    app = create_app(settings, store)
    try:
        async with serve_in_background(app, sock, settings.receiver), httpx.AsyncClient(timeout=10) as client:
            yield Receiver(url, store, db_path, client)
    finally:
        await store.close()


# --- the webhooks as Twilio sends them ----------------------------------------------------------------

INBOUND = "/twilio/inbound"
STATUS = "/twilio/status"
SID = "SM5b6f2c4a3e9d8b7a6c5d4e3f2a1b0c9d"


def text_form(sid: str = SID, body: str = "Oi, meu pedido não chegou", **extra: str) -> dict[str, str]:
    return {
        "SmsMessageSid": sid,
        "NumMedia": "0",
        "ProfileName": "Ana Silva",
        "MessageType": "text",
        "SmsSid": sid,
        "WaId": "5511987654321",
        "SmsStatus": "received",
        "Body": body,
        "To": BUSINESS,
        "NumSegments": "1",
        "ReferralNumMedia": "0",
        "MessageSid": sid,
        "AccountSid": "AC" + "1" * 32,
        "From": CUSTOMER,
        "ApiVersion": "2010-04-01",
        "MessagingServiceSid": "MG" + "2" * 32,
        **extra,
    }


def status_form(sid: str, status: str, **extra: str) -> dict[str, str]:
    return {
        "SmsSid": sid,
        "SmsStatus": status,
        "MessageStatus": status,
        "ChannelToAddress": CUSTOMER.removeprefix("whatsapp:"),
        "To": CUSTOMER,
        "ChannelPrefix": "whatsapp",
        "MessageSid": sid,
        "AccountSid": "AC" + "1" * 32,
        "From": BUSINESS,
        "ApiVersion": "2010-04-01",
        "ChannelInstallSid": "XE" + "3" * 32,
        "MessagingServiceSid": "MG" + "2" * 32,
        **extra,
    }


async def wait_healthy(client: httpx.AsyncClient, url: str) -> None:
    for _ in range(200):
        try:
            if (await client.get(url + "/healthz")).status_code == 200:
                return
        except httpx.TransportError:
            pass
        await asyncio.sleep(0.05)
    raise AssertionError("the server did not become healthy")
