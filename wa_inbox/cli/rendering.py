"""The stable, documented shapes of `messages`, `conversations` and `templates` output (scripts use them)."""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from wa_inbox.domain.errors import describe
from wa_inbox.domain.models import Contact, Conversation, Direction, Message
from wa_inbox.domain.team import OptEvent, SavedReply, ThreadEvent
from wa_inbox.domain.templates import TemplateInfo

if TYPE_CHECKING:  # the SDK is imported only by the commands that talk to Twilio
    from twilio.rest.api.v2010.account.message import MessageInstance

MESSAGE_COLUMNS = ("sid", "direction", "contact", "from", "to", "status", "error_code", "created_at", "body")
"""`body` stays last (free text, read as "the rest of the line"): new message fields are in the JSON only."""
MESSAGE_PROPERTIES = (
    "sid",
    "direction",
    "contact",
    "from",
    "to",
    "body",
    "status",
    "error_code",
    "error_message",
    "error_meaning",
    "message_type",
    "media",
    "location",
    "button",
    "referral",
    "replied_to_sid",
    "template_sid",
    "template_variables",
    "created_at",
    "updated_at",
    "read_by_agent_at",
    "author",
)
"""Every key of `message_record`, in its order: what `messages list --properties` may name."""
CONVERSATION_COLUMNS = (
    "address",
    "profile_name",
    "last_message",
    "last_message_at",
    "unread_count",
    "window_expires_at",
    "opted_out",
    "status",  # new columns go at the end: scripts read the others by position
    "assignee",
    "snoozed_until",
    "labels",
)
NOTE_COLUMNS = ("id", "author", "created_at", "body")
REPLY_COLUMNS = ("name", "updated_by", "updated_at", "body")

TEMPLATE_COLUMNS = ("sid", "name", "language", "kind", "approval", "category", "body")


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment else None


iso = _iso
"""A time as the records write it: ISO 8601 in UTC, with `Z`."""


def _finite(value: float | None) -> float | None:
    """JSON has no Infinity or NaN: a coordinate stored before the receiver refused them reads as null."""
    return value if value is not None and math.isfinite(value) else None


def message_record(message: Message) -> dict[str, Any]:
    info = describe(message.error_code)
    location = message.location
    return {
        "sid": message.sid,
        "direction": str(message.direction),
        "contact": message.address,
        "from": message.from_addr,
        "to": message.to_addr,
        "body": message.body,
        "status": message.status,
        "error_code": message.error_code,
        "error_message": message.error_message,
        "error_meaning": info.meaning if info else None,
        "message_type": message.message_type,
        "media": [{"url": m.url, "content_type": m.content_type} for m in message.media],
        "location": None
        if location is None
        else {
            "latitude": _finite(location.latitude),
            "longitude": _finite(location.longitude),
            "address": location.address,
            "label": location.label,
        },
        "button": None
        if message.button_text is None and message.button_payload is None
        else {"text": message.button_text, "payload": message.button_payload},
        "referral": dict(message.referral) or None,
        "replied_to_sid": message.replied_to_sid,
        "template_sid": message.content_sid,
        "template_variables": message.content_variables,
        "created_at": _iso(message.created_at),
        "updated_at": _iso(message.updated_at),
        "read_by_agent_at": _iso(message.read_by_agent_at),
        "author": message.author,
    }


def message_properties(text: str | None) -> tuple[str, ...] | None:
    """`--properties sid,status,…` as record keys (twilio-cli's camelCase, `errorCode`, is read as
    `error_code`); None when not given. An unknown key is one sentence listing the known ones."""
    if text is None:
        return None
    keys = [_snake(key.strip()) for key in text.split(",") if key.strip()]
    unknown = [key for key in keys if key not in MESSAGE_PROPERTIES]
    if unknown or not keys:
        what = f"{unknown[0]!r} is not a property" if unknown else "--properties names no property"
        raise ValueError(f"{what} of a message: use some of {', '.join(MESSAGE_PROPERTIES)}.")
    return tuple(dict.fromkeys(keys))


