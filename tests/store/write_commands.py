"""Write commands the writer's tests submit, registered as the store's are.

A module of their own, importing little: the writer process imports every module that registered a
command in its parent, so the test modules themselves (and pytest) stay out of it.
"""

from __future__ import annotations

import os

from wa_inbox.store.tx import Tx, command


@command
def add_contact(tx: Tx, address: str) -> int:
    """Adds a contact: addresses are unique, so adding one twice fails. The batch's change number."""
    tx.conn.execute("INSERT INTO contacts (address, created_at) VALUES (?, 'now')", (address,))
    return tx.seq


@command
def half_then_fail(tx: Tx) -> None:
    add_contact(tx, "half")
    add_contact(tx, "a")  # 'a' is earlier in the batch: the primary key refuses it


class Unpicklable(Exception):
    def __init__(self, code: int, text: str) -> None:  # pickle rebuilds exceptions from .args alone
        super().__init__(text)


@command
def raise_unpicklable(tx: Tx) -> None:
    raise Unpicklable(7, "seven")


@command
def pid(tx: Tx) -> int:
    return os.getpid()


@command
def broken(tx: Tx) -> None:
    tx.conn.execute("INSERT INTO no_such_table VALUES (1)")


@command
def now_and_seq(tx: Tx, extra: str) -> tuple[str, int, str]:
    """What the write was given: its time, its batch's change number, its own argument."""
    return tx.now, tx.seq, extra
