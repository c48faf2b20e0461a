"""Reads of messages, contacts and conversations on PostgreSQL, and the mapping of their rows to
domain dataclasses.

Behaviour is SQLite's (`store/reads.py`): the same orderings, the same keyset pages (the conversation
list by `(last_message_id, address)` along `conversations_by_activity`, threads and listings by id),
the same search ranking among the newest matches. Two things differ:

- **The change feed is bounded above.** A change number is a transaction id (`feed.py`); every feed
  read takes `upto`, the horizon the store read first, and returns only rows with
  `since < change_seq <= upto`: a row stamped by a transaction still running above the horizon is
  left for the next read instead of being skipped for ever.
- **Search uses the `search_vector` GIN index** (`schema.py`: `to_tsvector('simple', body)`), with
  a fallback scan of the newest messages for what that index cannot see (accents, words inside an
  e-mail address or a number); see `search`.

psycopg returns times as aware UTC datetimes and flags as bools: rows map to dataclasses as they come.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from psycopg import AsyncConnection

from wa_inbox.domain import window
from wa_inbox.domain.models import Contact, Conversation, MediaRef, Message
from wa_inbox.store import rows
from wa_inbox.store.postgres import team
from wa_inbox.store.types import Changes, ConversationCounts, ConversationFilter, MessageQuery

Conn = AsyncConnection[Any]

MESSAGE_COLUMNS = """m.id, m.sid, m.direction, m.address, m.from_addr, m.to_addr, m.body,
    m.status, m.error_code, m.error_message, m.message_type, m.latitude, m.longitude,
    m.location_address, m.location_label, m.button_text, m.button_payload, m.referral,
    m.replied_to_sid, m.content_sid, m.content_variables, m.created_at, m.updated_at,
    m.read_by_agent_at, r.body, t.friendly_name, m.author"""
"""What `message_from_row` reads, from `MESSAGES` (`messages m` with its lookups)."""

MESSAGES = """messages m LEFT JOIN messages r ON r.sid = m.replied_to_sid
    LEFT JOIN templates t ON t.sid = m.content_sid"""
"""What the thread shows beside a message: the text it quotes and its template's name. Both by a unique
index (messages' sid, templates' primary key), one lookup per message read."""

_CONTACT_COLUMNS = """c.address, c.profile_name, c.wa_id, c.last_inbound_at, c.opted_out,
    c.opted_out_at, c.opted_out_source"""

CHANGES_LIMIT = 1000
"""About this many messages (and thread events) per `changes_since`: a page ends at a whole
transaction (as SQLite's, at a whole batch)."""


# --- messages -----------------------------------------------------------------------------------


async def list_messages(conn: Conn, query: MessageQuery) -> list[Message]:
    """Newest first along the primary key, or, with a time bound, along `messages_by_created` (then by
    id); `before_id` pages."""
    clauses, params = _message_filters(query)
    where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
    order = "m.created_at DESC, m.id DESC" if query.by_time else "m.id DESC"
    return await read_messages(
        conn,
        f"SELECT {MESSAGE_COLUMNS} FROM {MESSAGES} {where} ORDER BY {order} LIMIT %s",
        [*params, query.limit],
    )


async def get_message(conn: Conn, sid: str) -> Message | None:
    found = await read_messages(conn, f"SELECT {MESSAGE_COLUMNS} FROM {MESSAGES} WHERE m.sid = %s", [sid])
    return found[0] if found else None


async def get_message_by_id(conn: Conn, message_id: int) -> Message | None:
    found = await read_messages(
        conn, f"SELECT {MESSAGE_COLUMNS} FROM {MESSAGES} WHERE m.id = %s", [message_id]
    )
    return found[0] if found else None


async def messages_changed_since(conn: Conn, seq: int, upto: int, limit: int | None) -> list[Message]:
    """Messages written by transactions in (`seq`, `upto`], in the order of their latest change;
    all of them when `limit` is None (PostgreSQL's `LIMIT NULL`)."""
    return await read_messages(
        conn,
        f"SELECT {MESSAGE_COLUMNS} FROM {MESSAGES} WHERE m.change_seq > %s AND m.change_seq <= %s"
        " ORDER BY m.change_seq, m.id LIMIT %s",
        [seq, upto, limit],
    )


async def thread_page(conn: Conn, address: str, before_id: int | None, limit: int) -> list[Message]:
    """One page of a conversation, oldest first, ending just before `before_id` (or at the newest):
    read newest first along `messages_by_contact` (address, id)."""
    page = await read_messages(
        conn,
        f"SELECT {MESSAGE_COLUMNS} FROM {MESSAGES} WHERE m.address = %s AND m.id < %s"
        " ORDER BY m.id DESC LIMIT %s",
        [address, before_id if before_id is not None else 2**63 - 1, limit],
    )
    return list(reversed(page))


async def read_messages(conn: Conn, sql: str, params: Sequence[object]) -> list[Message]:
    """The messages `sql` selects (with `MESSAGE_COLUMNS`, in its order), each with its media."""
    cursor = await conn.execute(sql, params)
    return await with_media(conn, await cursor.fetchall())


async def with_media(conn: Conn, rows: Sequence[Sequence[Any]]) -> list[Message]:
    """Rows of `MESSAGE_COLUMNS` as messages, their media read in one query for them all."""
    ids = [row[0] for row in rows]
    media: dict[int, list[MediaRef]] = defaultdict(list)
    if ids:
        cursor = await conn.execute(
            "SELECT message_id, position, twilio_url, content_type, local_path,"
            " CASE WHEN gave_up THEN last_error END, size_bytes, removed_reason FROM media"
            " WHERE message_id = ANY(%s::bigint[]) ORDER BY message_id, position",
            [ids],
        )
        for message_id, *ref in await cursor.fetchall():
            media[message_id].append(MediaRef(*ref))
    return [message_from_row(row, tuple(media.get(row[0], ()))) for row in rows]


def message_from_row(row: Sequence[Any], media: tuple[MediaRef, ...] = ()) -> Message:
    """A row of `MESSAGE_COLUMNS` as a `Message` with `media` (see `with_media`): PostgreSQL's times
    arrive as aware datetimes already."""
    return rows.message_from_row(row, media, _as_is)


def _as_is(moment: datetime) -> datetime:
    return moment


def _message_filters(query: MessageQuery) -> tuple[list[str], list[object]]:
    after = (
        "(m.created_at, m.id) < (SELECT created_at, id FROM messages WHERE id = %s)"
        if query.by_time
        else "m.id < %s"
    )
    pairs = [
        ("m.to_addr = %s", query.to_addr),
        ("m.from_addr = %s", query.from_addr),
        ("m.direction = %s", query.direction),
        ("m.status = %s", query.status),
        ("m.created_at >= %s", query.created_since),
        ("m.created_at < %s", query.created_before),
        (after, query.before_id),
    ]
    kept = [(clause, value) for clause, value in pairs if value is not None]
    return [clause for clause, _ in kept], [value for _, value in kept]


# --- search -------------------------------------------------------------------------------------

RANKED_WINDOW = 2000
"""Search ranks this many of the newest matches by relevance (SQLite's window, for the same reason:
ranking every match of a common word in a year costs seconds, ranking the newest costs the same
however long the history, and an agent looks for recent conversations first)."""

RECENT_SCAN = 20_000
"""How many of the newest messages search reads along the primary key before it asks the GIN index
for older matches (see `_ranked`)."""

FALLBACK_WINDOW = 10_000
"""How many of the newest messages the fallback scan reads (see `search`): a bounded cost, like the
ranked window's, for what the index cannot find."""

_RECENT_MATCHES = """
    SELECT id, ts_rank_cd(search_vector, %(query)s::tsquery, 1) FROM (
        SELECT id, search_vector FROM messages ORDER BY id DESC LIMIT %(scan)s) recent
    WHERE search_vector @@ %(query)s::tsquery ORDER BY id DESC LIMIT %(wanted)s"""
_OLDER_MATCHES = """
    SELECT id, ts_rank_cd(search_vector, %(query)s::tsquery, 1) FROM (
        SELECT id, search_vector FROM messages WHERE search_vector @@ %(query)s::tsquery
        AND id < (SELECT min(id) FROM (SELECT id FROM messages ORDER BY id DESC LIMIT %(scan)s) scanned)
        ORDER BY id DESC LIMIT %(wanted)s) older"""


async def search(conn: Conn, text: str, limit: int, offset: int = 0) -> list[Message]:
    """Messages whose body has every word of `text` as a word prefix: the newest `RANKED_WINDOW`
    index matches by relevance (ties newest first), then, when they do not fill the page, what the
    fallback scan finds besides them, newest first; the page at `offset`.

    Relevance is `ts_rank_cd` normalised by the body's length (flag 1): like SQLite's bm25, a body
    saying the word twice ranks above one saying it once, and a short body above a long one
    (`ts_rank` ranks "refund" above "refund refund").

    The index holds PostgreSQL's lexemes, which differ from SQLite's words in two ways the fallback
    covers: accents are kept ("nao" does not find "não": the `unaccent` extension is not something
    every server offers), and an e-mail address, host name or decimal number is one lexeme ("example"
    does not find "ana@example.com"). The fallback reads the newest `FALLBACK_WINDOW` messages and
    matches each word at a word start, in any case, each letter with or without its accents.
    """
    text = _printable(text)
    ranked = await _ranked(conn, text, max(RANKED_WINDOW, offset + limit))
    ids = ranked[offset : offset + limit]
    if len(ids) < limit:
        extra = await _scanned_ids(conn, text, ranked, offset + limit - len(ranked))
        ids = (ranked + extra)[offset : offset + limit]
    if not ids:
        return []
    found = await read_messages(
        conn, f"SELECT {MESSAGE_COLUMNS} FROM {MESSAGES} WHERE m.id = ANY(%s::bigint[])", [ids]
    )
    by_id = {message.id: message for message in found}
    return [by_id[i] for i in ids if i in by_id]


async def _ranked(conn: Conn, text: str, window_size: int) -> list[int]:
    """Ids of the newest `window_size` index matches, best first.

    Two reads, each bounded: the newest `RECENT_SCAN` messages along the primary key (a common word
    fills the window there, where the GIN index would hand over every match of the year to sort),
    then, only when they did not fill it, the GIN index for older matches (few, or the window would
    have been filled). Each ranks only the matches it returns."""
    query = await prefix_query(conn, text)
    if query is None:
        return []
    params = {"query": query, "scan": RECENT_SCAN, "wanted": window_size}
    cursor = await conn.execute(_RECENT_MATCHES, params)
    hits = await cursor.fetchall()
    if len(hits) < window_size:
        cursor = await conn.execute(_OLDER_MATCHES, {**params, "wanted": window_size - len(hits)})
        hits += await cursor.fetchall()
    return [message_id for message_id, _ in sorted(hits, key=lambda hit: (-hit[1], -hit[0]))]


async def prefix_query(conn: Conn, text: str) -> str | None:
    """`text` as a tsquery of word prefixes all required (`'word':* & …`), or None without words.

    Safe for any input: the words are the lexemes PostgreSQL's own parser makes of `text` (the same
    parser and dictionary as `search_vector`), each quoted as a tsquery lexeme (a quote doubled, a
    backslash escaped), so nothing typed is read as tsquery syntax (`&`, `|`, `!`, `(`, `:*`)."""
    cursor = await conn.execute("SELECT tsvector_to_array(to_tsvector('simple', %s))", [text])
    row = await cursor.fetchone()
    lexemes: list[str] = row[0] if row is not None else []
    if not lexemes:
        return None
    return " & ".join(_quoted(lexeme) + ":*" for lexeme in lexemes)


def _quoted(lexeme: str) -> str:
    return "'" + lexeme.replace("\\", "\\\\").replace("'", "''") + "'"


async def _scanned_ids(conn: Conn, text: str, skip: Sequence[int], wanted: int) -> list[int]:
    """Ids of up to `wanted` of the newest `FALLBACK_WINDOW` messages whose body has every word of
    `text` at a word start (`word_pattern`), newest first, `skip` left out (the index found them)."""
    patterns = [word_pattern(word) for word in folded_words(text)]
    if not patterns or wanted <= 0:
        return []
    matches = " AND ".join(["body ~* %s"] * len(patterns))
    cursor = await conn.execute(
        f"SELECT id FROM (SELECT id, body FROM messages ORDER BY id DESC LIMIT %s) recent"
        f" WHERE {matches} AND NOT (id = ANY(%s::bigint[])) ORDER BY id DESC LIMIT %s",
        [FALLBACK_WINDOW, *patterns, list(skip), wanted],
    )
    return [message_id for (message_id,) in await cursor.fetchall()]


def fold(text: str) -> str:
    """Lower case without accents ("NÃO" → "nao"), as SQLite's `remove_diacritics` reads words."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def folded_words(text: str) -> list[str]:
    """The words of `text` as SQLite's tokenizer has them (runs of letters and digits), folded."""
    return re.findall(r"[^\W_]+", fold(text))


_COMBINING = "[\u0300-\u036f]*"
"""Accents written as marks after their letter (a decomposed "não")."""


def word_pattern(word: str) -> str:
    """A regular expression (for `~*`, any case) finding the folded `word` at a word start, each
    letter with or without its accents: "nao" finds "não", "NÃO" and "nao". `word` is letters and
    digits only (`folded_words`) and the accented letters come from `_VARIANTS`: nothing typed is
    read as regular expression syntax."""
    letters = ((f"[{_VARIANTS[c]}]" if c in _VARIANTS else c) + _COMBINING for c in word)
    return "(^|[^[:alnum:]])" + "".join(letters)


def _variants() -> dict[str, str]:
    """Each plain letter with its lower-case accented forms ("a" → "aàáâãäå…"), from Latin, Greek
    and Cyrillic: the letters `fold` takes accents from."""
    found: dict[str, str] = {}
    for code in range(0xC0, 0x500):
        char = chr(code)
        base = fold(char)
        if char == char.lower() and len(base) == 1 and base != char and base.isalpha():
            found[base] = found.get(base, base) + char
    return found


_VARIANTS = _variants()


def _printable(text: str) -> str:
    """Search text without control characters (PostgreSQL refuses a NUL in a string)."""
    return "".join(c if c.isprintable() else " " for c in text)


# --- contacts -----------------------------------------------------------------------------------


async def find_contacts(conn: Conn, text: str, limit: int) -> list[Contact]:
    """Customers whose name contains `text` (any case, Unicode letters included: ILIKE folds with
    the database's character type) or whose number contains its digits; named ones first, by name.
    `%`, `_` and `\\` typed are plain characters (escaped for LIKE)."""
    text = _printable(text).strip()
    if not text:
        return []
    name = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    digits = "".join(c for c in text if c in "0123456789")
    cursor = await conn.execute(
        f"SELECT {_CONTACT_COLUMNS} FROM contacts c WHERE c.profile_name ILIKE %s"
        " OR (%s <> '' AND strpos(c.address, %s) > 0)"
        " ORDER BY c.profile_name IS NULL, c.profile_name LIMIT %s",
        [name, digits, digits, limit],
    )
    return [contact_from_row(row) for row in await cursor.fetchall()]


async def get_contact(conn: Conn, address: str) -> Contact | None:
    cursor = await conn.execute(f"SELECT {_CONTACT_COLUMNS} FROM contacts c WHERE c.address = %s", [address])
    row = await cursor.fetchone()
    return contact_from_row(row) if row is not None else None


def contact_from_row(row: Sequence[Any]) -> Contact:
    return Contact(
        address=row[0],
        profile_name=row[1],
        wa_id=row[2],
        last_inbound_at=row[3],
        opted_out=row[4],
        opted_out_at=row[5],
        opted_out_source=row[6],
    )


# --- conversations ------------------------------------------------------------------------------


async def list_conversations(
    conn: Conn,
    now: datetime,
    limit: int | None = None,
    addresses: Sequence[str] | None = None,
    after: Conversation | None = None,
    where: ConversationFilter | None = None,
    agent: str | None = None,
) -> list[Conversation]:
    """A page of the read model in list order (latest message first, those without one last, by
    address descending), along `conversations_by_activity` (or the assignee's, the status's): the
    page after `after` (a keyset on `(last_message_id, address)`), or just `addresses`, of those
    `where` covers (a snooze that has ended at `now` is open). With `agent`, each unread count is
    that agent's (`team.unread_for`)."""
    unread, params = await team.unread_for(conn, agent)
    clauses, filter_params = team.filter_clauses(where, now)
    params += filter_params
    if addresses is not None:
        clauses.append("v.address = ANY(%s::text[])")
        params.append(list(addresses))
    if after is not None:
        clauses.append("(v.last_message_id, v.address) < (%s, %s)")
        params += [after.last_message.id if after.last_message else 0, after.contact.address]
    filtered = f"WHERE {' AND '.join(clauses)}" if clauses else ""
    cursor = await conn.execute(
        f"SELECT {_CONTACT_COLUMNS}, {unread}, v.last_message_id, v.status, v.assignee, v.snoozed_until"
        f" FROM conversations v JOIN contacts c ON c.address = v.address {filtered}"
        " ORDER BY v.last_message_id DESC, v.address DESC LIMIT %s",
        [*params, limit],
    )
    return await _conversations(conn, await cursor.fetchall(), now)


async def _conversations(conn: Conn, rows: Sequence[Sequence[Any]], now: datetime) -> list[Conversation]:
    """Each row with its latest message and its labels, read by key for the page alone."""
    last_ids = [row[8] for row in rows if row[8]]
    last = (
        await read_messages(
            conn, f"SELECT {MESSAGE_COLUMNS} FROM {MESSAGES} WHERE m.id = ANY(%s::bigint[])", [last_ids]
        )
        if last_ids
        else []
    )
    by_id = {message.id: message for message in last}
    labels = await team.labels_of(conn, [row[0] for row in rows])
    return [_conversation(row, by_id.get(row[8]), labels.get(row[0], ()), now) for row in rows]


def _conversation(
    row: Sequence[Any], last: Message | None, labels: tuple[str, ...], now: datetime
) -> Conversation:
    contact = contact_from_row(row)
    status, snoozed_until = team.effective_status(row[9], row[11], now)
    return Conversation(
        contact=contact,
        last_message=last,
        unread_count=int(row[7]),
        window_expires_at=window.expires_at(contact.last_inbound_at),
        status=status,
        assignee=row[10],
        snoozed_until=snoozed_until,
        labels=labels,
    )


async def conversation_counts(
    conn: Conn, now: datetime, where: ConversationFilter | None = None, agent: str | None = None
) -> ConversationCounts:
    """Totals of the conversations `where` covers; with `agent`, of that agent's unread counts."""
    unread, params = await team.unread_for(conn, agent)
    clauses, filter_params = team.filter_clauses(where, now)
    filtered = f"WHERE {' AND '.join(clauses)}" if clauses else ""
    cursor = await conn.execute(
        "SELECT count(*), count(*) FILTER (WHERE n > 0), COALESCE(sum(n), 0)"
        f" FROM (SELECT {unread} AS n FROM conversations v {filtered}) counted",
        [*params, *filter_params],
    )
    row = await cursor.fetchone()
    assert row is not None
    total, unread_conversations, unread_messages = row
    return ConversationCounts(int(total), int(unread_conversations), int(unread_messages))


# --- the change feed ----------------------------------------------------------------------------


async def changes_since(
    conn: Conn, since: int, upto: int, now: datetime, limit: int = CHANGES_LIMIT
) -> Changes:
    """Messages, conversations and thread events written by transactions in (`since`, `seq`]; the
    reader is at `seq` after: the horizon `upto` (the store read it first: nothing at or below it
    can still come), or, when more than `limit` messages or events changed, the transaction of the
    `limit`-th (whole), with `more` set. A conversation is touched by its messages, its contact, or
    its read model's row (unread count, assignee, status, labels, notes, read marks:
    `conversations.change_seq`); only those touched up to `seq` are reported."""
    seq = await _page_end(conn, since, upto, limit)
    messages = await messages_changed_since(conn, since, seq, None)
    cursor = await conn.execute(
        "SELECT address FROM contacts WHERE change_seq > %s AND change_seq <= %s"
        " UNION SELECT address FROM conversations WHERE change_seq > %s AND change_seq <= %s",
        [since, seq, since, seq],
    )
    addresses = sorted({m.address for m in messages} | {address for (address,) in await cursor.fetchall()})
    conversations = await list_conversations(conn, now, addresses=addresses) if addresses else []
    events = await team.events_since(conn, since, seq)
    return Changes(seq, messages, conversations, events, more=seq < upto)


async def _page_end(conn: Conn, since: int, upto: int, limit: int) -> int:
    """Where a page of the feed after `since` ends: `upto`, or sooner, at the change number of the
    `limit`-th message or thread event after `since` when rows of a later change follow it (by
    `messages_by_change`, `thread_events_by_change`): a page ends early only when there is more."""
    ends = [upto]
    for table in ("messages", "thread_events"):
        cursor = await conn.execute(
            f"SELECT change_seq FROM {table} WHERE change_seq > %s AND change_seq <= %s"
            " ORDER BY change_seq LIMIT 1 OFFSET %s",
            [since, upto, limit - 1],
        )
        for (cut,) in await cursor.fetchall():
            later = await conn.execute(
                f"SELECT 1 FROM {table} WHERE change_seq > %s AND change_seq <= %s LIMIT 1", [cut, upto]
            )
            if await later.fetchone():
                ends.append(int(cut))
    return min(ends)
