"""What the store raises, whatever database is behind it: callers catch these, never a driver's errors."""

from __future__ import annotations


class StoreError(Exception):
    """The database could not do what was asked (unreachable, locked, full, corrupt, ...)."""


class StoreConflict(StoreError):
    """A write broke one of the store's rules (a constraint), so nothing of it was kept."""


class UnknownConversation(StoreError):
    """No customer with that address ever wrote or was written to."""
