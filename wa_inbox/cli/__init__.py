"""The `wa-inbox` command line: each command wires the parts together and turns errors into sentences."""

from __future__ import annotations

from wa_inbox.cli import db, doctor, listings, send, serve, templates
from wa_inbox.cli.inbox import main

for command in (
    serve.serve,
    listings.messages,
    listings.conversations,
    send.send,
    templates.templates,
    doctor.doctor,
    db.db,
):
    main.add_command(command)

__all__ = ["main"]
