"""Attach a local file: a path with completion (tab accepts); the inbox checks it before anything is sent."""

from __future__ import annotations

import asyncio
from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.suggester import Suggester
from textual.widgets import Input, Label


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


class AttachScreen(ModalScreen[Path | None]):
    """Dismisses with the chosen file, or None."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel")]

    def compose(self) -> ComposeResult:
        with Vertical(id="attach-dialog"):
            yield Label("Attach a file (tab completes; the composer's text becomes its caption):")
            yield Input(placeholder=f"{Path.home()}/…", suggester=PathSuggester(), id="attach-path")

    @on(Input.Submitted, "#attach-path")
    def _chosen(self, event: Input.Submitted) -> None:
        path = Path(event.value).expanduser()
        if path.is_file():
            self.dismiss(path)
        else:
            self.notify(f"{path} is not a file.", severity="warning")
