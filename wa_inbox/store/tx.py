"""The one write convention: a write is a registered command, run as `command(tx, *args)`.

`Tx` is what every write step receives first, and its only context: the open connection of the
batch's transaction, the batch's change number and the write's time. The writer process builds one
per write (`committer.commit`); `now` was taken from the store's clock in the parent process when the
write was submitted, already formatted by `codec.ts`, and travelled with it.

`@command` registers a write entry point (what the store submits) in `COMMANDS` under its function
name. The batch sends that name rather than the function: a string pickles faster than a reference,
and the writer process finds the same function in its own copy of the registry. Registration checks
the convention at import time: a module-level function whose first parameter is `tx`, and one name
for one function.
"""

from __future__ import annotations

import inspect
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True, slots=True)
class Tx:
    """One write's context inside the batch transaction."""

    conn: sqlite3.Connection
    seq: int
    """The batch's change number: rows that should reach the change feed record it in `change_seq`."""
    now: str
    """When the write happened, as `codec.ts` formats it (for a webhook: when it arrived)."""


COMMANDS: dict[str, Callable[..., Any]] = {}
"""Every write entry point by name: what `BatchWriter.submit` accepts and the writer process runs."""


def command(function: F) -> F:
    """Register `function` as a write the store may submit: `function(tx, *args)` in the writer process.

    TypeError, at import, for a function the writer process could not find by name (nested, a lambda,
    a method), one whose first parameter is not `tx`, or a second function under a taken name.
    """
    name = function.__name__
    if function.__qualname__ != name or "<" in name:
        raise TypeError(
            f"{function.__module__}.{function.__qualname__} cannot be a write command: commands are "
            "module-level functions, found by name in the writer process."
        )
    parameters = list(inspect.signature(function).parameters.values())
    if not parameters or parameters[0].name != "tx":
        raise TypeError(
            f"{function.__module__}.{name} cannot be a write command: its first parameter must be "
            "`tx: Tx`, the write's context (connection, change number, time)."
        )
    taken = COMMANDS.get(name)
    if taken is not None and (taken.__module__, taken.__qualname__) != (function.__module__, name):
        raise TypeError(
            f"{function.__module__}.{name} cannot be a write command: {taken.__module__}.{name} "
            "is registered under that name; give this one a name that says what it does."
        )
    COMMANDS[name] = function
    return function
