"""`wa-inbox doctor`: is this installation ready for Twilio? One function per check, one result each.

The signed self-test posts a status callback for `SELF_TEST_SID` through the public URL, so it
crosses the tunnel or proxy and the receiver's signature check exactly as Twilio's callbacks do. It
carries no To and no From, so the receiver cannot turn it into a message or a contact: it is kept
only where every webhook is (the raw webhook log and the status events), under a fixed SID of
Twilio's shape (the receiver refuses any other) that a real message's random one matches with a
chance of one in 2**128.
"""

from __future__ import annotations

import json
import stat
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
from twilio.base.exceptions import TwilioRestException

from wa_inbox.config import ConfigError, Settings
from wa_inbox.domain.errors import describe
from wa_inbox.gateway.client import make_twilio_client
from wa_inbox.store import open_store
from wa_inbox.store.errors import StoreError
from wa_inbox.store.files import UnusableDatabase

if TYPE_CHECKING:
    from twilio.http.response import Response
    from twilio.rest import Client
    from twilio.rest.messaging.v1.service import ServiceInstance

SELF_TEST_SID = "SM" + "d0c70000" + "0" * 16 + "5e1f7e57"
"""A message SID of Twilio's shape (the receiver refuses others) that spells "doct… selftest" in hex."""
CLOCK_TOLERANCE = timedelta(seconds=60)
TIMEOUT_SECONDS = 10.0
CREDENTIALS, WEBHOOKS, SELF_TEST = "Twilio credentials", "Messaging Service webhooks", "signed self-test"
DATABASE, ENV_FILE, CLOCK, EVENTS = "database", ".env file", "clock", "event stream"
EVENT_LAG_TOLERANCE = timedelta(minutes=5)
"""An event waiting longer than this means the relay is not publishing: a failed check."""
ERROR_CHARS = 160
_NO_PUBLIC_URL = (
    "Set PUBLIC_BASE_URL to the https URL Twilio calls (your proxy or ngrok URL), "
    "or run `wa-inbox serve --ngrok`."
)
_UNREACHABLE = "Check the network, and WA_INBOX_TWILIO_BASE_URL if it is set."
_UNKNOWN_SERVICE = "Check TWILIO_MESSAGING_SERVICE_SID and [routing]: each must be a service of this account."


