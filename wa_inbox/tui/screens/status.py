"""The open conversation's status (ctrl+d): open, pending (waiting on the customer), resolved, or
snoozed for an hour or until tomorrow 09:00 (the agent's zone). A customer's new message reopens it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from wa_inbox.domain.team import ConversationStatus
from wa_inbox.tui.format import local, moment_label
from wa_inbox.tui.screens.menu import ChoiceMenu

MORNING = time(9, 0)


@dataclass(frozen=True, slots=True)
class StatusChoice:
    status: ConversationStatus
    until: datetime | None = None
    """For a snooze: when it ends by itself."""


def tomorrow_morning(now: datetime) -> datetime:
    """09:00 tomorrow in the agent's zone (`format.ZONE`), as an aware time."""
    here = local(now)
    day = here.date() + timedelta(days=1)
    return datetime.combine(day, MORNING, tzinfo=here.tzinfo)


def status_menu(now: datetime, current: str, customer: str) -> ChoiceMenu[StatusChoice]:
    """Dismisses with the chosen `StatusChoice`, or None (Esc: unchanged)."""
    hour, morning = now + timedelta(hours=1), tomorrow_morning(now)

    def mark(status: ConversationStatus) -> str:
        return "  ✓ now" if current == status else ""

    choices: list[tuple[str, StatusChoice]] = [
        ("Open" + mark(ConversationStatus.OPEN), StatusChoice(ConversationStatus.OPEN)),
        (
            "Pending: waiting on the customer" + mark(ConversationStatus.PENDING),
            StatusChoice(ConversationStatus.PENDING),
        ),
        ("Resolved" + mark(ConversationStatus.RESOLVED), StatusChoice(ConversationStatus.RESOLVED)),
        (f"Snooze for 1 h (until {moment_label(hour)})", StatusChoice(ConversationStatus.SNOOZED, hour)),
        (
            f"Snooze until tomorrow ({moment_label(morning)})",
            StatusChoice(ConversationStatus.SNOOZED, morning),
        ),
    ]
    return ChoiceMenu(f"Status of {customer}", choices, dialog_id="status-dialog")
