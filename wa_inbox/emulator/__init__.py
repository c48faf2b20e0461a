"""A fake Twilio (WhatsApp over the Messages and Content APIs) for tests, benchmarks and the demo.

    app = create_emulator(EmulatorConfig(account_sid, auth_token, inbound_url=...))
    emulator: Emulator = app.state.emulator   # customer_says, fail_next, wait_idle, ...

Serve `app` (uvicorn, or httpx.ASGITransport inside `app.router.lifespan_context(app)`); webhooks
and chatter run only while the lifespan is active, and the Emulator's coroutines must be awaited
on the event loop that serves the app. Self-contained on purpose: it imports nothing from the
rest of wa_inbox, so it can disagree with the product it is testing.
"""

from __future__ import annotations

from wa_inbox.emulator.app import create_emulator
from wa_inbox.emulator.config import EmulatorConfig
from wa_inbox.emulator.emulator import Emulator
from wa_inbox.emulator.inbound import Location
from wa_inbox.emulator.templates import BY_NAME, TEMPLATES, Template

__all__ = ["BY_NAME", "TEMPLATES", "Emulator", "EmulatorConfig", "Location", "Template", "create_emulator"]
