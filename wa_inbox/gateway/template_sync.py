"""Keeps the store's copy of the account's templates fresh: at start-up, and again after a template error.

A template send can fail because our copy is stale: the template was paused, deleted or changed at
Twilio. The sender reports the errors the API answers (`after_error`); those that arrive later by
status callback are found on the store's change feed (`run`). Either way the templates are read
again, so the picker stops offering what WhatsApp would refuse.
"""

from __future__ import annotations

import asyncio
import logging

import httpx
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from wa_inbox.domain.errors import describe
from wa_inbox.domain.templates import TemplateInfo
from wa_inbox.gateway.templates import list_templates
from wa_inbox.store import Store, StoreError

log = logging.getLogger(__name__)

COALESCE_SECONDS = 0.25
"""After a commit, wait this long before looking: a burst of failures (a campaign) is one re-sync."""
FIRST_RETRY_SECONDS = 0.5
"""At start-up Twilio may not be reachable yet: the first sync is retried after this, then twice as long."""
QUIET_RETRY_SECONDS = 4.0
"""Retries are logged as warnings only from this delay on: the first seconds of a start are expected."""
_SYNC_ERRORS = (TwilioRestException, httpx.TransportError, StoreError)


async def sync_templates(client: Client, store: Store) -> list[TemplateInfo]:
    """Read every template from the Content API and replace the stored set with it."""
    templates = await list_templates(client)
    await store.replace_templates(templates)
    return templates


class TemplateSync:
    """One sync at a time for one client and store; the runtime runs `run` beside the sender."""

    def __init__(self, client: Client, store: Store) -> None:
        self._client = client
        self._store = store
        self._lock = asyncio.Lock()
        self._changed = asyncio.Event()
        self._unseen: tuple[int, int] | None = None
        """The change_seq range (after, upto] committed since the feed was last read."""

    async def sync(self) -> list[TemplateInfo]:
        async with self._lock:
            return await sync_templates(self._client, self._store)

    async def after_error(self, code: int) -> None:
        """Re-sync because a template send failed with `code`; never raises, the failure is recorded."""
        try:
            synced = await self.sync()
        except _SYNC_ERRORS as error:
            log.warning("templates could not be re-synced after error %d: %s", code, error)
            return
        log.warning("templates re-synced after error %d (%d templates)", code, len(synced))

    async def run(self) -> None:
        """Sync once, then re-sync whenever a template send fails by status callback, until cancelled."""
        self._store.on_commit(self._committed)
        await self._first_sync()
        while True:
            await self._changed.wait()
            await asyncio.sleep(COALESCE_SECONDS)
            self._changed.clear()
            if (code := await self._template_error()) is not None:
                await self.after_error(code)

    async def _first_sync(self) -> None:
        """Retried while Twilio cannot be reached; given up if Twilio refuses it (bad credentials)."""
        delay = FIRST_RETRY_SECONDS
        while True:
            try:
                synced = await self.sync()
            except httpx.TransportError as error:
                level = logging.WARNING if delay >= QUIET_RETRY_SECONDS else logging.INFO
                log.log(level, "templates not synced yet (%s); trying again in %.1f s", error, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 60.0)
                continue
            except _SYNC_ERRORS as error:
                log.warning("templates could not be synced at start-up: %s", error)
                return
            log.info("synced %d templates", len(synced))
            return

    def _committed(self, seq: int) -> None:
        """Widen the unseen range to hold `seq`: commits may be told out of order (PostgreSQL's change
        numbers are transaction ids, notified in commit order)."""
        after, upto = self._unseen if self._unseen else (seq - 1, seq)
        self._unseen = (min(after, seq - 1), max(upto, seq))
        self._changed.set()

    async def _template_error(self) -> int | None:
        """The first template-problem code among template sends failed since the feed was last read."""
        if self._unseen is None:
            return None
        (after, upto), self._unseen = self._unseen, None
        try:
            codes = await self._store.template_send_errors(after, upto)
        except StoreError as error:
            log.warning("cannot look for failed template sends: %s", error)
            return None
        return next((code for code in codes if (info := describe(code)) and info.template_problem), None)
