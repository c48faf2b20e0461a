"""The app finds its stylesheets, from a checkout and from an installed wheel."""

from __future__ import annotations

from pathlib import Path

import pytest

from wa_inbox.tui import styles
from wa_inbox.tui.app import InboxApp
from wa_inbox.tui.styles import stylesheet


def test_the_inbox_stylesheet_is_found() -> None:
    assert stylesheet("inbox.tcss").is_file()


def test_every_stylesheet_the_app_lists_exists() -> None:
    listed = [Path(path) for path in InboxApp.CSS_PATH]  # type: ignore[union-attr]
    assert {path.name for path in listed} >= {"app.tcss", "inbox.tcss"}
    assert all(path.suffix == ".tcss" and path.is_file() for path in listed)


def test_a_wheel_reads_the_styles_it_carries(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Installed, `styles/` sits inside the package (hatch force-include) and wins over any checkout."""
    packaged = tmp_path / "wa_inbox" / "styles"
    packaged.mkdir(parents=True)
    monkeypatch.setattr(styles, "_PACKAGED", packaged)
    assert stylesheet("inbox.tcss") == packaged / "inbox.tcss"
