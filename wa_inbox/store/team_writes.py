"""The team inbox's write steps (#14, `domain.team`): agents, assignment, status, notes, labels, saved
replies and presence.

Each registered command takes `tx: Tx` first (see `tx`). A change of a conversation (assignee, status,
note, label) writes its line in `thread_events` and moves the conversation's `change_seq`, so that
`changes_since` reports the conversation and the event; presence and saved replies do not (presence is
renewed every few seconds and polled, a saved reply is no conversation's news).
"""

from __future__ import annotations

from typing import Any

from wa_inbox.domain.team import SYSTEM, ConversationStatus, EventKind
from wa_inbox.store.errors import UnknownConversation
from wa_inbox.store.tx import Tx, command

REOPENED = "reopened by the customer"
"""The `detail` of the `status` event a customer's message writes when it reopens a conversation."""


def require_conversation(tx: Tx, address: str) -> None:
    """`UnknownConversation` unless the customer at `address` wrote or was written to."""
    if tx.conn.execute("SELECT 1 FROM contacts WHERE address = ?", (address,)).fetchone() is None:
        raise UnknownConversation(
            f"No conversation with {address}: that number never wrote nor was written to."
        )


def add_event(
    tx: Tx, address: str, kind: EventKind, author: str, body: str, detail: str | None = None
) -> int:
    """A line in the conversation's thread, in the change feed with its conversation; its id."""
    row = tx.conn.execute(
        "INSERT INTO thread_events (address, kind, author, body, detail, created_at, change_seq)"
        " VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
        (address, str(kind), author, body, detail, tx.now, tx.seq),
    ).fetchone()
    tx.conn.execute("UPDATE conversations SET change_seq = ? WHERE address = ?", (tx.seq, address))
    return int(row[0])


def reopen_on_inbound(tx: Tx, address: str) -> None:
    """A customer's new message reopens their resolved or snoozed conversation (a snooze whose time
    has passed included), with a `status` event by `system` saying so."""
    reopened = tx.conn.execute(
        "UPDATE conversations SET status = 'open', snoozed_until = NULL"
        " WHERE address = ? AND status IN ('resolved', 'snoozed')",
        (address,),
    ).rowcount
    if reopened:
        add_event(tx, address, EventKind.STATUS, SYSTEM, str(ConversationStatus.OPEN), REOPENED)


@command
def record_agent(tx: Tx, name: str) -> tuple[Any, ...]:
    """Known from now on; last seen now. A new agent's unread counts start at the newest message."""
    row = tx.conn.execute(
        "INSERT INTO agents (name, first_seen, last_seen, first_message_id)"
        " VALUES (?, ?, ?, (SELECT COALESCE(MAX(id), 0) FROM messages))"
        " ON CONFLICT (name) DO UPDATE SET last_seen = excluded.last_seen"
        " RETURNING name, first_seen, last_seen",
        (name, tx.now, tx.now),
    ).fetchone()
    return tuple(row)


@command
def assign(tx: Tx, address: str, assignee: str | None, by: str) -> bool:
    require_conversation(tx, address)
    changed = tx.conn.execute(
        "UPDATE conversations SET assignee = ? WHERE address = ? AND assignee IS NOT ?",
        (assignee, address, assignee),
    ).rowcount
    if changed:
        add_event(tx, address, EventKind.ASSIGNED, by, assignee or "")
    return bool(changed)


@command
def set_conversation_status(tx: Tx, address: str, status: str, by: str, until: str | None) -> bool:
    """`until` only for a snooze (the caller checked it is given); any other status clears it."""
    require_conversation(tx, address)
    changed = tx.conn.execute(
        "UPDATE conversations SET status = ?, snoozed_until = ?"
        " WHERE address = ? AND (status IS NOT ? OR snoozed_until IS NOT ?)",
        (status, until, address, status, until),
    ).rowcount
    if changed:
        add_event(tx, address, EventKind.STATUS, by, status, until)
    return bool(changed)


@command
def add_note(tx: Tx, address: str, author: str, body: str) -> int:
    """The note's event id (its time is `tx.now`)."""
    require_conversation(tx, address)
    return add_event(tx, address, EventKind.NOTE, author, body)


@command
def set_label(tx: Tx, address: str, label: str, present: bool, by: str) -> bool:
    require_conversation(tx, address)
    if present:
        changed = tx.conn.execute(
            "INSERT INTO conversation_labels (address, label) VALUES (?, ?) ON CONFLICT DO NOTHING",
            (address, label),
        ).rowcount
    else:
        changed = tx.conn.execute(
            "DELETE FROM conversation_labels WHERE address = ? AND label = ?", (address, label)
        ).rowcount
    if changed:
        add_event(tx, address, EventKind.LABEL, by, ("+" if present else "-") + label)
    return bool(changed)


@command
def save_reply(tx: Tx, name: str, body: str, by: str) -> None:
    tx.conn.execute(
        "INSERT INTO saved_replies (name, body, updated_by, updated_at) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (name) DO UPDATE SET body = excluded.body, updated_by = excluded.updated_by,"
        " updated_at = excluded.updated_at",
        (name, body, by, tx.now),
    )


@command
def delete_reply(tx: Tx, name: str) -> bool:
    return bool(tx.conn.execute("DELETE FROM saved_replies WHERE name = ?", (name,)).rowcount)


@command
def touch_presence(tx: Tx, agent: str, address: str, typing: bool, until: str) -> None:
    """One mark per agent, moved to `address`; the heartbeat also keeps the agent's `last_seen`
    fresh (round-robin assignment picks agents seen recently). No `change_seq`: presence is polled."""
    tx.conn.execute(
        "INSERT INTO presence (agent, address, typing, until) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (agent) DO UPDATE SET address = excluded.address, typing = excluded.typing,"
        " until = excluded.until",
        (agent, address, typing, until),
    )
    tx.conn.execute("UPDATE agents SET last_seen = ? WHERE name = ?", (tx.now, agent))


@command
def leave_presence(tx: Tx, agent: str) -> None:
    tx.conn.execute("DELETE FROM presence WHERE agent = ?", (agent,))


def mark_read_by(tx: Tx, address: str, agent: str) -> None:
    """The agent's read mark moves to the conversation's latest message (never back)."""
    tx.conn.execute(
        "INSERT INTO agent_reads (agent, address, last_read_id)"
        " SELECT ?, address, last_message_id FROM conversations WHERE address = ?"
        " ON CONFLICT (agent, address) DO UPDATE SET last_read_id = max(last_read_id, excluded.last_read_id)",
        (agent, address),
    )
    tx.conn.execute("UPDATE conversations SET change_seq = ? WHERE address = ?", (tx.seq, address))
