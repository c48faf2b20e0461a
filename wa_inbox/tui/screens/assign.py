"""Who the open conversation belongs to (ctrl+y): you first (take it), the other agents by name, then
nobody (unassign). The current assignee is marked."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text

from wa_inbox.tui.format import agent_name, plain
from wa_inbox.tui.screens.menu import ChoiceMenu

NOBODY = ""
"""The picker's value for "nobody": unassign."""


def assign_menu(me: str, agents: Sequence[str], current: str | None, customer: str) -> ChoiceMenu[str]:
    """Dismisses with an agent's name, `NOBODY`, or None (Esc: unchanged)."""
    others = sorted({a for a in agents if a != me}, key=str.lower)

    def label(prefix: str, name: str | None) -> Text:
        text = Text(prefix)
        if name is not None:
            text.append_text(plain(agent_name(name), 40, one_line=True))
        if name == current:
            text.append("  ✓ now")
        return text

    choices: list[tuple[str | Text, str]] = [(label("Take it: me, ", me), me)]
    choices += [(label("", name), name) for name in others]
    nobody = Text("Nobody (unassign)") + (Text("  ✓ now") if current is None else Text())
    choices.append((nobody, NOBODY))
    return ChoiceMenu(f"Assign {customer} to…", choices, dialog_id="assign-dialog")
