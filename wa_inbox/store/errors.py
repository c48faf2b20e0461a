"""What the store raises, whatever database is behind it: callers catch these, never a driver's errors."""

from __future__ import annotations


class StoreError(Exception):
    """The database could not do what was asked (unreachable, locked, full, corrupt, ...)."""


class StoreConflict(StoreError):
    """A write broke one of the store's rules (a constraint), so nothing of it was kept."""


class UnknownConversation(StoreError):
    """No customer with that address ever wrote or was written to."""


class NewerSchema(StoreError):
    """The database records a schema step this release does not know: a newer wa-inbox migrated it.

    Refused rather than used: this release would write rows that the newer schema's rules (columns,
    triggers, meanings) do not expect, and nothing can migrate a database backwards."""

    @classmethod
    def at(cls, location: str, step: str) -> NewerSchema:
        """The one sentence, for a database shown as `location` (a path, or a URL without its password)."""
        return cls(
            f"The database at {location} was written by a newer wa-inbox (schema step {step} unknown to "
            "this release): upgrade wa-inbox, or point --db at another database."
        )
