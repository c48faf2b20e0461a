"""Round-robin auto-assignment (`[team] auto_assign`): the server gives each new conversation to the
agents seen recently, in turn.

A conversation is new when a customer's message is its first message of all (a customer writing for
the first time); one an agent started, or one that had messages before, is left to the agents. The
assigner follows the store's change feed from where it started (history is never assigned), takes
the agents whose `last_seen` is within `domain.team.RECENT_AGENT` (an inbox records its agent at start
and its presence heartbeats keep it fresh), and assigns to the one after the last it chose, by name,
as `system`. With no recent agent, the conversation stays unassigned.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from wa_inbox.config import Settings
from wa_inbox.domain.clock import Clock, utc_now
from wa_inbox.domain.models import Direction
from wa_inbox.domain.team import RECENT_AGENT, SYSTEM
from wa_inbox.store import Changes, MessageQuery, Store, StoreError

log = logging.getLogger(__name__)

RETRY_SECONDS = 1.0
"""After the store refused a read or a write, wait this long before following the feed again."""


@contextlib.asynccontextmanager
async def assigning(settings: Settings, store: Store, clock: Clock = utc_now) -> AsyncIterator[None]:
    """The assigner, while the block runs, when `[team] auto_assign` is on; `clock` should be the
    store's (an agent is recent by the times the store stamped)."""
    if not settings.team.auto_assign:
        yield
        return
    task = asyncio.create_task(AutoAssigner(store, clock).run(), name="wa-inbox-assignment")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


REMEMBERED = 100_000
"""How many considered message ids the assigner keeps (a few MB): a message changed again after this many
newer ones (read, say) would be looked at again, and passed over because its conversation is older."""


class AutoAssigner:
    def __init__(self, store: Store, clock: Clock = utc_now) -> None:
        self._store = store
        self._clock = clock
        self._last_agent: str | None = None
        self._seq = 0
        self._floor = 0
        """The newest message id when following began: messages up to it were there before."""
        self._considered: dict[int, None] = {}
        """Ids of messages already considered, oldest first, the latest `REMEMBERED` of them: a message
        seen again (read, say) is no news. A set, not "the highest id seen": on PostgreSQL ids are
        handed out before commit, so a lower id may commit after a higher one."""

    async def start(self) -> None:
        """Where following begins: now (conversations that are already there are never assigned)."""
        self._seq = await self._store.change_number()
        newest = await self._store.list_messages(MessageQuery(limit=1))
        self._floor = newest[0].id if newest else 0

    async def run(self) -> None:
        """Follow the feed until cancelled."""
        await self.start()
        async for _ in self._store.changes():
            try:
                await self.catch_up()
            except StoreError as error:
                log.warning("auto-assignment paused: %s", error)
                await asyncio.sleep(RETRY_SECONDS)

    async def catch_up(self) -> list[tuple[str, str]]:
        """Assign the new conversations committed since the last look, a page of the feed at a time
        until the newest; (address, agent) of each."""
        assigned = []
        more = True
        while more:
            changes = await self._store.changes_since(self._seq)
            for address, message_id in self._new(changes):
                if pair := await self._consider(address, message_id):
                    assigned.append(pair)
            self._seq, more = changes.seq, changes.more
        return assigned

    def _new(self, changes: Changes) -> list[tuple[str, int]]:
        """(address, message id) of each unassigned conversation's first message not considered
        before that a customer wrote, in order."""
        unassigned = {c.contact.address for c in changes.conversations if c.assignee is None}
        found: dict[str, int] = {}
        for message in sorted(changes.messages, key=lambda m: m.id):
            if message.id <= self._floor or message.id in self._considered:
                continue
            self._remember(message.id)
            if message.direction is Direction.INBOUND and message.address in unassigned:
                found.setdefault(message.address, message.id)
        return list(found.items())

    def _remember(self, message_id: int) -> None:
        self._considered[message_id] = None
        if len(self._considered) > REMEMBERED:
            del self._considered[next(iter(self._considered))]

    async def _consider(self, address: str, message_id: int) -> tuple[str, str] | None:
        if await self._store.thread_page(address, before_id=message_id, limit=1):
            return None  # the conversation had messages before: not new
        agent = await self._next_agent()
        if agent is None or not await self._store.assign(address, agent, SYSTEM):
            return None
        self._last_agent = agent
        log.info("auto-assigned %s to %s", address, agent)
        return address, agent

    async def _next_agent(self) -> str | None:
        since = self._clock() - RECENT_AGENT
        names = sorted(
            a.name for a in await self._store.list_agents() if a.last_seen >= since and a.name != SYSTEM
        )
        if not names:
            return None
        after = [name for name in names if self._last_agent is None or name > self._last_agent]
        return (after or names)[0]
