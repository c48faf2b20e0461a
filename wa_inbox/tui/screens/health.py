"""The set-up checklist of `wa-inbox doctor`, inside the inbox: the same checks, the same fixes."""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Footer, Static

from wa_inbox.config import Settings

MARKS = {"passed": "✓", "failed": "✗", "skipped": "–"}


class HealthScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,f3", "dismiss", "Close"), Binding("r", "recheck", "Check again")]

    def __init__(self, settings: Settings) -> None:
        super().__init__()
        self._settings = settings

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="health-dialog"):
            yield Static("Checking…", id="health-results", markup=False)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.action_recheck()

    @work(exclusive=True, group="health", exit_on_error=False)
    async def action_recheck(self) -> None:
        from wa_inbox.doctor import run_checks  # the SDK and the checks load only when asked for

        results = await run_checks(self._settings)
        lines = []
        for result in results:
            lines.append(f"{MARKS[result.outcome]} {result.name}: {result.detail}")
            if result.fix:
                lines.append(f"    → {result.fix}")
        lines.append("\n(r checks again, escape closes)")
        self.query_one("#health-results", Static).update("\n".join(lines))
