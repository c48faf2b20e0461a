"""Webhooks the receiver refused, with the reason: the first place to look when Twilio reports 11200."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import ModalScreen
from textual.widgets import DataTable, Footer

from wa_inbox.store import Store
from wa_inbox.tui.format import plain


class RejectedWebhooksScreen(ModalScreen[None]):
    """Reasons and SIDs come from whoever sent the request (forged ones too): shown as text only."""

    BINDINGS = [Binding("escape", "dismiss", "Close")]

    def __init__(self, store: Store) -> None:
        super().__init__()
        self._store = store

    def compose(self) -> ComposeResult:
        yield DataTable(id="rejected-table", cursor_type="row")
        yield Footer(compact=True)

    async def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("when", "kind", "verdict", "reason", "MessageSid")
        for record in await self._store.rejected_webhooks():
            when = f"{record.received_at:%Y-%m-%d %H:%M:%S}"
            reason, sid = plain(record.reason or "", 200, one_line=True), plain(record.message_sid or "", 40)
            table.add_row(when, str(record.kind), str(record.verdict), reason, sid)
