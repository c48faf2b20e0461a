"""`/healthz` answers from a real commit, so it turns 503 as soon as webhooks could not be kept."""

from __future__ import annotations

import sqlite3

from tests.support.receiver import Receiver


async def test_healthy_while_database_is_writable(receiver: Receiver) -> None:
    response = await receiver.client.get(receiver.url + "/healthz")

    assert (response.status_code, response.text) == (200, "ok")


async def test_unhealthy_while_another_process_holds_the_write_lock(receiver: Receiver) -> None:
    other = sqlite3.connect(receiver.db_path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        response = await receiver.client.get(receiver.url + "/healthz")
    finally:
        other.execute("ROLLBACK")
        other.close()

    assert response.status_code == 503
    assert (await receiver.client.get(receiver.url + "/healthz")).status_code == 200