class Outcome(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"
    """Could not be checked here (it depends on a check that failed, or does not apply)."""


@dataclass(frozen=True, slots=True)
class CheckResult:
    name: str
    outcome: Outcome
    detail: str
    """What was found, in a few words."""
    fix: str | None = None
    """For a failure: one sentence saying what to do."""


def _passed(name: str, detail: str) -> CheckResult:
    return CheckResult(name, Outcome.PASSED, detail)


def _failed(name: str, detail: str, fix: str) -> CheckResult:
    return CheckResult(name, Outcome.FAILED, detail, fix)


def _skipped(name: str, detail: str) -> CheckResult:
    return CheckResult(name, Outcome.SKIPPED, detail)


async def run_checks(
    settings: Settings,
    env_file: Path = Path(".env"),
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> list[CheckResult]:
    """Every check, in the order the CLI prints them; the ones needing Twilio are skipped without it."""
    local = [await check_signed_self_test(settings), await check_database(settings), check_env_file(env_file)]
    if settings.events.enabled:
        local.insert(2, await check_event_backlog(settings, now))
    try:
        client = make_twilio_client(settings)
    except ConfigError as error:
        unset = _failed(CREDENTIALS, "not configured", str(error))
        return [unset, _skipped(WEBHOOKS, "needs credentials"), *local, _skipped(CLOCK, "needs credentials")]
    try:
        credentials = await check_credentials(client, settings)
        if credentials.outcome is Outcome.PASSED:
            webhooks = await check_webhooks(client, settings)
        else:
            webhooks = _skipped(WEBHOOKS, "needs working credentials")
        return [credentials, webhooks, *local, await check_clock(client, settings, now)]
    finally:
        await client.http_client.close()


# --- Twilio --------------------------------------------------------------------------------------


async def check_credentials(client: Client, settings: Settings) -> CheckResult:
    """One authenticated read (the latest message) proves the SID and secret belong together."""
    try:
        response = await _probe(client, settings)
    except httpx.TransportError as error:
        return _failed(CREDENTIALS, f"Twilio cannot be reached ({type(error).__name__})", _UNREACHABLE)
    if response.status_code == 200:
        return _passed(CREDENTIALS, f"account {settings.twilio.account_sid} answers")
    code = _error_code(response)
    info = describe(code)
    detail = f"Twilio answered {response.status_code}" + (f" (error {code})" if code else "")
    return _failed(CREDENTIALS, detail, info.action if info else "Check the account SID and its secret.")


async def check_webhooks(client: Client, settings: Settings) -> CheckResult:
    """Each Messaging Service must post inbound messages and status callbacks to us, by POST."""
    base = settings.twilio.public_base_url
    if base is None:
        return _failed(WEBHOOKS, "PUBLIC_BASE_URL is not set", _NO_PUBLIC_URL)
    sids = settings.messaging_service_sids()
    if not sids:
        return _skipped(WEBHOOKS, "no Messaging Service is set: check the sender's webhooks in the console")
    inbound, status = base + settings.webhooks.inbound_path, base + settings.webhooks.status_path
    problems: list[str] = []
    for sid in sids:
        try:
            service = await client.messaging.v1.services(sid).fetch_async()
        except TwilioRestException as error:
            return _failed(WEBHOOKS, f"cannot read {sid} (error {error.code})", _UNKNOWN_SERVICE)
        except httpx.TransportError as error:
            return _failed(WEBHOOKS, f"Twilio cannot be reached ({type(error).__name__})", _UNREACHABLE)
        problems += _webhook_problems(service, inbound, status)
    if problems:
        fix = (
            f"In the Twilio console (Messaging → Services → Integration), send a webhook to "
            f"POST {inbound} and set the status callback URL to {status}."
        )
        return _failed(WEBHOOKS, "; ".join(problems), fix)
    return _passed(WEBHOOKS, f"{', '.join(sids)} post to {base}")


async def check_clock(client: Client, settings: Settings, now: Callable[[], datetime]) -> CheckResult:
    """Twilio's `Date` header against this machine's clock: the 24-hour window is computed here."""
    try:
        response = await _probe(client, settings)
    except httpx.TransportError:
        return _skipped(CLOCK, "Twilio cannot be reached")
    header = response.headers.get("date") if response.headers else None
    if not header:
        return _skipped(CLOCK, "Twilio sent no Date header")
    skew = (now() - parsedate_to_datetime(header)).total_seconds()
    if abs(skew) > CLOCK_TOLERANCE.total_seconds():
        fix = "Turn on time synchronisation (`timedatectl set-ntp true`): customer windows depend on it."
        return _failed(CLOCK, f"this clock is {skew:+.0f} s off Twilio's", fix)
    return _passed(CLOCK, f"within {abs(skew):.0f} s of Twilio's")


async def _probe(client: Client, settings: Settings) -> Response:
    url = f"https://api.twilio.com/2010-04-01/Accounts/{settings.twilio.account_sid}/Messages.json"
    return await client.request_async("GET", url, params={"PageSize": 1}, timeout=TIMEOUT_SECONDS)


def _error_code(response: Response) -> int | None:
    try:
        code = json.loads(response.text).get("code")
    except (ValueError, AttributeError):
        return None
    return int(code) if isinstance(code, int) else None


def _webhook_problems(service: ServiceInstance, inbound: str, status: str) -> list[str]:
    sid, found = service.sid, service.inbound_request_url or "nowhere"
    problems = [] if found == inbound else [f"{sid} sends inbound messages to {found}"]
    if (service.inbound_method or "POST").upper() != "POST":
        problems.append(f"{sid} calls its inbound webhook with {service.inbound_method}")
    if service.use_inbound_webhook_on_number:
        problems.append(f"{sid} leaves inbound messages to the number's own webhook")
    if service.status_callback != status:
        problems.append(f"{sid} sends status callbacks to {service.status_callback or 'nowhere'}")
    return problems


# --- this machine ----------------------------------------------------------------------------------


async def check_signed_self_test(settings: Settings) -> CheckResult:
    """A status callback signed as Twilio signs it, through the public URL: tunnel, receiver, token."""
    base, token = settings.twilio.public_base_url, settings.webhook_auth_token
    if base is None:
        return _failed(SELF_TEST, "PUBLIC_BASE_URL is not set", _NO_PUBLIC_URL)
    if token is None:
        name = settings.webhooks.signature_auth_token_env
        return _failed(SELF_TEST, f"{name} is not set", f"Put your Twilio auth token in {name}.")
    url = base + settings.webhooks.status_path
    try:
        status = await _post_signed(url, token.get_secret_value())
    except httpx.TransportError as error:
        fix = "Start `wa-inbox serve` (or the inbox) and make sure PUBLIC_BASE_URL reaches it."
        return _failed(SELF_TEST, f"cannot reach {url} ({type(error).__name__})", fix)
    return _self_test_verdict(url, status, settings)


async def _post_signed(url: str, token: str) -> int:
    from twilio.request_validator import RequestValidator

    params = {"MessageSid": SELF_TEST_SID, "MessageStatus": "sent"}
    signature = RequestValidator(token).compute_signature(url, params)
    async with httpx.AsyncClient(timeout=TIMEOUT_SECONDS) as http:
        response = await http.post(url, data=params, headers={"X-Twilio-Signature": signature})
    return response.status_code


def _self_test_verdict(url: str, status: int, settings: Settings) -> CheckResult:
    if status in (200, 204):
        return _passed(SELF_TEST, f"{url} accepted a signed callback")
    if status == 403:
        name = settings.webhooks.signature_auth_token_env
        fix = (
            f"Give the receiver and this machine the Twilio account's auth token in {name}, "
            "and PUBLIC_BASE_URL exactly the URL Twilio calls (scheme, host and port)."
        )
        return _failed(SELF_TEST, f"{url} refused the signature (403)", fix)
    if status == 404:
        fix = f"Point PUBLIC_BASE_URL at the receiver itself: it answers status callbacks at {url}."
        return _failed(SELF_TEST, f"nothing answers at {url} (404)", fix)
    fix = "Start `wa-inbox serve` (or the inbox) behind this URL and check its log."
    return _failed(SELF_TEST, f"{url} answered {status}", fix)


async def check_database(settings: Settings) -> CheckResult:
    """A real, durable commit within two seconds: what the receiver needs to acknowledge a webhook."""
    path = settings.store.path
    try:
        store = await open_store(path)
    except UnusableDatabase as error:  # its sentence says what is wrong, then how to fix it
        fix = "Point WA_INBOX_DB (or --db) at a wa-inbox database file in a folder this user can write."
        return _failed(DATABASE, str(error).partition(": ")[0].rstrip("."), fix)
    except (StoreError, OSError) as error:
        fix = "Point WA_INBOX_DB (or --db) at a wa-inbox database file in a folder this user can write."
        return _failed(DATABASE, f"cannot open {path} ({error})", fix)
    try:
        writable = await store.check_writable()
    finally:
        await store.close()
    if not writable:
        fix = f"Stop the process holding its write lock, or make {path} and its folder writable by this user."
        return _failed(DATABASE, f"{path} takes no commit", fix)
    return _passed(DATABASE, f"{path} is writable")


async def check_event_backlog(settings: Settings, now: Callable[[], datetime]) -> CheckResult:
    """The events waiting for Kafka and the oldest one's age: the relay's lag behind the webhooks."""
    try:
        store = await open_store(settings.store.path, read_only=True)
    except (UnusableDatabase, StoreError, OSError):
        return _skipped(EVENTS, "needs the database")
    try:
        backlog = await store.event_backlog()
    finally:
        await store.close()
    where = f"Kafka at {settings.events.kafka_bootstrap}"
    if backlog.pending == 0:
        return _passed(EVENTS, f"0 events waiting for {where}")
    lag = backlog.lag(now())
    events = "1 event" if backlog.pending == 1 else f"{backlog.pending} events"
    detail = f"{events} waiting for {where}, the oldest for {_duration(lag)}"
    if lag <= EVENT_LAG_TOLERANCE:
        return _passed(EVENTS, detail)
    if backlog.last_error:
        error = backlog.last_error
        detail += f" (last error: {error if len(error) <= ERROR_CHARS else error[: ERROR_CHARS - 1] + '…'})"
    fix = (
        "Start `wa-inbox serve` with these settings and check that it reaches Kafka (its log says why "
        "it cannot); nothing is lost meanwhile: the events are published once it can."
    )
    return _failed(EVENTS, detail, fix)


def _duration(span: timedelta) -> str:
    seconds = int(span.total_seconds())
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h"


def check_env_file(path: Path) -> CheckResult:
    """The `.env` file holds the Twilio secrets: no one but its owner may read it."""
    if not path.is_file():
        return _passed(ENV_FILE, "none here; secrets come from the environment")
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        return _failed(ENV_FILE, f"{path} has mode {mode:o}", f"Run `chmod 600 {path}`: it holds secrets.")
    return _passed(ENV_FILE, f"{path} has mode {mode:o}")
