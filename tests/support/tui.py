"""Backends and probes for driving the inbox TUI in tests."""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from pathlib import Path

from textual.pilot import Pilot
from textual.widget import Widget
from textual.widgets import Static

from tests.support.world import eventually
from wa_inbox.config import Settings
from wa_inbox.domain.errors import describe
from wa_inbox.domain.models import InboundMessage, StatusUpdate, Verdict, WebhookKind, WebhookRecord
from wa_inbox.domain.optout import OptAction
from wa_inbox.domain.policy import Draft
from wa_inbox.domain.templates import TemplateInfo
from wa_inbox.emulator.templates import Template
from wa_inbox.running.services import Backend, Services, attached
from wa_inbox.store import Store
from wa_inbox.testing import BUSINESS, EmulatedInbox
from wa_inbox.tui.app import InboxApp
from wa_inbox.tui.format import display_name
from wa_inbox.tui.widgets.conversation_list import ConversationList
from wa_inbox.tui.widgets.status_bar import StatusBar
from wa_inbox.tui.widgets.thread_view import ThreadView


def world_backend(world: EmulatedInbox) -> Backend:
    """The services of a world the test started (and keeps a handle on, to play the customers)."""

    @contextlib.asynccontextmanager
    async def start() -> AsyncIterator[Services]:
        yield Services.of(world.settings, world.store, world.outbox, world.receiver_url)

    return start


AGENT = "alice"
"""The agent a test's inbox answers as, unless told (never the machine's user: snapshots show it)."""


def offline_backend(db_path: Path, agent: str = AGENT) -> Backend:
    """The database alone, attached as an agent without credentials: no network, nothing can send."""
    return attached(Settings.model_validate({"store": {"path": db_path}, "agent": {"name": agent}}))


# --- reading the screen ----------------------------------------------------------------------------


def rendered(widget: Widget) -> list[str]:
    """What `widget` draws right now, one string a line (for line-API widgets: the visible lines)."""
    return [widget.render_line(y).text for y in range(widget.size.height)]


def list_rows(app: InboxApp) -> list[str]:
    """The conversation list as drawn, without the blank lines below the last row."""
    return [row for row in rendered(app.inbox.query_one(ConversationList)) if row.strip()]


def row_of(app: InboxApp, name: str) -> str:
    (row,) = [row for row in list_rows(app) if name in row]
    return row


def thread_text(app: InboxApp) -> str:
    """The open thread as drawn, line after line."""
    return "\n".join(rendered(app.inbox.query_one(ThreadView)))


def static_text(app: InboxApp, selector: str) -> str:
    return str(app.screen.query_one(selector, Static).content)


def status_text(app: InboxApp) -> str:
    return str(app.inbox.query_one(StatusBar).render())


def open_address(app: InboxApp) -> str | None:
    return app.inbox.contact.address if app.inbox.contact else None


# --- writing the database as the receiver and the sender would ----------------------------------


def record(kind: WebhookKind, sid: str, at: datetime) -> WebhookRecord:
    path = "/twilio/inbound" if kind is WebhookKind.INBOUND else "/twilio/status"
    return WebhookRecord(kind, path, Verdict.ACCEPTED, f"MessageSid={sid}", {}, at, None, sid)


async def inbound(
    store: Store, address: str, body: str, at: datetime, name: str | None = None, sid: str | None = None
) -> str:
    """A customer's message received at `at` (STOP and START opt them out and in)."""
    sid = sid or "SM" + secrets.token_hex(16)
    action = {"STOP": OptAction.STOP, "START": OptAction.START}.get(body.strip().upper())
    message = InboundMessage(sid, address, BUSINESS, body, profile_name=name)
    await store.ingest_inbound(message, record(WebhookKind.INBOUND, sid, at), action)
    return sid


async def outbound(
    store: Store, to: str, body: str, statuses: list[str], at: datetime, error_code: int | None = None
) -> str | None:
    """A reply queued by the agent and taken through `statuses` ([] leaves it pending in the outbox)."""
    await store.queue_draft(Draft(to, body), secrets.token_hex(8))
    if not statuses:
        return None
    (job,) = await store.claim_unsent(1)
    sid = "SM" + secrets.token_hex(16)
    await store.record_accepted(job.id, sid, statuses[0], BUSINESS, None)
    for status in statuses[1:]:
        code = error_code if status in ("failed", "undelivered") else None
        info = describe(code)
        update = StatusUpdate(sid, status, code, info.meaning if info else None, BUSINESS, to)
        await store.ingest_status(update, record(WebhookKind.STATUS, sid, at))
    return sid


# --- driving the app -------------------------------------------------------------------------------


def idle(app: InboxApp) -> bool:
    """Services up, and no load, change, open or send still running."""
    busy = {"load", "changes", "open", "send", "older"}
    return app.inbox.services is not None and not any(
        w.group in busy and not w.is_finished for w in app.workers
    )


async def settled(pilot: Pilot[None], seconds: float = 5.0) -> None:
    """Idle, and every commit so far shown (attached, that waits for the change feed's poll)."""
    app = pilot.app
    assert isinstance(app, InboxApp)

    async def quiet() -> bool:
        await pilot.pause()
        if not idle(app) or app.inbox.services is None:
            return False
        seen = app.inbox._seq
        return (await app.inbox.services.store.changes_since(seen)).seq == seen

    await eventually(quiet, bool, seconds)
    await pilot.pause()


async def open_conversation(pilot: Pilot[None], name: str) -> None:
    """Walk the conversation list with the arrow keys to `name` and open it."""
    app = pilot.app
    assert isinstance(app, InboxApp)
    conversations = app.inbox.query_one(ConversationList)
    target = [display_name(c.contact) for c in conversations.conversations].index(name)
    await pilot.press("ctrl+o")
    steps = target - conversations.cursor
    await pilot.press(*(["down"] * steps if steps > 0 else ["up"] * -steps), "enter")
    await until(pilot, lambda: app.inbox.contact is not None and display_name(app.inbox.contact) == name)
    await settled(pilot)


async def until(pilot: Pilot[None], condition: Callable[[], bool], seconds: float = 5.0) -> None:
    """Let the app run until `condition()` holds (messages processed and screen refreshed each look)."""

    async def look() -> bool:
        await pilot.pause()
        return condition()

    await eventually(look, bool, seconds)


async def type_text(pilot: Pilot[None], text: str) -> None:
    await pilot.press(*("space" if char == " " else char for char in text))


def template_info(template: Template) -> TemplateInfo:
    """An emulator fixture as the picker gets it from the Content API (as gateway.templates reads it)."""
    kind, spec = next(iter(template.types.items()))
    return TemplateInfo(
        sid=template.sid,
        name=template.friendly_name,
        language=template.language,
        kind=kind,
        body=str(spec.get("body") or spec.get("title") or ""),
        variables=dict(template.variables),
        approval=str(template.approval.get("status") or "unsubmitted"),
        category=template.approval.get("category") or None,
        actions=tuple(str(action["title"]) for action in spec.get("actions", [])),
        media=tuple(spec.get("media", [])),
    )


# --- running the app --------------------------------------------------------------------------------

ZOE = "whatsapp:+14155550100"
BEN = "whatsapp:+14155550123"
ANA = "whatsapp:+5511987654321"


@contextlib.asynccontextmanager
async def running_app(
    backend: Backend, size: tuple[int, int] = (120, 32)
) -> AsyncIterator[tuple[InboxApp, Pilot[None]]]:
    app = InboxApp(backend)
    async with app.run_test(size=size) as pilot:
        await until(pilot, lambda: idle(app))
        yield app, pilot
