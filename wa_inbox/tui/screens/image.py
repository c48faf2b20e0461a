"""An attached image in the terminal: sixel or Kitty graphics where the terminal has them, else half-cells."""

from __future__ import annotations

from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, Label

from wa_inbox.tui.format import plain


class ImagePreviewScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,p", "dismiss", "Close")]

    def __init__(self, path: Path) -> None:
        super().__init__()
        self._path = path

    def compose(self) -> ComposeResult:
        from textual_image.widget import Image  # detects the terminal's graphics once, when first needed

        with Vertical(id="image-dialog"):
            yield Label(plain(self._path.name, 80) + "  (o opens it in the system's viewer, escape closes)")
            yield Image(self._path, id="image-preview")
        yield Footer(compact=True)
