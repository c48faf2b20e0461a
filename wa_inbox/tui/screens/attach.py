"""Attach a local file: a path with completion (tab accepts); the inbox checks it before anything is sent."""

from __future__ import annotations

import asyncio
from pathlib import Path

import filetype
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.suggester import Suggester
from textual.widgets import Footer, Input, Label, Static

from wa_inbox.tui.format import plain


class PathSuggester(Suggester):
    """Completes the last part of a path from what is on disk (the shell's tab, in one line)."""

    def __init__(self) -> None:
        super().__init__(use_cache=False, case_sensitive=True)

    async def get_suggestion(self, value: str) -> str | None:
        return await asyncio.to_thread(_complete, value)


def _complete(value: str) -> str | None:
    typed = Path(value).expanduser()
    folder, stem = (typed, "") if value.endswith("/") else (typed.parent, typed.name)
    try:
        names = sorted(p.name + ("/" if p.is_dir() else "") for p in folder.iterdir())
    except OSError:
        return None
    match = next((n for n in names if n.startswith(stem) and not n.startswith(".")), None)
    return value + match[len(stem) :] if match else None


class PathInput(Input):
    """A path field where Tab takes the suggested completion, as in a shell."""

    BINDINGS = [Binding("tab", "complete", "Complete", show=False)]

    def action_complete(self) -> None:
        if self._suggestion and self._suggestion != self.value:
            self.value = self._suggestion
            self.cursor_position = len(self.value)
        else:
            self.screen.focus_next()


class AttachScreen(ModalScreen[Path | None]):
    """Dismisses with the chosen file once the agent confirmed it (a second Enter), or None."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel")]

    def __init__(self, recipient: str, caption: str) -> None:
        super().__init__()
        self._recipient = recipient
        self._caption = caption
        self._confirming: Path | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="attach-dialog"):
            yield Label("Attach a file (tab completes; the composer's text becomes its caption):")
            yield PathInput(placeholder=f"{Path.home()}/…", suggester=PathSuggester(), id="attach-path")
            yield Static("", id="attach-confirm", markup=False)
        yield Footer(compact=True)

    @on(Input.Changed, "#attach-path")
    def _changed(self) -> None:
        self._confirming = None
        self.query_one("#attach-confirm", Static).update("")

    @on(Input.Submitted, "#attach-path")
    def _chosen(self, event: Input.Submitted) -> None:
        path = Path(event.value).expanduser()
        if path == self._confirming:
            self.dismiss(path)
        elif path.is_file():
            self._confirming = path
            self.query_one("#attach-confirm", Static).update(self._question(path))
        else:
            self.query_one("#attach-confirm", Static).update(f"{path} is not a file: check the path.")

    def _question(self, path: Path) -> Text:
        kind = filetype.guess_mime(str(path)) or "unknown type"
        size = path.stat().st_size
        question = plain(path.name, 80)
        question.append(f" ({kind}, {size / 1000:,.0f} kB) to ")
        question.append(plain(self._recipient, 40))
        if self._caption:
            question.append(" with the caption “")
            question.append(plain(self._caption, 60, one_line=True))
            question.append("”")
        question.append("? Enter sends it, Esc cancels.")
        return Text("Send ") + question
