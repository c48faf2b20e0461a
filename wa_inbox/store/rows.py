"""A stored message's row as a `Message`, for every backend: the columns are the same, in the same order
(SQLite's `reads._MESSAGE_COLUMNS`, PostgreSQL's `postgres.reads.MESSAGE_COLUMNS`); only how a stored
time is read differs (SQLite keeps text, PostgreSQL gives aware datetimes), so the caller says that."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from wa_inbox.domain.models import Direction, Location, MediaRef, Message
from wa_inbox.store.codec import from_json


def message_from_row(
    row: Sequence[Any], media: tuple[MediaRef, ...], moment: Callable[[Any], datetime]
) -> Message:
    """`row` as a `Message` with `media`; `moment` reads a stored (not NULL) time."""
    location = Location(row[11], row[12], row[13], row[14]) if row[11] is not None else None
    return Message(
        id=row[0],
        sid=row[1],
        direction=Direction(row[2]),
        address=row[3],
        from_addr=row[4],
        to_addr=row[5],
        body=row[6],
        status=row[7],
        error_code=row[8],
        error_message=row[9],
        message_type=row[10],
        media=media,
        location=location,
        button_text=row[15],
        button_payload=row[16],
        referral=from_json(row[17]) or {},
        replied_to_sid=row[18],
        content_sid=row[19],
        content_variables=from_json(row[20]),
        created_at=moment(row[21]),
        updated_at=moment(row[22]),
        read_by_agent_at=moment(row[23]) if row[23] is not None else None,
        replied_to_body=row[24],
        template_name=row[25],
        author=row[26],
    )
