"""Auto-assignment on PostgreSQL, where a message's id is handed out before its transaction commits: a
new customer whose message has a lower id than one already read must still be assigned."""

from __future__ import annotations

import psycopg

from tests.support.postgres import fresh_database
from tests.support.store import Clock, inbound
from wa_inbox.gateway.assignment import AutoAssigner
from wa_inbox.store import open_store

FIRST, LATE = "whatsapp:+34612000001", "whatsapp:+34612000002"


async def test_a_message_with_a_lower_id_committed_later_is_still_considered() -> None:
    database = fresh_database()
    clock = Clock()
    store = await open_store(database, clock=clock)
    try:
        await store.record_agent("ana")
        assigner = AutoAssigner(store, clock)
        await assigner.start()
        async with await psycopg.AsyncConnection.connect(database.conninfo, autocommit=True) as late:
            # The late writer takes its message's id first (a sequence is outside transactions)...
            cursor = await late.execute("SELECT nextval(pg_get_serial_sequence('messages', 'id'))")
            (late_id,) = await cursor.fetchone() or (0,)
            # ...another customer's message is committed with a higher id and read...
            await inbound(store, 1, "hello", address=FIRST)
            assert await assigner.catch_up() == [(FIRST, "ana")]
            # ...then the late one commits its lower id.
            async with late.transaction():
                await late.execute("INSERT INTO contacts (address, created_at) VALUES (%s, now())", [LATE])
                await late.execute(
                    "INSERT INTO messages (id, sid, direction, address, status, status_rank, created_at,"
                    " updated_at) VALUES (%s, %s, 'in', %s, 'received', 0, now(), now())",
                    [late_id, f"SM{'e' * 24}{late_id:08x}", LATE],
                )

        assert late_id < max(m.id for m in await store.thread_page(FIRST))
        assert await assigner.catch_up() == [(LATE, "ana")]
    finally:
        await store.close()
