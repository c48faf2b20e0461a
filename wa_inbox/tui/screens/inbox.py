"""The main screen: conversations on the left, the open thread and its composer on the right.

Opening a conversation (Enter, a click, ctrl+n, ctrl+w, ctrl+g) moves the composer to it at once, in the
same turn as the key, so keys that arrive in the same burst are typed there; the thread loads behind.
The composer holds one draft per conversation (kept in the store, so a restart keeps it too).

The team (#14): the inbox answers as one agent (`Services.agent`); the list shows one view (Mine,
Unassigned, All; ctrl+v) of the active conversations with that agent's unread counts; ctrl+y assigns the
open conversation, ctrl+d sets its status, f5 turns the composer into an internal note. While a
conversation is open the inbox says so to the others (presence, typing) and reads who else is there;
a send that could cross another agent's answer asks first, on one line above the composer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from time import monotonic

import click
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, Static

from wa_inbox.config import ConfigError
from wa_inbox.domain.models import Contact, Conversation, Direction, Message
from wa_inbox.domain.policy import Draft, standing_refusal
from wa_inbox.domain.status import FAILED
from wa_inbox.domain.team import (
    ACTIVE,
    COLLISION_WINDOW,
    ConversationStatus,
    EventKind,
    Presence,
    ThreadEvent,
    View,
    mentions,
)
from wa_inbox.gateway.outbox import Outbox
from wa_inbox.gateway.submission import Refused
from wa_inbox.running.services import Services
from wa_inbox.store import ConversationCounts, ConversationFilter, Lease, Store
from wa_inbox.tui.format import agent_name, display_name, moment_label, plain, sanitize, window_state
from wa_inbox.tui.messages import StoreChanged
from wa_inbox.tui.screens.status import StatusChoice
from wa_inbox.tui.widgets.composer import Composer
from wa_inbox.tui.widgets.conversation_list import ConversationList
from wa_inbox.tui.widgets.keys import InOrderKeys
from wa_inbox.tui.widgets.notice_line import NoticeLine
from wa_inbox.tui.widgets.status_bar import StatusBar
from wa_inbox.tui.widgets.thread_view import ThreadView

PAGE = 50
QUIET_ON = "Quiet: no notices of new messages; the list still marks them (f4 turns notices back on)."
STATUS_SECONDS = 5.0
"""How often the status line looks at the sender lease and the webhook log when nothing else changed."""
DRAFT_SAVE_SECONDS = 1.0
"""A draft is written to the store this long after the last key (and at once when the agent moves away)."""
FIRST_PAGE = 100
"""Conversations read before the first paint: more than any screen shows."""
FILL_PAGE = 1000
"""Conversations read per page after it, until the list is whole."""
AGENT_SECONDS = 60.0
"""How often the inbox tells the store its agent is at work (`record_agent`)."""
PRESENCE_TOUCH_SECONDS = 3.0
"""How often the open conversation's presence mark is renewed (it ends by itself after PRESENCE_TTL)."""
PRESENCE_POLL_SECONDS = 1.0
"""How often the inbox reads who else has the open conversation open."""
TYPING_SECONDS = 3.0
"""The agent counts as typing this long after the composer last changed."""
NOTE_TITLE = "Internal note — not sent to the customer"
VIEW_NAMES = {View.MINE: "Mine", View.UNASSIGNED: "Unassigned", View.ALL: "All"}
VIEW_ORDER = (View.MINE, View.UNASSIGNED, View.ALL)
ACTIVE_STATUSES = frozenset(str(status) for status in ACTIVE)


