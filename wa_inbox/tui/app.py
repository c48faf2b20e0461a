"""The Textual app: starts the services in a worker and hands them to the inbox screen."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterable
from datetime import datetime
from functools import partial

from textual import on, work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.content import Content
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.worker import Worker, WorkerCancelled, WorkerFailed, WorkerState

from wa_inbox.domain.clock import utc_now
from wa_inbox.running.services import Backend, Services, hold
from wa_inbox.tui.messages import ServicesReady, StoreChanged
from wa_inbox.tui.screens.inbox import InboxScreen
from wa_inbox.tui.screens.log import LogBuffer, LogScreen
from wa_inbox.tui.styles import stylesheet

IN_ORDER_KEYS = "inbox."


class InboxApp(App[None]):
    """wa-inbox for a support agent: every WhatsApp conversation, live."""

    TITLE = "wa-inbox"
    CSS_PATH = [stylesheet("app.tcss"), stylesheet("inbox.tcss")]
    BINDINGS = [
        Binding("f1", "help", "Help"),
        Binding("ctrl+l", "log", "Log", show=False),
        Binding("ctrl+q", "quit", "Quit", priority=True),  # in any dialog too
    ]

    def __init__(self, backend: Backend, clock: Callable[[], datetime] = utc_now, bell: bool = False) -> None:
        super().__init__()
        self._backend = backend
        self._clock = clock
        self.bell_on_message = bell
        self.inbox = InboxScreen(clock)
        self.log_buffer = LogBuffer()

    def on_mount(self) -> None:
        logging.getLogger().addHandler(self.log_buffer)  # the receiver's and sender's lines, in the app
        self.push_screen(self.inbox)
        self._start_services()

    @work(group="services", exit_on_error=False)
    async def _start_services(self) -> None:
        def ready(services: Services) -> None:
            self.post_message(ServicesReady(services))

        await hold(self._backend, ready)

    async def on_unmount(self) -> None:
        """Textual cancels workers at exit without waiting: let the services finish closing (database,
        receiver, sender) while the event loop still runs, or their threads post into a closed loop."""
        for worker in [w for w in self.workers if w.group == "services"]:
            with contextlib.suppress(WorkerCancelled, WorkerFailed):
                await worker.wait()
        logging.getLogger().removeHandler(self.log_buffer)

    @on(ServicesReady)
    def _on_services_ready(self, event: ServicesReady) -> None:
        self.inbox.attach(event.services)
        self._follow_changes(event.services)

    @work(group="watch", exit_on_error=False)
    async def _follow_changes(self, services: Services) -> None:
        """The store's change feed, embedded or attached alike: each commit, here or in another
        process, becomes one (coalesced) `StoreChanged` for the inbox."""
        async for _ in services.store.changes():
            self.inbox.post_message(StoreChanged())

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """The one place worker errors become something the agent sees."""
        if event.state is WorkerState.ERROR and event.worker.error is not None:
            error = event.worker.error
            self.notify(str(error) or type(error).__name__, title="Something went wrong", severity="error")

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """On the inbox's notice line, as plain text: a toast would cover the composer or a dialog."""
        if markup:
            message = Content.from_markup(message).plain  # Textual's own notes; ours come without markup
        text = f"{title}: {message}" if title else message
        if self.inbox.is_mounted:
            self.call_later(self.inbox.notices.say, text, severity)  # notify may come from a thread
        else:
            super().notify(text, title="", severity=severity, timeout=timeout, markup=False)

    async def action_quit(self) -> None:
        """Quitting keeps the drafts (in the store) and says how many are waiting."""
        kept = 0
        with contextlib.suppress(Exception):  # a store that is down must not keep the agent in the app
            kept = await self.inbox.keep_drafts()
        with contextlib.suppress(Exception):
            await self.inbox.leave()
        s = "" if kept == 1 else "s"
        self.exit(
            message=f"{kept} unsent draft{s} kept: each is back when you open its conversation."
            if kept
            else None
        )

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        """Every inbox action is in the command palette too, with its key."""
        yield from super().get_system_commands(screen)
        for binding in [*InboxScreen.BINDINGS, *self.BINDINGS]:
            if not isinstance(binding, Binding) or binding.key.startswith(IN_ORDER_KEYS):
                continue  # the in-order half of a priority key (InboxScreen.action_in_order)
            if binding.description and binding.action != "quit":
                owner = self if binding in self.BINDINGS else self.inbox
                run = partial(owner.run_action, binding.action)
                yield SystemCommand(binding.description, f"key: {binding.key}", run)
        yield SystemCommand("Take", "assign the open conversation to me", self.inbox.action_take)
        yield SystemCommand("Unassign", "the open conversation belongs to nobody", self.inbox.action_unassign)

    def action_log(self) -> None:
        self.push_screen(LogScreen(self.log_buffer))

    def action_help(self) -> None:
        from wa_inbox.tui.screens.help import HelpScreen

        self.push_screen(HelpScreen())