def _snake(key: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", key).lower() if key != key.lower() else key


def projection(keys: Sequence[str] | None) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """A record cut to `keys`, in their order; the whole record when None."""
    if keys is None:
        return whole
    return lambda record: {key: record[key] for key in keys}


def whole(record: dict[str, Any]) -> dict[str, Any]:
    """The projection of every key."""
    return record


def remote_message_record(remote: MessageInstance) -> dict[str, Any]:
    """A message as Twilio lists it, in `message_record`'s shape; what Twilio does not say is empty."""
    inbound = remote.direction == "inbound"
    created = remote.date_created
    assert created is not None  # Twilio dates every message
    return message_record(
        Message(
            id=0,  # a local row id; not part of the record
            sid=remote.sid,
            direction=Direction.INBOUND if inbound else Direction.OUTBOUND,
            address=(remote.from_ if inbound else remote.to) or "",
            from_addr=remote.from_,
            to_addr=remote.to,
            body=remote.body or "",
            status=str(remote.status),
            error_code=remote.error_code,
            error_message=remote.error_message,
            message_type=None,
            media=(),
            location=None,
            button_text=None,
            button_payload=None,
            referral={},
            replied_to_sid=None,
            content_sid=None,
            content_variables=None,
            created_at=created,
            updated_at=remote.date_updated or created,
            read_by_agent_at=None,
        )
    )


def conversation_record(conversation: Conversation) -> dict[str, Any]:
    contact, last = conversation.contact, conversation.last_message
    return {
        "address": contact.address,
        "profile_name": contact.profile_name,
        "last_message": last.body if last else None,
        "last_message_at": _iso(last.created_at) if last else None,
        "unread_count": conversation.unread_count,
        "window_expires_at": _iso(conversation.window_expires_at),
        "opted_out": contact.opted_out,
        "status": conversation.status,
        "assignee": conversation.assignee,
        "snoozed_until": _iso(conversation.snoozed_until),
        "labels": list(conversation.labels),
    }


def note_record(note: ThreadEvent) -> dict[str, Any]:
    return {"id": note.id, "author": note.author, "body": note.body, "created_at": _iso(note.created_at)}


def reply_record(reply: SavedReply) -> dict[str, Any]:
    return {
        "name": reply.name,
        "body": reply.body,
        "updated_by": reply.updated_by,
        "updated_at": _iso(reply.updated_at),
    }


def contact_record(
    contact: Contact, conversation: Conversation | None, history: Sequence[OptEvent]
) -> dict[str, Any]:
    """`contacts show`: the customer, their window, their opt-out with its audit, and the labels."""
    return {
        "address": contact.address,
        "profile_name": contact.profile_name,
        "wa_id": contact.wa_id,
        "last_inbound_at": _iso(contact.last_inbound_at),
        "window_expires_at": _iso(conversation.window_expires_at) if conversation else None,
        "opted_out": contact.opted_out,
        "opted_out_at": _iso(contact.opted_out_at),
        "opted_out_source": contact.opted_out_source,
        "opt_history": [
            {
                "action": event.action,
                "source": event.source,
                "at": _iso(event.at),
                "message_sid": event.message_sid,
            }
            for event in history
        ],
        "status": conversation.status if conversation else None,
        "assignee": conversation.assignee if conversation else None,
        "labels": list(conversation.labels) if conversation else [],
    }


def template_record(template: TemplateInfo) -> dict[str, Any]:
    return {
        "sid": template.sid,
        "name": template.name,
        "language": template.language,
        "kind": template.kind,
        "approval": template.approval,
        "category": template.category,
        "rejection_reason": template.rejection_reason,
        "body": template.body,
        "variables": dict(template.variables),
        "actions": list(template.actions),
        "media": list(template.media),
        "synced_at": _iso(template.synced_at),
    }


def render(records: Sequence[dict[str, Any]], columns: Sequence[str], output: str) -> str:
    """json is the full record; tsv and csv carry `columns` with a header row."""
    if output == "json":
        return json.dumps(list(records), ensure_ascii=False, indent=2)
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter="\t" if output == "tsv" else ",", lineterminator="\n")
    writer.writerow(columns)
    for record in records:
        writer.writerow(_cell(record.get(column)) for column in columns)
    return buffer.getvalue().rstrip("\n")


class RecordStream:
    """`render`'s output, byte for byte, written a page at a time as the pages are read: one JSON
    array (opened with the first page), or the header line once and a row per record; then `end()`.
    Memory holds one page, however many records pass."""

    def __init__(self, columns: Sequence[str], output: str, write: Callable[[str], None]) -> None:
        self._columns, self._output, self._write = columns, output, write
        self._started = False

    def page(self, records: Sequence[dict[str, Any]]) -> None:
        if not records:
            return
        if self._output == "json":
            items = (_indented(json.dumps(record, ensure_ascii=False, indent=2)) for record in records)
            self._write(("[\n" if not self._started else ",\n") + ",\n".join(items))
        else:
            self._write(self._rows(records, header=not self._started))
        self._started = True

    def end(self) -> None:
        """Close the output: `[]` or `]` for JSON, the header alone for a table of nothing."""
        if self._output == "json":
            self._write("\n]\n" if self._started else "[]\n")
        elif not self._started:
            self._write(self._rows([], header=True))

    def _rows(self, records: Sequence[dict[str, Any]], header: bool) -> str:
        buffer = io.StringIO()
        writer = csv.writer(buffer, delimiter="\t" if self._output == "tsv" else ",", lineterminator="\n")
        if header:
            writer.writerow(self._columns)
        for record in records:
            writer.writerow(_cell(record.get(column)) for column in self._columns)
        return buffer.getvalue()


def _indented(text: str) -> str:
    """A record as `json.dumps(records, indent=2)` lays it out inside the array: two spaces deeper."""
    return "  " + text.replace("\n", "\n  ")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict) or (isinstance(value, list) and any(isinstance(v, dict) for v in value)):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))  # media, location, …
    if isinstance(value, list):  # labels: one cell, comma-separated
        return ",".join(_cell(item) for item in value)
    return str(value).replace("\t", " ").replace("\n", " ") if isinstance(value, str) else str(value)