class InboxScreen(Screen[None]):
    """Owns the widgets below it and wires their messages to the store and the outbox."""

    BINDINGS = [
        Binding("ctrl+n", "next_unread", "Next unread"),
        Binding("ctrl+w", "closing_soonest", "Closing soonest", show=False),
        Binding("ctrl+g", "jump", "Go to"),
        Binding("ctrl+t", "pick_template", "Template"),
        Binding("f2", "attach", "Attach", show=False),
        Binding("f3", "health", "Health", show=False),
        Binding("f4", "toggle_quiet", "Quiet notices", show=False),
        Binding("ctrl+f", "search", "Search"),
        Binding("ctrl+r", "rejected", "Rejected webhooks", show=False),
        Binding("ctrl+o", "focus_list", "Conversations", show=False),
        Binding("ctrl+e", "focus_composer", "Compose", show=False),
        Binding("ctrl+k", "contact_panel", "Contact panel", show=False),
        Binding("f6", "new_conversation", "New conversation", show=False),
        # --- the team (#14). ctrl+y, ctrl+d and ctrl+v mean redo, delete and paste to the composer:
        # as priority bindings they reach the screen from it too, and `in_order` keeps their place
        # among the keys of a burst (see `action_in_order`); the `inbox.*` keys are theirs, no one types them.
        Binding("ctrl+y", "in_order('assign')", "Assign to…", priority=True, show=False),
        Binding("ctrl+d", "in_order('status')", "Status…", priority=True, show=False),
        Binding(
            "ctrl+v", "in_order('cycle_view')", "Next view (Mine, Unassigned, All)", priority=True, show=False
        ),
        Binding("f5", "toggle_note", "Internal note", show=False),  # not ctrl+b: tmux's prefix
        Binding("inbox.assign", "assign", "Assign to…", show=False),
        Binding("inbox.status", "status", "Status…", show=False),
        Binding("inbox.cycle_view", "cycle_view", "Next view (Mine, Unassigned, All)", show=False),
        Binding("inbox.saved_replies", "saved_replies", show=False),  # the composer's `/`
    ]

    def __init__(self, clock: Callable[[], datetime]) -> None:
        super().__init__()
        self._clock = clock
        self.services: Services | None = None
        self.contact: Contact | None = None
        self.opened = False
        """True once the agent opened the shown conversation; until then nothing is marked read."""
        self._refusal: str | None = None
        """Why the last send was refused; the banner keeps it until the facts behind it change."""
        self._seq = 0
        self._following = False
        """The first read has taken its change number: from there on, the feed brings what changed."""
        self._drafts: dict[str, str] = {}
        """Drafts of the conversations this inbox has had open (the store keeps them all)."""
        self._draft_timer: Timer | None = None
        self.view = View.ALL
        self.label: str | None = None
        """Only the conversations with this label (asked for in the contact panel); None: all."""
        """Which conversations the list shows (ctrl+v); set from `[team] auto_assign` at start."""
        self.conversation: Conversation | None = None
        """The shown conversation's row (assignee, status), as the store last gave it."""
        self.present: list[Presence] = []
        """The other agents with the shown conversation open now."""
        self.note_mode = False
        """The composer writes an internal note (f5), never a message to the customer."""
        self._reply_placeholder: str | None = None
        self._typed_at = float("-inf")
        self._told_typing = False
        self._confirming: tuple[str, str] | None = None
        """(address, warning) while a send waits for Enter (send anyway) or Esc (cancel)."""
        self.counts: ConversationCounts | None = None
        self.agents: list[str] = []
        """Every agent the store knows, for the assign menu."""

    def compose(self) -> ComposeResult:
        yield StatusBar(id="status")
        with Horizontal():
            with Vertical(id="list-pane"):
                yield Static("", id="list-note")
                yield ConversationList(self._clock, id="conversations")
            with Vertical(id="thread-pane"):
                yield Static("Starting…", id="thread-header", markup=False)
                yield NoticeLine(id="notice")
                yield ThreadView(self._clock, id="thread")
                yield Static("", id="new-below")
                yield Static("", id="banner", markup=False)
                yield Static("", id="collision", markup=False)
                yield Composer(id="composer")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.set_interval(1.0, self._tick)
        self.set_interval(STATUS_SECONDS, self._poll_status)
        self.set_interval(AGENT_SECONDS, self._record_agent)
        self.set_interval(PRESENCE_TOUCH_SECONDS, self._touch_presence)
        self.set_interval(PRESENCE_POLL_SECONDS, self._poll_presence)
        self.watch(self.query_one(ThreadView), "new_below", self._show_new_below)
        self.watch(self.query_one(ConversationList), "held", self._show_held)

    def _show_held(self, count: int) -> None:
        self._show_list_note()

    def _show_list_note(self) -> None:
        """The list's title: its view and counts, and "N updated" while it holds its order."""
        note = self.query_one("#list-note", Static)
        line = VIEW_NAMES[self.view]
        if self.label is not None:
            line += f" · label {sanitize(self.label, 24, one_line=True)}"
        if (counts := self.counts) is not None:
            s = "" if counts.conversations == 1 else "s"
            line += f" · {counts.conversations} conversation{s}"
            if counts.unread_conversations:
                line += f" · {counts.unread_conversations} unread"
        line += "  (ctrl+v)"
        held = self.query_one(ConversationList).held
        if held:
            line += f" · {held} updated · sorted when you pause"
        note.update(line)
        note.set_class(True, "-visible")
        note.set_class(bool(held), "-held")

    def _show_new_below(self, count: int) -> None:
        badge = self.query_one("#new-below", Static)
        badge.update(f"↓ {count} new (end)" if count else "")
        badge.set_class(bool(count), "-visible")

    @property
    def notices(self) -> NoticeLine:
        return self.query_one(NoticeLine)

    @property
    def conversations(self) -> list[Conversation]:
        """The list's rows, in the order shown."""
        return self.query_one(ConversationList).conversations

    # --- start-up and the change feed ---------------------------------------------------------------

    @property
    def agent(self) -> str:
        """Who this inbox answers as."""
        return self._services().agent

    def attach(self, services: Services) -> None:
        """The services are up: load the inbox."""
        self.services = services
        status = self.query_one(StatusBar)
        status.listening = services.listening_url
        status.public_url = services.settings.twilio.public_base_url
        status.agent = services.agent
        # With auto-assignment every new conversation has an owner: Mine is the agent's queue. Without
        # it most have none, and Mine would start empty: All.
        self.view = View.MINE if services.settings.team.auto_assign else View.ALL
        conversations = self.query_one(ConversationList)
        conversations.me = services.agent
        conversations.keep = self._in_view
        self.query_one(ThreadView).me = services.agent
        self._load()

    def _where(self) -> ConversationFilter:
        """The store's filter for the view: active conversations (open, pending, a snooze that ended),
        with the label the contact panel asked for, if any."""
        if self.view is View.MINE:
            return ConversationFilter(assignee=self.agent, statuses=ACTIVE_STATUSES, label=self.label)
        if self.view is View.UNASSIGNED:
            return ConversationFilter(unassigned=True, statuses=ACTIVE_STATUSES, label=self.label)
        return ConversationFilter(statuses=ACTIVE_STATUSES, label=self.label)

    def _in_view(self, conversation: Conversation) -> bool:
        """`_where`, for a row the change feed brought: does it stay in (or come into) the list?"""
        snooze_over = (
            conversation.status == ConversationStatus.SNOOZED
            and conversation.snoozed_until is not None
            and conversation.snoozed_until <= self._clock()
        )
        if conversation.status not in ACTIVE_STATUSES and not snooze_over:
            return False
        if self.label is not None and self.label not in conversation.labels:
            return False
        if self.view is View.MINE:
            return conversation.assignee == self.agent
        if self.view is View.UNASSIGNED:
            return conversation.assignee is None
        return True

    @work(group="agent", exit_on_error=False)
    async def _record_agent(self) -> None:
        if self.services is not None:
            await self._store().record_agent(self.agent)
            await self._read_agents()

    async def _read_agents(self) -> None:
        """The agents the assign menu offers (read ahead: the menu opens in the key's turn)."""
        self.agents = [agent.name for agent in await self._store().list_agents()]

    @work(exclusive=True, group="load", exit_on_error=False)
    async def _load(self) -> None:
        """The top conversation is shown, not opened: nothing is read until the agent opens it."""
        store = self._store()
        await store.record_agent(self.agent)  # before the first read: a new agent's unread starts now
        await self._read_agents()
        self._seq = await store.change_number()
        self._following = True
        conversations = self.query_one(ConversationList)
        conversations.load(await store.list_conversations(FIRST_PAGE, where=self._where(), agent=self.agent))
        self._fill_list()
        await self._refresh_counts()
        await self._refresh_status()
        composer = self.query_one(Composer)
        if conversations.conversations and composer.address is None:
            first = conversations.conversations[0].contact.address
            self._move_composer(first)
            await self._show(first, mark_read=False)
        elif not conversations.conversations:
            self.query_one("#thread-header", Static).update("No conversations yet: they appear here live.")
        if self.focused is None:
            conversations.focus()

    @work(exclusive=True, group="fill", exit_on_error=False)
    async def _fill_list(self) -> None:
        """The rest of the list, a page at a time after the first paint; the change feed meanwhile
        patches what is loaded (a conversation that moves up leaves the pages still to come)."""
        conversations = self.query_one(ConversationList)
        page, size = conversations.conversations, FIRST_PAGE
        where, agent = self._where(), self.agent
        while len(page) == size:
            page = await self._store().list_conversations(FILL_PAGE, after=page[-1], where=where, agent=agent)
            size = FILL_PAGE
            conversations.extend(page)

    @work(exclusive=True, group="load", exit_on_error=False)
    async def _reload_list(self) -> None:
        """Another view: its first page now, the rest behind; the open conversation stays open."""
        conversations = self.query_one(ConversationList)
        conversations.load(
            await self._store().list_conversations(FIRST_PAGE, where=self._where(), agent=self.agent)
        )
        if self.contact is not None:
            conversations.select(self.contact.address)
        self._fill_list()
        await self._refresh_counts()

    async def _refresh_counts(self) -> None:
        self.counts = await self._store().conversation_counts(self._where(), self.agent)
        self._show_list_note()

    @on(StoreChanged)
    @work(exclusive=True, group="changes", exit_on_error=False)
    async def _apply_changes(self) -> None:
        """Bring the screen up to the newest change, a page of the feed at a time (each await lets
        the app draw and take keys between pages)."""
        if not self._following:
            return  # a commit before the first read (this agent's own record): that read has it all
        while await self._apply_page():
            pass
        await self._refresh_counts()
        await self._refresh_status()

    async def _apply_page(self) -> bool:
        """One page of the feed from `_seq` onto the list and the open thread; whether there is more."""
        store = self._store()
        changes = await store.changes_since(self._seq)
        # The rows again, as this agent sees them (their unread counts), with assignee and status: the
        # feed names a conversation whose messages changed; an assignment or a status is an event.
        touched = {c.contact.address for c in changes.conversations} | {e.address for e in changes.events}
        rows = await store.list_conversations(addresses=sorted(touched), agent=self.agent) if touched else []
        self._seq = changes.seq
        self.query_one(ConversationList).upsert(rows)
        current = self.contact.address if self.contact else None
        thread = self.query_one(ThreadView)
        mine = [m for m in changes.messages if m.address == current]
        known = {m.id for m in thread.messages}
        arrived = [m for m in mine if m.direction is Direction.INBOUND and m.id not in known]
        if mine:
            thread.merge(mine)
        if here := [e for e in changes.events if e.address == current]:
            thread.merge_events(here)
        self._refresh_contact(rows)
        assignees = {row.contact.address: row.assignee for row in rows}
        self._announce([m for m in changes.messages if m.address != current and self._notifies(assignees, m)])
        self._mentioned(changes.events, current)
        if self.opened and current and arrived:
            # It arrived in front of the agent. The first await after `_seq` moved: the write is queued
            # before a newer change can cancel this (exclusive) worker.
            await store.mark_read(current, self.agent)
        return changes.more

    def _refresh_contact(self, conversations: list[Conversation]) -> None:
        for conversation in conversations:
            if self.contact and conversation.contact.address == self.contact.address:
                if conversation.contact != self.contact:
                    self._refusal = None  # a new window, STOP or START: it may no longer hold
                self.contact = conversation.contact
                self.conversation = conversation
                self._show_contact()

    def _mentioned(self, events: list[ThreadEvent], current: str | None) -> None:
        """A note of another agent naming `@me`: on the notice line, wherever it was written."""
        me = self.agent.lower()
        for event in events:
            if event.kind is not EventKind.NOTE or event.author == self.agent:
                continue
            if me not in (name.lower() for name in mentions(event.body)):
                continue
            who = agent_name(event.author)
            if event.address == current:
                self.notices.say(f"🔒 {who} mentioned you in a note here: {' '.join(event.body.split())}")
                continue
            rows = {c.contact.address: c.contact for c in self.query_one(ConversationList).conversations}
            contact = rows.get(event.address)
            customer = display_name(contact) if contact else event.address.removeprefix("whatsapp:")
            self.notices.announce(event.address, f"🔒 {who} mentioned you ({customer})", event.body)

    def _notifies(self, assignees: dict[str, str | None], message: Message) -> bool:
        """`[tui] notify`: a new message elsewhere is announced when its conversation is this agent's
        (or also unassigned, or any, as set); mentions are announced whatever it says."""
        rule = self._services().settings.tui.notify
        assignee = assignees.get(message.address)
        return rule == "all" or assignee == self.agent or (rule == "mine_and_unassigned" and assignee is None)

    def _announce(self, others: list[Message]) -> None:
        """New customer messages in other conversations: the notice line (and the bell, if asked for)."""
        fresh = [m for m in others if _unread_inbound(m)]
        if not fresh:
            return
        rows = {c.contact.address: c.contact for c in self.query_one(ConversationList).conversations}
        for message in fresh:
            contact = rows.get(message.address)
            who = display_name(contact) if contact else message.address.removeprefix("whatsapp:")
            self.notices.announce(message.address, who, message.body)
        if getattr(self.app, "bell_on_message", False) and not self.notices.quiet:
            self.app.bell()

    async def _refresh_status(self) -> None:
        store = self._store()
        status = self.query_one(StatusBar)
        status.now = self._clock()  # "last webhook N s ago" from the start, not after the first tick
        status.last_webhook_at = await store.last_webhook_at()
        status.rejected = await store.count_rejected_webhooks()
        status.sender = _sender_text(await store.sender_lease(), self._services().outbox)
        status.agent = self.agent

    @work(exclusive=True, group="status", exit_on_error=False)
    async def _poll_status(self) -> None:
        """The sender lease changes hands without a change to any conversation: look now and then."""
        if self.services is not None:
            await self._refresh_status()

    def _tick(self) -> None:
        """Countdowns and "last webhook N s ago" move even when nothing is committed."""
        self.query_one(StatusBar).now = self._clock()
        self.query_one(ConversationList).refresh()
        if self.contact is not None:
            self._show_contact()

    # --- opening a conversation ---------------------------------------------------------------------

    @on(ConversationList.Selected)
    def _selected(self, event: ConversationList.Selected) -> None:
        self.open(event.address)

    def open(self, address: str) -> None:
        """Open `address` for writing: the composer moves now, the thread follows from the store."""
        self._move_composer(address)
        self.query_one(ConversationList).select(address)
        self.notices.seen(address)
        self.query_one(Composer).focus()
        self._open_worker(address)

    def _move_composer(self, address: str) -> None:
        composer = self.query_one(Composer)
        if composer.address == address:
            return
        left = composer.address
        self._clear_collision()
        self.present = []
        self._set_note_mode(False)
        text = composer.switch_to(address, self._drafts.get(address, ""))
        if left is not None:
            self._keep_draft(left, text)

    @work(exclusive=True, group="open", exit_on_error=False)
    async def _open_worker(self, address: str) -> None:
        await self._show(address, mark_read=True)

    async def _show(self, address: str, mark_read: bool) -> None:
        store = self._store()
        page = await store.thread_page(address, limit=PAGE)
        contact = await store.get_contact(address)
        events = await store.thread_events(address)
        await self._read_agents()
        rows = await store.list_conversations(addresses=[address], agent=self.agent)
        if address not in self._drafts:
            await self._restore_draft(address)
        self.contact = contact
        self.conversation = rows[0] if rows else None
        self.opened = mark_read
        self._refusal = None
        self.query_one(ThreadView).show(page, complete=len(page) < PAGE, events=events)
        self._show_contact()
        if mark_read:
            await store.mark_read(address, self.agent)
            await store.touch_presence(self.agent, address, self._typing())

    async def _restore_draft(self, address: str) -> None:
        """The stored draft, first time this inbox opens `address` (before anything typed since)."""
        stored = await self._store().get_draft(address)
        if address in self._drafts:  # moved away while reading: what the composer held is newer
            return
        self._drafts[address] = stored
        composer = self.query_one(Composer)
        if composer.address == address and stored:
            composer.restore(stored)

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
        window_text = "window closed" if level == "closed" else f"window {label}"
        if contact.opted_out:
            window_text = "⊘ opted out"  # nothing goes, window or not: the one fact that matters
        number = contact.address.removeprefix("whatsapp:")
        header = plain(display_name(contact), 40)
        header.append(f" · {window_text}")  # before the number: a narrow terminal cuts the end
        if presence := self._presence_text():
            header.append(" · ")
            header.append_text(plain(presence, 120, one_line=True))
        if team := self._team_text(contact.address):
            header.append(" · ")
            header.append_text(plain(team, 120, one_line=True))
        header.append(f" · {number}")
        widget = self.query_one("#thread-header", Static)
        widget.update(header)
        widget.set_class(level == "closing", "-closing")
        widget.set_class(level == "closed", "-closed")
        self._show_banner(contact)

    def _presence_text(self) -> str:
        """ "ben is typing…", "ben is here", "ben and cho are here"."""
        typing = [agent_name(p.agent) for p in self.present if p.typing]
        if typing:
            return f"{_names(typing)} {'is' if len(typing) == 1 else 'are'} typing…"
        here = [agent_name(p.agent) for p in self.present]
        return f"{_names(here)} {'is' if len(here) == 1 else 'are'} here" if here else ""

    def _team_text(self, address: str) -> str:
        """Whose the conversation is and its status when not plain open: "assigned to ben · pending";
        "" for an open one of nobody's (the header keeps its room for the number)."""
        row = self.conversation
        if row is None or row.contact.address != address:
            return ""
        parts = []
        if row.assignee is not None:
            mine = row.assignee == self.agent
            parts.append("assigned to you" if mine else f"assigned to {agent_name(row.assignee)}")
        if row.status == ConversationStatus.SNOOZED and row.snoozed_until is not None:
            parts.append(f"snoozed until {moment_label(row.snoozed_until)}")
        elif row.status != ConversationStatus.OPEN:
            parts.append(row.status)
        return " · ".join(parts)

    def _show_banner(self, contact: Contact) -> None:
        banner = self.query_one("#banner", Static)
        reason = self._refusal or self.blocked_reason(contact)
        banner.update(reason or "")
        banner.set_class(reason is not None, "-visible")

    def blocked_reason(self, contact: Contact) -> str | None:
        """Why a text to `contact` would be refused now: the send path's own rule, never a copy of it."""
        standing = standing_refusal(contact, self._clock(), self._services().settings.limits())
        if standing is None:
            return None
        return f"{standing.reason}  (ctrl+t: template)" if standing.template_possible else standing.reason

    # --- drafts -------------------------------------------------------------------------------------

    @on(Composer.Changed, "#composer")
    def _typed(self) -> None:
        if self._draft_timer is not None:
            self._draft_timer.stop()
        self._draft_timer = self.set_timer(DRAFT_SAVE_SECONDS, self._save_current_draft)
        self._typed_at = monotonic()
        if self._told_typing != self._typing():
            self._touch_presence()  # the others see "typing…" (or its end: sent) now, not at the next beat

    def _save_current_draft(self) -> None:
        composer = self.query_one(Composer)
        if composer.address is not None:
            self._keep_draft(composer.address, composer.text)

    def _keep_draft(self, address: str, text: str) -> None:
        if self._drafts.get(address, "") == text:
            return
        self._drafts[address] = text
        self._write_draft(address, text)

    @work(group="drafts", exit_on_error=False)
    async def _write_draft(self, address: str, text: str) -> None:
        await self._store().save_draft(address, text)

    async def keep_drafts(self) -> int:
        """Write the open draft now (the app is quitting); returns how many drafts the store keeps."""
        if self.services is None:
            return 0
        composer = self.query_one(Composer)
        if composer.address is not None:
            self._drafts[composer.address] = composer.text
            await self._store().save_draft(composer.address, composer.text)
        return await self._store().count_drafts()

    # --- sending ------------------------------------------------------------------------------------

    @on(Composer.Submitted)
    def _submit(self, event: Composer.Submitted) -> None:
        if self.note_mode:
            self._add_note(event.address, event.text)
            return
        if self._confirming is not None and self._confirming[0] == event.address:
            self._clear_collision()  # Enter again: the agent saw the warning and sends anyway
        elif warning := self._collision(event.address):
            self._give_back(event.address, event.text)
            self._confirming = (event.address, warning)
            thread = self.query_one(ThreadView)
            at_bottom = thread.is_vertical_scroll_end
            collision = self.query_one("#collision", Static)
            collision.update(f"⚠ {warning} — Enter sends anyway, Esc cancels")
            collision.set_class(True, "-visible")
            if at_bottom:  # the reply it warns of stays in view above the warning
                self.call_after_refresh(thread.scroll_end, animate=False, immediate=True, force=True)
            return
        self._send(Draft(event.address, event.text), typed=event.text)

    def _collision(self, address: str) -> str | None:
        """Why a send to `address` could cross another agent's answer: they are typing there, or
        replied less than `COLLISION_WINDOW` ago (and after this agent's own latest reply)."""
        if self.contact is None or self.contact.address != address:
            return None
        typing = [agent_name(p.agent) for p in self.present if p.typing and p.address == address]
        if typing:
            return f"{_names(typing)} {'is' if len(typing) == 1 else 'are'} typing here"
        now = self._clock()
        replies = [
            m
            for m in self.query_one(ThreadView).messages
            if m.direction is Direction.OUTBOUND and m.author is not None and m.address == address
        ]
        mine = max((m.id for m in replies if m.author == self.agent), default=0)
        others = [m for m in replies if m.author != self.agent and m.id > mine]
        recent = [m for m in others if now - m.created_at < COLLISION_WINDOW]
        if not recent:
            return None
        latest = recent[-1]
        seconds = max(0, int((now - latest.created_at).total_seconds()))
        return f"{agent_name(latest.author or '')} replied {seconds} s ago"

    def _clear_collision(self) -> None:
        self._confirming = None
        if self.is_mounted:
            collision = self.query_one("#collision", Static)
            collision.update("")
            collision.set_class(False, "-visible")

    @property
    def collision_warning(self) -> str | None:
        """The warning waiting for Enter or Esc, if any."""
        return self._confirming[1] if self._confirming else None

    @on(Composer.Left)
    def _left(self) -> None:
        if self._confirming is not None:
            self._clear_collision()
            self.notices.say("Not sent: the text stays in the composer.")
        self.query_one(ConversationList).focus()

    @work(group="send", exit_on_error=False)
    async def _add_note(self, address: str, text: str) -> None:
        """An internal note: into the thread through the store, never through the submitter."""
        await self._store().add_note(address, self.agent, text)
        if self.query_one(Composer).address == address:
            self._save_current_draft()

    @work(group="send", exit_on_error=False)
    async def _send(self, draft: Draft, typed: str = "") -> None:
        """`typed` is the composer text the draft came from: put back if the send is refused."""
        draft = replace(draft, author=self.agent)
        try:
            await self._services().submitter.submit(draft)
        except Refused as refused:
            self._give_back(draft.address, typed)
            self._refuse(str(refused))
            return
        self._refusal = None
        self.notices.clear_note()
        if self.contact is not None:
            self._show_banner(self.contact)
        if typed:
            self._save_current_draft()

    def _give_back(self, address: str, text: str) -> None:
        """A refused text returns to its conversation's composer, before whatever was typed since."""
        if not text:
            return
        composer = self.query_one(Composer)
        if composer.address == address:
            composer.restore(text)
        else:
            kept = self._drafts.get(address, "")
            self._keep_draft(address, f"{text}\n{kept}" if kept.strip() else text)

    def _refuse(self, reason: str) -> None:
        self._refusal = reason
        if self.contact is not None:
            self._show_banner(self.contact)  # kept there: the clock tick redraws the banner every second

    # --- the team ----------------------------------------------------------------------------------

    def _typing(self) -> bool:
        return monotonic() - self._typed_at < TYPING_SECONDS and bool(self.query_one(Composer).text)

    @work(exclusive=True, group="presence-touch", exit_on_error=False)
    async def _touch_presence(self) -> None:
        """The heartbeat of this agent's presence in the open conversation (and whether they type)."""
        if self.services is None or self.contact is None or not self.opened:
            return
        typing = self._typing()
        self._told_typing = typing
        await self._store().touch_presence(self.agent, self.contact.address, typing)

    @work(exclusive=True, group="presence", exit_on_error=False)
    async def _poll_presence(self) -> None:
        """Who else has the open conversation open, for the header and the collision check."""
        if self.services is None or self.contact is None:
            return
        address = self.contact.address
        present = await self._store().presence(address)
        if self.contact is not None and self.contact.address == address:
            others = [p for p in present if p.agent != self.agent]
            if others != self.present:
                self.present = others
                self._show_contact()

    async def leave(self) -> None:
        """The agent quits: their presence ends now, not PRESENCE_TTL later."""
        if self.services is not None:
            await self._store().leave_presence(self.agent)

    async def action_in_order(self, action: str) -> None:
        """A priority key (one the composer would take for itself) run in its place among the keys
        of a burst: handed, as a key of its own name, to the widget that has the keys before it, whose
        in-order handling runs the screen's binding for it (and holds the keys behind it for a dialog)."""
        focused = self.app.focused
        if isinstance(focused, InOrderKeys) and focused.screen is self:
            focused._forward_event(events.Key(f"inbox.{action}", None))
        else:
            await self.run_action(action)

    def action_cycle_view(self) -> None:
        """The next view; a label filter (from the contact panel) ends here too."""
        if self.label is None:
            self.view = VIEW_ORDER[(VIEW_ORDER.index(self.view) + 1) % len(VIEW_ORDER)]
        self.label = None
        self.counts = None
        self._show_list_note()
        if self.services is not None:
            self._reload_list()

    def action_assign(self) -> None:
        """The menu opens in this turn (the agents are known beforehand): the keys behind ctrl+y in
        a burst choose in it."""
        from wa_inbox.tui.screens.assign import NOBODY, assign_menu

        if self.contact is None or self.services is None:
            return
        address = self.contact.address
        current = self.conversation.assignee if self.conversation else None
        menu = assign_menu(self.agent, self.agents, current, display_name(self.contact))

        def chosen(name: str | None) -> None:
            if name is not None:
                self._assign_worker(address, None if name == NOBODY else name)

        self.app.push_screen(menu, chosen)

    def action_take(self) -> None:
        if self.contact is not None:
            self._assign_worker(self.contact.address, self.agent)

    def action_unassign(self) -> None:
        if self.contact is not None:
            self._assign_worker(self.contact.address, None)

    @work(group="team", exit_on_error=False)
    async def _assign_worker(self, address: str, assignee: str | None) -> None:
        await self._assign(address, assignee)

    async def _assign(self, address: str, assignee: str | None) -> None:
        changed = await self._store().assign(address, assignee, by=self.agent)
        if not changed:
            whose = "nobody's" if assignee is None else f"{agent_name(assignee)}'s"
            self.notices.say(f"It was {whose} already.")

    def action_status(self) -> None:
        """Opens in this turn, as `action_assign`."""
        from wa_inbox.tui.screens.status import status_menu

        if self.contact is None or self.services is None:
            return
        address = self.contact.address
        current = self.conversation.status if self.conversation else ConversationStatus.OPEN

        def chosen(choice: StatusChoice | None) -> None:
            if choice is not None:
                self._set_status(address, choice)

        self.app.push_screen(status_menu(self._clock(), current, display_name(self.contact)), chosen)

    @work(group="team", exit_on_error=False)
    async def _set_status(self, address: str, choice: StatusChoice) -> None:
        await self._store().set_conversation_status(address, choice.status, by=self.agent, until=choice.until)

    def action_toggle_note(self) -> None:
        self._set_note_mode(not self.note_mode)
        self.query_one(Composer).focus()

    def _set_note_mode(self, on: bool) -> None:
        if on == self.note_mode:
            return
        self.note_mode = on
        composer = self.query_one(Composer)
        if self._reply_placeholder is None:
            self._reply_placeholder = str(composer.placeholder)
        composer.set_class(on, "-note")
        composer.border_title = NOTE_TITLE if on else None
        composer.placeholder = NOTE_TITLE if on else self._reply_placeholder

    # --- keys ---------------------------------------------------------------------------------------

    def action_next_unread(self) -> None:
        rows = self.query_one(ConversationList).conversations
        current = self.contact.address if self.contact and self.opened else None
        unread = [c.contact.address for c in rows if c.unread_count and c.contact.address != current]
        waiting = [a for a in reversed(self.notices.waiting) if a != current]
        if target := next(iter(waiting + unread), None):
            self.open(target)
        else:
            self.notices.say("No unread conversations.")

    def action_closing_soonest(self) -> None:
        now = self._clock()
        rows = self.query_one(ConversationList).conversations
        open_ones = [c for c in rows if c.window_expires_at is not None and c.window_expires_at > now]
        if not open_ones:
            self.notices.say("No conversation has an open window.")
            return
        self.open(min(open_ones, key=lambda c: c.window_expires_at or now).contact.address)

    def action_jump(self) -> None:
        from wa_inbox.tui.screens.jump import jump_palette

        self.app.push_screen(jump_palette(self))

    def action_toggle_quiet(self) -> None:
        self.notices.quiet = not self.notices.quiet
        self.notices.say(
            "Quiet: no notices of new messages (f4 turns them back on)."
            if self.notices.quiet
            else "Notices of new messages are on."
        )

    def action_focus_list(self) -> None:
        self.query_one(ConversationList).focus()

    def action_focus_composer(self) -> None:
        """Writing in the shown conversation opens it (and so marks it read)."""
        composer = self.query_one(Composer)
        if composer.address is not None and not self.opened:
            self.open(composer.address)
        composer.focus()

    def action_pick_template(self) -> None:
        from wa_inbox.tui.screens.template_picker import TemplatePicker

        if self.contact is None:
            return
        standing = standing_refusal(self.contact, self._clock(), self._services().settings.limits())
        if standing is not None and not standing.template_possible:
            self.notices.say(standing.reason, "warning")  # no template would go either
            return
        self.app.push_screen(
            TemplatePicker(self._services(), self.contact, self._clock), self._template_chosen
        )

    def action_attach(self) -> None:
        from wa_inbox.tui.screens.attach import AttachScreen

        if self.contact is not None:
            caption = self.query_one(Composer).text.strip()
            self.app.push_screen(AttachScreen(display_name(self.contact), caption), self._attach_chosen)

    def _attach_chosen(self, path: Path | None) -> None:
        if path is not None and self.contact is not None:
            composer = self.query_one(Composer)
            caption = composer.text.strip()
            composer.clear()
            self._send_file(Draft(self.contact.address, caption), path)

    @work(group="send", exit_on_error=False)
    async def _send_file(self, draft: Draft, path: Path) -> None:
        """Checked (size, sniffed type, window, opt-out) and copied before anything is queued."""
        from wa_inbox.gateway.media_host import MediaHost

        services = self._services()
        try:
            with_file = await MediaHost(services.settings, services.store).attach(draft, path)
        except (Refused, ConfigError) as refused:
            self._give_back(draft.address, draft.body)
            self._refuse(str(refused))
            return
        self._send(with_file, typed=draft.body)

    def _template_chosen(self, draft: Draft | None) -> None:
        if draft is not None:
            self._send(draft)

    def action_search(self) -> None:
        from wa_inbox.tui.screens.search import SearchScreen

        self.app.push_screen(SearchScreen(self._store()), self._search_chosen)

    def _search_chosen(self, found: Message | str | None) -> None:
        if isinstance(found, Message):
            self.open(found.address)
            self._reveal_when_shown(found)
        elif found is not None:
            self.open(found)

    @work(group="reveal", exit_on_error=False)
    async def _reveal_when_shown(self, message: Message) -> None:
        """Scroll the thread to a search hit once its conversation is on screen (older pages included)."""
        for worker in [w for w in self.workers if w.group == "open"]:
            await worker.wait()
        thread = self.query_one(ThreadView)
        store = self._store()
        while not thread.reveal(message.id) and thread.oldest_id is not None and not thread.complete:
            page = await store.thread_page(message.address, thread.oldest_id, PAGE)
            thread.prepend(page, complete=len(page) < PAGE)

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
            self.notices.say(f"No viewer could open {event.path}.", "warning")

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

    # --- saved replies, the contact panel, a new conversation (#14) -------------------------------------

    def action_saved_replies(self) -> None:
        """The composer's `/` (through `inbox.saved_replies`): the dialog opens in the key's own turn,
        so the keys behind `/` (in that read or the next) are typed into it."""
        from wa_inbox.tui.screens.replies import ReplyPicker

        if self.services is not None:
            self.app.push_screen(ReplyPicker(self.services, self.query_one(Composer), self.contact))

    def action_contact_panel(self) -> None:
        from wa_inbox.tui.screens.contact import ContactPanel

        if self.contact is not None and self.services is not None:
            panel = ContactPanel(self.services, self.contact, self._clock)
            self.app.push_screen(panel, self._label_chosen)

    def _label_chosen(self, label: str | None) -> None:
        """The contact panel asked for the conversations with `label`: the list shows only those
        (in the current view) until ctrl+v."""
        if label is not None and self.services is not None:
            self.label = label
            self.counts = None
            self._show_list_note()
            self._reload_list()

    def action_new_conversation(self) -> None:
        from wa_inbox.tui.screens.new_conversation import NewConversation

        if self.services is not None:
            self.app.push_screen(NewConversation(self.services, self._clock), self._new_conversation_chosen)

    def _new_conversation_chosen(self, draft: Draft | None) -> None:
        if draft is not None:
            self._start_conversation(draft)

    @work(group="new-conversation", exit_on_error=False)
    async def _start_conversation(self, draft: Draft) -> None:
        """The first template to a new number goes the normal way; then its conversation opens."""
        await self._send(draft).wait()
        if await self._store().get_contact(draft.address) is not None:
            self.open(draft.address)


def _sender_text(lease: Lease | None, outbox: Outbox | None) -> str:
    """Who delivers what this inbox queues, from the sender lease (one sender per database)."""
    if lease is None:
        return "no sender running: messages wait in the queue"
    if outbox is not None and lease.owner == outbox.owner:
        return "sending here"
    return f"sent by {sanitize(lease.owner, 40, one_line=True)}"


def _unread_inbound(message: Message) -> bool:
    return message.direction is Direction.INBOUND and message.read_by_agent_at is None


def _names(names: list[str]) -> str:
    """ "ben", "ben and cho", "ben, cho and dee"."""
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"
