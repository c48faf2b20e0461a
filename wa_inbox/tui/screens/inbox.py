"""The main screen: conversations on the left, the open thread and its composer on the right."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import click
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Footer, Static

from wa_inbox.config import ConfigError
from wa_inbox.domain import window
from wa_inbox.domain.models import Contact, Conversation, Direction, Message
from wa_inbox.domain.policy import Draft
from wa_inbox.gateway.outbox import Outbox, Refused
from wa_inbox.store import Store
from wa_inbox.tui.format import FAILED, display_name, window_state
from wa_inbox.tui.messages import StoreChanged
from wa_inbox.tui.services import Services
from wa_inbox.tui.widgets.composer import Composer
from wa_inbox.tui.widgets.conversation_list import ConversationList
from wa_inbox.tui.widgets.status_bar import StatusBar
from wa_inbox.tui.widgets.thread_view import ThreadView

PAGE = 50


class InboxScreen(Screen[None]):
    """Owns the widgets below it and wires their messages to the store and the outbox."""

    BINDINGS = [
        Binding("ctrl+n", "next_unread", "Next unread"),
        Binding("ctrl+w", "closing_soonest", "Closing soonest"),
        Binding("ctrl+t", "pick_template", "Template"),
        Binding("f2", "attach", "Attach file"),
        Binding("f3", "health", "Health", show=False),
        Binding("ctrl+f", "search", "Search"),
        Binding("ctrl+r", "rejected", "Rejected webhooks", show=False),
        Binding("ctrl+o", "focus_list", "Conversations", show=False),
        Binding("ctrl+e", "focus_composer", "Compose", show=False),
    ]

    def __init__(self, clock: Callable[[], datetime]) -> None:
        super().__init__()
        self._clock = clock
        self.services: Services | None = None
        self.contact: Contact | None = None
        self._refusal: str | None = None
        """Why the last send was refused; the banner keeps it until the facts behind it change."""
        self._seq = 0

    def compose(self) -> ComposeResult:
        yield StatusBar(id="status")
        with Horizontal():
            yield ConversationList(self._clock, id="conversations")
            with Vertical(id="thread-pane"):
                yield Static("Starting…", id="thread-header")
                yield ThreadView(self._clock, id="thread")
                yield Static("", id="new-below")
                yield Static("", id="banner")
                yield Composer(id="composer")
        yield Footer()

    def on_mount(self) -> None:
        self.set_interval(1.0, self._tick)
        self.watch(self.query_one(ThreadView), "new_below", self._show_new_below)

    def _show_new_below(self, count: int) -> None:
        badge = self.query_one("#new-below", Static)
        badge.update(f"↓ {count} new (end)" if count else "")
        badge.set_class(bool(count), "-visible")

    # --- start-up and the change feed ---------------------------------------------------------------

    def attach(self, services: Services) -> None:
        """The services are up: load the inbox."""
        self.services = services
        status = self.query_one(StatusBar)
        status.listening = services.listening_url
        status.public_url = services.settings.twilio.public_base_url
        self._load()

    @work(exclusive=True, group="load", exit_on_error=False)
    async def _load(self) -> None:
        store = self._store()
        self._seq = (await store.changes_since(-1)).seq
        conversations = self.query_one(ConversationList)
        conversations.load(await store.list_conversations())
        await self._refresh_status()
        if conversations.conversations:
            await self._open(conversations.conversations[0].contact.address)
        else:
            self.query_one("#thread-header", Static).update("No conversations yet: they appear here live.")
        conversations.focus()

    @on(StoreChanged)
    @work(exclusive=True, group="changes", exit_on_error=False)
    async def _apply_changes(self) -> None:
        changes = await self._store().changes_since(self._seq)
        self._seq = changes.seq
        self.query_one(ConversationList).upsert(changes.conversations)
        current = self.contact.address if self.contact else None
        mine = [m for m in changes.messages if m.contact_address == current]
        if mine:
            self.query_one(ThreadView).merge(mine)
        self._refresh_contact(changes.conversations)
        self._announce([m for m in changes.messages if m.contact_address != current])
        if current and any(m.direction is Direction.INBOUND and m.read_by_agent_at is None for m in mine):
            # It arrived in front of the agent. The first await after `_seq` moved: the write is queued
            # before a newer change can cancel this (exclusive) worker.
            await self._store().mark_read(current)
        await self._refresh_status()

    def _refresh_contact(self, conversations: list[Conversation]) -> None:
        for conversation in conversations:
            if self.contact and conversation.contact.address == self.contact.address:
                if conversation.contact != self.contact:
                    self._refusal = None  # a new window, STOP or START: it may no longer hold
                self.contact = conversation.contact
                self._show_contact()

    def _announce(self, others: list[Message]) -> None:
        """A toast (and the bell, if asked for) for new customer messages in other conversations."""
        fresh = [m for m in others if m.direction is Direction.INBOUND and m.read_by_agent_at is None]
        rows = {c.contact.address: c.contact for c in self.query_one(ConversationList).conversations}
        for message in fresh[-3:]:
            who = display_name(rows[message.contact_address]) if message.contact_address in rows else "?"
            self.notify(message.body[:80] or "(attachment)", title=f"New message from {who}")
        if fresh and getattr(self.app, "bell_on_message", False):
            self.app.bell()

    async def _refresh_status(self) -> None:
        store = self._store()
        status = self.query_one(StatusBar)
        status.now = self._clock()  # "last webhook N s ago" from the start, not after the first tick
        status.last_webhook_at = await store.last_webhook_at()
        status.rejected = await store.count_rejected_webhooks()

    def _tick(self) -> None:
        """Countdowns and "last webhook N s ago" move even when nothing is committed."""
        self.query_one(StatusBar).now = self._clock()
        self.query_one(ConversationList).refresh()
        if self.contact is not None:
            self._show_contact()

    # --- opening a conversation ---------------------------------------------------------------------

    @on(ConversationList.Selected)
    def _selected(self, event: ConversationList.Selected) -> None:
        self._open_worker(event.address)

    @work(exclusive=True, group="open", exit_on_error=False)
    async def _open_worker(self, address: str) -> None:
        await self._open(address)

    async def _open(self, address: str) -> None:
        store = self._store()
        page = await store.thread_page(address, limit=PAGE)
        self.contact = await store.get_contact(address)
        self._refusal = None
        self.query_one(ConversationList).select(address)
        self.query_one(ThreadView).show(page, complete=len(page) < PAGE)
        self._show_contact()
        await store.mark_read(address)

    @on(ThreadView.OlderWanted)
    @work(exclusive=True, group="older", exit_on_error=False)
    async def _older(self, event: ThreadView.OlderWanted) -> None:
        if self.contact is None:
            return
        page = await self._store().thread_page(self.contact.address, event.before_id, PAGE)
        self.query_one(ThreadView).prepend(page, complete=len(page) < PAGE)

    def _show_contact(self) -> None:
        contact = self.contact
        if contact is None:
            return
        label, level = window_state(contact.last_inbound_at, self._clock())
        window_text = f"window {label}" if level != "closed" else "window closed"
        opted = " · ⊘ opted out" if contact.opted_out else ""
        number = contact.address.removeprefix("whatsapp:")
        header = self.query_one("#thread-header", Static)
        header.update(f"{display_name(contact)}  {number} · {window_text}{opted}")
        header.set_class(level == "closing", "-closing")
        header.set_class(level == "closed", "-closed")
        self._show_banner(contact)

    def _show_banner(self, contact: Contact) -> None:
        banner = self.query_one("#banner", Static)
        reason = self._refusal or self._blocked_reason(contact)
        banner.update(reason or "")
        banner.set_class(reason is not None, "-visible")

    def _blocked_reason(self, contact: Contact) -> str | None:
        if contact.opted_out:
            return f"⊘ {display_name(contact)} opted out: nothing can be sent until they send START."
        if not window.is_open(contact.last_inbound_at, self._clock()):
            return "The 24-hour window is closed: only an approved template can be sent. ctrl+t picks one."
        return None

    # --- sending ------------------------------------------------------------------------------------

    @on(Composer.Submitted)
    def _submit(self, event: Composer.Submitted) -> None:
        self._send(Draft(self._address(), event.text))

    @work(group="send", exit_on_error=False)
    async def _send(self, draft: Draft) -> None:
        outbox = self._outbox()
        if outbox is None:
            return
        try:
            await outbox.submit(draft)
        except Refused as refusal:
            self._refuse(str(refusal))
            return
        self._refusal = None
        if self.contact is not None:
            self._show_banner(self.contact)
        composer = self.query_one(Composer)
        if not draft.is_template:
            composer.clear()

    def _refuse(self, reason: str) -> None:
        self._refusal = f"{reason}  (ctrl+t: template)"
        if self.contact is not None:
            self._show_banner(self.contact)  # kept there: the clock tick redraws the banner every second
        self.notify(reason, severity="warning", title="Not sent")

    def _outbox(self) -> Outbox | None:
        outbox = self._services().outbox
        if outbox is None:
            self.notify("This inbox cannot send: set Twilio credentials (see the README).", severity="error")
        return outbox

    # --- keys ---------------------------------------------------------------------------------------

    def action_next_unread(self) -> None:
        rows = self.query_one(ConversationList).conversations
        unread = [c.contact.address for c in rows if c.unread_count]
        if unread:
            self._open_worker(unread[0])
        else:
            self.notify("No unread conversations.")

    def action_closing_soonest(self) -> None:
        now = self._clock()
        open_ones = [
            c
            for c in self.query_one(ConversationList).conversations
            if window.is_open(c.contact.last_inbound_at, now)
        ]
        if not open_ones:
            self.notify("No conversation has an open window.")
            return
        soonest = min(open_ones, key=lambda c: c.window_expires_at or now)
        self._open_worker(soonest.contact.address)

    def action_focus_list(self) -> None:
        self.query_one(ConversationList).focus()

    def action_focus_composer(self) -> None:
        self.query_one(Composer).focus()

    def action_pick_template(self) -> None:
        from wa_inbox.tui.screens.template_picker import TemplatePicker

        if self.contact is None or self._outbox() is None:
            return
        self.app.push_screen(
            TemplatePicker(self._services(), self.contact, self._clock), self._template_chosen
        )

    def action_attach(self) -> None:
        from wa_inbox.tui.screens.attach import AttachScreen

        if self.contact is not None and self._outbox() is not None:
            self.app.push_screen(AttachScreen(), self._attach_chosen)

    def _attach_chosen(self, path: Path | None) -> None:
        if path is not None:
            self._send_file(path, self.query_one(Composer).text.strip())

    @work(group="send", exit_on_error=False)
    async def _send_file(self, path: Path, caption: str) -> None:
        """Checked (size, sniffed type, window, opt-out) and copied before anything is queued."""
        from wa_inbox.gateway.media_host import MediaHost

        services = self._services()
        try:
            draft = await MediaHost(services.settings, services.store).attach(
                Draft(self._address(), caption), path
            )
        except (Refused, ConfigError) as refusal:
            self._refuse(str(refusal))
            return
        self._send(draft)

    def _template_chosen(self, draft: Draft | None) -> None:
        if draft is not None:
            self._send(draft)

    def action_search(self) -> None:
        from wa_inbox.tui.screens.search import SearchScreen

        self.app.push_screen(SearchScreen(self._store()), self._search_chosen)

    def _search_chosen(self, message: Message | None) -> None:
        if message is not None:
            self._open_worker(message.contact_address)

    def action_health(self) -> None:
        from wa_inbox.tui.screens.health import HealthScreen

        self.app.push_screen(HealthScreen(self._services().settings))

    def action_rejected(self) -> None:
        from wa_inbox.tui.screens.rejected import RejectedWebhooksScreen

        self.app.push_screen(RejectedWebhooksScreen(self._store()))

    @on(ThreadView.OpenMedia)
    @work(group="open-media", exit_on_error=False)
    async def _open_media(self, event: ThreadView.OpenMedia) -> None:
        """The system's viewer (xdg-open, open): a terminal cannot show every type of file."""
        status = await asyncio.to_thread(click.launch, event.path)
        if status != 0:
            self.notify(f"No viewer could open {event.path}.", severity="warning")

    @on(ThreadView.PreviewImage)
    def _preview_image(self, event: ThreadView.PreviewImage) -> None:
        from wa_inbox.tui.screens.image import ImagePreviewScreen

        self.app.push_screen(ImagePreviewScreen(Path(event.path)))

    @on(ThreadView.DetailsRequested)
    def _details(self, event: ThreadView.DetailsRequested) -> None:
        if event.message.status not in FAILED:
            return
        from wa_inbox.tui.screens.failed import FailedMessageScreen

        self.app.push_screen(FailedMessageScreen(event.message), self._failed_action)

    def _failed_action(self, resend_as_template: bool | None) -> None:
        if resend_as_template:
            self.action_pick_template()

    # --- plumbing -----------------------------------------------------------------------------------

    def _services(self) -> Services:
        assert self.services is not None, "the inbox is used before its services are up"
        return self.services

    def _store(self) -> Store:
        return self._services().store

    def _address(self) -> str:
        assert self.contact is not None
        return self.contact.address
