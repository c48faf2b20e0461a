"""This process's hold on the sender lease (see `domain.lease`): taken, kept by a heartbeat, given back.

A sender that finds the lease live in another's hands stands by: it says so in its log and asks
again every `poll` seconds, taking the lease once the holder gives it back or lets it expire (it
stopped, or died). The holder renews every `heartbeat` seconds, well within `seconds`, and starts a
request only while its lease, as last renewed, has at least a heartbeat left (`sendable`): so a
request in flight when a sender dies had that long to reach Twilio before a successor looks for it.

Lease times are the store's wall clock (every process on one host shares it); how long this process
may still count on its lease is measured on the monotonic clock, from before the renewal was asked.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from wa_inbox.domain.lease import Lease
from wa_inbox.store import Store

if TYPE_CHECKING:
    from wa_inbox.metrics import Metrics

log = logging.getLogger(__name__)

LEASE_SECONDS = 15.0
"""How long a lease lasts without a renewal: how soon a dead sender's work is taken over."""
HEARTBEAT_SECONDS = 5.0
"""How often the holder renews: two renewals may fail before its lease runs out."""
STANDBY_POLL_SECONDS = 1.0
"""How often a sender standing by looks whether the lease is free."""


@dataclass(frozen=True, slots=True)
class LeaseTiming:
    """The lease's length, its holder's heartbeat and a waiting sender's poll (tests shorten them)."""

    seconds: float = LEASE_SECONDS
    heartbeat: float = HEARTBEAT_SECONDS
    poll: float = STANDBY_POLL_SECONDS

    def __post_init__(self) -> None:
        if not 0 < self.heartbeat * 2 < self.seconds:
            raise ValueError("the heartbeat must come at least twice within the lease")
        if self.poll <= 0:
            raise ValueError("the stand-by poll must be positive")


DEFAULT_TIMING = LeaseTiming()


class Leadership:
    """Whether this process holds the sender lease, for the duties only the sender's process runs.

    With several replicas on one database, template sync, media downloads, retention and automatic
    assignment must run once, not once per replica: they run in the process that holds the sender
    lease (`run_duty`), start when it is taken and stop when it is lost, so a replica that dies hands
    them over with the sending itself."""

    def __init__(self) -> None:
        self._held = asyncio.Event()
        self._lost = asyncio.Event()
        self._lost.set()

    @property
    def held(self) -> bool:
        return self._held.is_set()

    def gained(self) -> None:
        self._lost.clear()
        self._held.set()

    def lost(self) -> None:
        self._held.clear()
        self._lost.set()

    async def run_duty(self, name: str, duty: Callable[[], Coroutine[Any, Any, None]]) -> None:
        """Run `duty()` whenever this process holds the lease, cancelled when it is lost; until cancelled.
        A duty that ends by itself (it failed) is started again at the next time the lease is taken."""
        while True:
            await self._held.wait()
            work = asyncio.create_task(duty(), name=name)
            lost = asyncio.create_task(self._lost.wait())
            try:
                await asyncio.wait((work, lost), return_when=asyncio.FIRST_COMPLETED)
            finally:
                for task in (work, lost):
                    task.cancel()
                await asyncio.gather(work, lost, return_exceptions=True)
            if work.done() and not work.cancelled() and work.exception() is not None:
                log.error("%s stopped; it starts again with the next lease", name, exc_info=work.exception())
                await self._lost.wait()


class LeaseLost(Exception):
    """Another sender holds the lease now, or this one ran out: stop claiming and sending."""


def new_owner(role: str = "wa-inbox") -> str:
    """A sender id that says where it runs (`serve@web1:4242.a1f3`) and is never reused."""
    return f"{role}@{socket.gethostname()}:{os.getpid()}.{secrets.token_hex(2)}"


