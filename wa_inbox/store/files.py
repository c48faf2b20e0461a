"""The database's file: created private, and checked before SQLite sees it, so that a wrong path is one
sentence (`UnusableDatabase`) rather than an error from deep inside SQLite or the writer process.

The file is created mode 0600 in a folder created 0700: customers' messages are nobody else's to read.
SQLite creates the write-ahead log and shared-memory files beside it with the same mode as the database.
"""

from __future__ import annotations

import os
from pathlib import Path

from wa_inbox.dburl import DatabaseUrl
from wa_inbox.store.errors import StoreError

SQLITE_HEADER = b"SQLite format 3\x00"
_FIX = "point WA_INBOX_DB (or --db, or [store] path) at"
_WRITABLE = f"{_FIX} a file in a folder you can write"


class UnusableDatabase(StoreError):
    """The database's path cannot be used; the message is one sentence with the fix."""


def prepare_database(location: Path | DatabaseUrl) -> None:
    """`prepare` for a file; nothing for a server's database (its server says what is wrong on opening)."""
    if isinstance(location, Path):
        prepare(location)


def prepare(path: Path) -> None:
    """Make `path` ready to open: its folder present and writable, and the file an SQLite database
    (created empty and private when missing). `UnusableDatabase` otherwise."""
    folder = path.parent
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    except FileExistsError:
        raise UnusableDatabase(
            f"{folder} is not a folder, so it cannot hold {path.name}: {_FIX} a file in one."
        ) from None
    except OSError as error:
        raise UnusableDatabase(
            f"The folder {folder} cannot be created ({error.strerror}): {_WRITABLE}."
        ) from None
    if path.is_dir():
        raise UnusableDatabase(f"{path} is a folder, not a database file: {_FIX} a file.")
    try:
        os.close(os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        check(path)
        return
    except OSError as error:
        raise UnusableDatabase(
            f"The database {path} cannot be created ({error.strerror}): {_WRITABLE}."
        ) from None
    _check_folder(path)


def check(path: Path) -> None:
    """An existing database: an SQLite file (or empty) that this user can read and write, in a folder
    it can write (SQLite keeps the write-ahead log there). `UnusableDatabase` otherwise."""
    try:
        with path.open("rb") as file:
            head = file.read(len(SQLITE_HEADER))
    except OSError as error:
        raise UnusableDatabase(
            f"The database {path} cannot be read ({error.strerror}): {_FIX} one you can read."
        ) from None
    if head and head != SQLITE_HEADER:
        raise UnusableDatabase(
            f"{path} is not a wa-inbox database (not an SQLite file): "
            f"{_FIX} the file `wa-inbox serve` writes."
        )
    if not os.access(path, os.R_OK | os.W_OK):
        raise UnusableDatabase(
            f"The database {path} is read-only for this user: {_FIX} one you can write, or fix its owner."
        )
    _check_folder(path)


def _check_folder(path: Path) -> None:
    if not os.access(path.parent, os.W_OK | os.X_OK):
        raise UnusableDatabase(
            f"The folder {path.parent} is read-only for this user, and SQLite writes its log beside the "
            f"database: {_WRITABLE}."
        )
