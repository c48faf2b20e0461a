"""The `wa-inbox` command line: each command wires the parts together and turns errors into sentences."""

from __future__ import annotations

from wa_inbox.cli import contacts, db, doctor, listings, notes, replies, send, serve, team, templates
from wa_inbox.cli.inbox import main

for command in (
    serve.serve,
    listings.messages,
    listings.conversations,
    send.send,
    templates.templates,
    doctor.doctor,
    db.db,
    notes.notes,
    replies.replies,
    contacts.contacts,
):
    main.add_command(command)

assert team.assign in listings.conversations.commands.values()  # `conversations assign|status|snooze|label`

__all__ = ["main"]
