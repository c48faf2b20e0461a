"""The write commands that run several steps of `writes` in one write: the webhooks' ingest (with the
event outbox's row, `events`), and the health check's empty commit.

Every write the store submits is a command registered with `@command` (see `tx`): a module-level
function taking `tx: Tx` first (the connection, the batch's change number, the write's time) and
then its own arguments, run in the writer process as `command(tx, *args)`. The other commands live
beside the step they are (`writes`, `lease`, `templates`, `webhook_log`); each exists once, and none
of them shares a name with a function here.

A command's name and its arguments cross to that process pickled, once per write: the two webhook
commands take plain tuples (`request`, `status_fields`), which pickle several times faster than the
domain's dataclasses, datetimes and enums; the rest are rare enough to take the domain objects as
they are.
"""

from __future__ import annotations

from typing import Any

from wa_inbox.domain.models import InboundMessage, StatusUpdate, Verdict, WebhookRecord
from wa_inbox.domain.optout import OptAction
from wa_inbox.domain.policy import Draft
from wa_inbox.domain.team import SYSTEM
from wa_inbox.store import events, team_writes, writes
from wa_inbox.store.events import EventRow
from wa_inbox.store.tx import Tx, command
from wa_inbox.store.writes import LoggedRequest


def request(record: WebhookRecord) -> LoggedRequest:
    return (
        str(record.kind),
        record.path,
        str(record.verdict),
        record.reason,
        record.message_sid,
        record.body,
        dict(record.headers),
    )


def status_fields(update: StatusUpdate) -> tuple[Any, ...]:
    return (
        update.sid,
        update.status,
        update.error_code,
        update.error_message,
        update.from_addr,
        update.to_addr,
        update.messaging_service_sid,
    )


@command
def ingest_status(tx: Tx, fields: tuple[Any, ...], req: LoggedRequest, event: EventRow | None = None) -> bool:
    """A status callback, received at `tx.now`, its raw log row and, when it is new, its `event`."""
    new = writes.apply_status(tx, StatusUpdate(*fields))
    writes.log_webhook(tx, req, None if new else Verdict.DUPLICATE)
    if new and event is not None:
        events.insert_event(tx, event)
    return new


@command
def ingest_inbound(
    tx: Tx,
    msg: InboundMessage,
    req: LoggedRequest,
    opt_action: OptAction | None,
    confirmation: str | None,
    event: EventRow | None = None,
) -> bool:
    """A customer's message, received at `tx.now`, its raw log row, the STOP/START it carries and,
    when it is new, its `event`.

    A new message reopens the conversation when it was resolved or snoozed, in this transaction, with
    a `status` event by `system` ("reopened by the customer", `team_writes.reopen_on_inbound`); the
    STOP/START confirmation it queues is authored by `system` too."""
    if writes.insert_inbound(tx, msg, req[5]) is None:
        writes.log_webhook(tx, req, Verdict.DUPLICATE)
        return False
    writes.log_webhook(tx, req)
    if event is not None:
        events.insert_event(tx, event)
    team_writes.reopen_on_inbound(tx, msg.from_addr)
    if opt_action is None:
        return True
    source = f"keyword {msg.body.strip()!r}"
    changed = writes.set_opt_state(tx, msg.from_addr, opt_action, source, msg.sid)
    if changed and confirmation:
        draft = Draft(address=msg.from_addr, body=confirmation, author=SYSTEM)
        key = f"opt-confirmation:{msg.sid}"
        writes.queue_outbound(tx, draft, key, opt_confirmation=opt_action is OptAction.STOP)
    return True


@command
def nothing(tx: Tx) -> None:
    """Changes nothing, yet its batch commits: the health check's proof that commits go through."""