class LeaseKeeper:
    """One process's claim to be the database's sender."""

    def __init__(
        self,
        store: Store,
        owner: str,
        timing: LeaseTiming = DEFAULT_TIMING,
        monotonic: Callable[[], float] = time.monotonic,
        metrics: Metrics | None = None,
    ) -> None:
        """`metrics`, if given, follows the hold (`wa_inbox_sender_lease_held`)."""
        self.owner = owner
        self._metrics = metrics
        self.timing = timing
        self._store = store
        self._monotonic = monotonic
        self._lease: Lease | None = None
        self._valid_until = 0.0
        self._renewed = asyncio.Event()
        self._last_seen: tuple[str, int] | None = None
        self._ended_term: int | None = None
        """The last term this process stopped holding: never renewed, even while the database still
        has it live (its work was stopped, and is resolved under a new term once it expires)."""

    @property
    def lease(self) -> Lease | None:
        """Our lease as last granted; None when we do not hold it."""
        return self._lease

    def sendable(self) -> bool:
        """Held, with at least a heartbeat left before it could run out: a request may start."""
        left = self._valid_until - self._monotonic()
        return self._lease is not None and left >= self.timing.heartbeat

    async def try_acquire(self) -> Lease | None:
        """Take (or renew) the lease if nobody else holds it; our lease, or None when another has it
        (or the database still has live a term of ours that we stopped holding)."""
        held = await self._store.sender_lease()
        if held is not None and (held.owner != self.owner or held.term == self._ended_term):
            self._standing_by(held)
            return None
        asked = self._monotonic()
        lease = await self._store.acquire_sender_lease(self.owner, timedelta(seconds=self.timing.seconds))
        if lease.owner != self.owner or lease.term == self._ended_term:
            self._standing_by(lease)
            return None
        if self._lease is None or self._lease.term != lease.term:
            before = self._last_seen[0] if self._last_seen and self._last_seen[0] != self.owner else None
            log.info(
                "this process sends: it holds the sender lease as %s (term %d)%s",
                self.owner,
                lease.term,
                f", taken over from {before}" if before else "",
            )
        self._granted(lease, asked)
        return lease

    async def acquire(self) -> Lease:
        """Wait until this process holds the lease (standing by meanwhile); returns it."""
        while True:
            try:
                lease = await self.try_acquire()
            except Exception:  # the database is briefly unavailable: keep waiting
                log.exception("cannot read the sender lease; trying again shortly")
                lease = None
            if lease is not None:
                return lease
            await asyncio.sleep(self.timing.poll)

    async def keep(self) -> None:
        """Renew every heartbeat until cancelled; raises `LeaseLost` once the lease is gone."""
        while True:
            await asyncio.sleep(self.timing.heartbeat)
            await self.renew()

    async def renew(self) -> None:
        """One heartbeat. A failed renewal is tried again at the next; `LeaseLost` when another sender
        holds the lease, when it lapsed (even if retaken: a new term), or when it ran out untold."""
        held = self._lease
        if held is None:
            raise LeaseLost("this process does not hold the sender lease")
        asked = self._monotonic()
        try:
            lease = await self._store.acquire_sender_lease(self.owner, timedelta(seconds=self.timing.seconds))
        except Exception as error:
            if self._monotonic() >= self._valid_until:
                self._lost()
                raise LeaseLost(f"the sender lease ran out: it could not be renewed ({error})") from error
            log.warning(
                "could not renew the sender lease (%s); trying again in %.0f s", error, self.timing.heartbeat
            )
            return
        if lease.owner != self.owner or lease.term != held.term:
            self._lost()
            raise LeaseLost(f"the sender lease lapsed; now {lease.owner} holds it (term {lease.term})")
        self._granted(lease, asked)

    async def until_sendable(self) -> None:
        """Return once a request may start; `LeaseLost` if the lease is gone meanwhile."""
        while not self.sendable():
            if self._lease is None or self._monotonic() >= self._valid_until:
                raise LeaseLost("the sender lease ran out before it could be renewed")
            self._renewed.clear()
            try:
                async with asyncio.timeout(self._valid_until - self._monotonic()):
                    await self._renewed.wait()
            except TimeoutError:
                pass

    async def release(self) -> None:
        """Give the lease back now, so a sender standing by takes over at once."""
        if self._lease is None:
            return
        self._lost()
        await self._store.release_sender_lease(self.owner)

    def let_expire(self) -> None:
        """Stop holding the lease without giving it back: no other sender takes it before it expires."""
        self._lost()

    def _granted(self, lease: Lease, asked: float) -> None:
        self._lease = lease
        self._valid_until = asked + self.timing.seconds
        if self._metrics:
            self._metrics.lease_held(True)
        self._renewed.set()

    def _lost(self) -> None:
        if self._lease is not None:
            self._ended_term = self._lease.term
        self._lease = None
        self._valid_until = 0.0
        self._last_seen = None
        if self._metrics:
            self._metrics.lease_held(False)
        self._renewed.set()

    def _standing_by(self, holder: Lease) -> None:
        """Said once per holder and term, not at every poll."""
        if self._last_seen == (holder.owner, holder.term):
            return
        self._last_seen = (holder.owner, holder.term)
        until = holder.expires_at.astimezone().isoformat(timespec="seconds")
        log.info(
            "standing by: %s holds the sender lease until %s (renewed every few seconds);"
            " this process sends once it is given back or expires",
            holder.owner,
            until,
        )
