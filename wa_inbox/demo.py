"""`wa-inbox demo`: the whole product against the built-in Twilio emulator, no account, no network.

It starts the emulator and the receiver on free loopback ports, seeds a few conversations that show
what the inbox knows (a window about to close, one closed, an opted-out customer, a failed message),
keeps simulated customers talking, answers them from a stand-in agent, and logs what arrives.
"""

from __future__ import annotations

import contextlib
import secrets
import tempfile
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from wa_inbox.domain import status as status_rules
from wa_inbox.domain.errors import describe
from wa_inbox.domain.models import Direction, InboundMessage, Message, StatusUpdate, Verdict, WebhookKind
from wa_inbox.domain.models import WebhookRecord as Record
from wa_inbox.domain.optout import OptAction
from wa_inbox.domain.policy import Draft
from wa_inbox.gateway.submission import Refused
from wa_inbox.store import Store
from wa_inbox.testing import BUSINESS, EmulatedInbox, emulated_inbox


@dataclass(frozen=True, slots=True)
class Seed:
    name: str
    address: str
    wrote_ago: timedelta
    says: str


SEEDS = (
    Seed(
        "Ana Silva", "whatsapp:+5511987654321", timedelta(hours=23, minutes=40), "Oi, meu pedido não chegou"
    ),
    Seed("Ben Carter", "whatsapp:+14155550123", timedelta(hours=30), "Can I change my delivery address?"),
    Seed("Chloé Dubois", "whatsapp:+33612345678", timedelta(days=2), "STOP"),
    Seed("Dev Patel", "whatsapp:+919876543210", timedelta(hours=26), "Is the blue one back in stock?"),
)


@contextlib.asynccontextmanager
async def running_demo(
    db_path: Path | None = None, chatter_seconds: float = 4.0, agent: str | None = None
) -> AsyncIterator[EmulatedInbox]:
    """Everything up and seeded; simulated customers write in while the block runs. `agent` (else the
    settings' agent) is at work from before the seeded customers wrote: their messages are unread."""
    with tempfile.TemporaryDirectory(prefix="wa-inbox-demo-") as scratch:
        async with emulated_inbox(db_path or Path(scratch) / "inbox.db") as demo:
            await demo.store.record_agent(agent or demo.settings.agent.resolved)
            await seed(demo)
            await demo.emulator.start_chatter(chatter_seconds)
            yield demo
            await demo.emulator.stop_chatter()


async def seed(demo: EmulatedInbox) -> None:
    """Backdated conversations, written as the receiver would have written them."""
    now = datetime.now(UTC)
    for number, person in enumerate(SEEDS):
        at = now - person.wrote_ago
        await demo.emulator.set_last_inbound(person.address, at)
        sid = f"SM{number:032x}"
        message = InboundMessage(sid, person.address, BUSINESS, person.says, profile_name=person.name)
        action = OptAction.STOP if person.says == "STOP" else None
        await demo.store.ingest_inbound(message, _record(WebhookKind.INBOUND, sid, at), action)
        if action is not None:
            await demo.emulator.opt_out(person.address)
    ana, _, _, dev = SEEDS
    await _seed_outbound(
        demo.store, ana.address, "Olá Ana! Vou verificar agora.", "read", None, now - ana.wrote_ago
    )
    await _seed_outbound(demo.store, dev.address, "Any news on your order?", "failed", 63016, now)


async def _seed_outbound(
    store: Store, to: str, body: str, status: str, error_code: int | None, at: datetime
) -> None:
    await store.queue_draft(Draft(to, body), secrets.token_hex(8))
    (job,) = await store.claim_unsent(1)
    sid = "SM" + secrets.token_hex(16)
    await store.record_accepted(job.id, sid, "queued", BUSINESS, None)
    info = describe(error_code)
    update = StatusUpdate(sid, status, error_code, info.meaning if info else None, BUSINESS, to)
    await store.ingest_status(update, _record(WebhookKind.STATUS, sid, at))


def _record(kind: WebhookKind, sid: str, at: datetime) -> Record:
    return Record(
        kind, "/seed", Verdict.ACCEPTED, f"MessageSid={sid}", {}, at, "seeded by wa-inbox demo", sid
    )


class LiveLog:
    """Prints each new inbound message and each outbound tick once, and lets a stand-in agent reply."""

    def __init__(self, demo: EmulatedInbox, echo: Callable[[str], None]) -> None:
        self._demo = demo
        self._echo = echo
        self._seen: set[tuple[int, str]] = set()
        self._seq = 0

    async def run(self) -> None:
        """Follows the store's change feed, as the inbox does."""
        async for _ in self._demo.store.changes():
            more = True
            while more:  # a page of the feed at a time, to the newest change
                changes = await self._demo.store.changes_since(self._seq)
                for message in changes.messages:
                    await self._show(message)
                self._seq, more = changes.seq, changes.more

    async def _show(self, message: Message) -> None:
        tick = f"{status_rules.tick(message.status)} {message.status}"
        key = (message.id, tick)
        if key in self._seen:
            return
        self._seen.add(key)
        who = message.address
        if message.direction is Direction.INBOUND:
            what = message.body or (f"[{message.media[0].content_type}]" if message.media else "[location]")
            self._echo(f"← {who}: {what}")
            await self._reply(message)
            return
        if message.status in status_rules.FAILED:
            info = describe(message.error_code)
            tick = f"✗ {message.error_code or ''} {info.meaning if info else message.error_message or ''}"
        self._echo(f"→ {who}: {message.body[:40]!r} {tick}")

    async def _reply(self, message: Message) -> None:
        """The stand-in agent answers fresh messages (not seeded ones, not STOP/START)."""
        fresh = message.created_at > datetime.now(UTC) - timedelta(minutes=1)
        outbox = self._demo.outbox
        if outbox is None or not fresh or message.body.strip().upper() in ("STOP", "START"):
            return
        with contextlib.suppress(Refused):
            await outbox.submit(Draft(message.address, "Thanks! An agent will look at this now."))


async def run_demo(db_path: Path | None, pace: float, echo: Callable[[str], None]) -> None:
    """The `wa-inbox demo` command: runs until cancelled (Ctrl-C)."""
    async with running_demo(db_path, pace) as demo:
        echo("wa-inbox demo: a local Twilio emulator and the receiver, no account needed.")
        echo(f"  receiver   {demo.receiver_url}  (Twilio's webhooks go here, signed)")
        echo(f"  emulator   {demo.emulator_url}  (stands in for api.twilio.com)")
        echo(f"  database   {demo.settings.store.path}")
        echo(f"  try, in another terminal: wa-inbox conversations list --db {demo.settings.store.path}")
        echo("Seeded: Ana's window closes in 20 minutes, Ben's is closed, Chloé opted out,")
        echo("        and Dev's last message failed outside the window.")
        echo("Customers are writing in; a stand-in agent answers. Ctrl-C stops.\n")
        await LiveLog(demo, echo).run()
