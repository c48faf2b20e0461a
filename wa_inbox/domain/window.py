"""WhatsApp's 24-hour customer service window, outside which only approved templates may be sent.

Only inbound customer messages open or extend it; our replies and status callbacks never do,
so the single input is the contact's last inbound time.
"""

from __future__ import annotations

from datetime import datetime, timedelta

WINDOW = timedelta(hours=24)


def expires_at(last_inbound_at: datetime | None) -> datetime | None:
    """When free-form replies stop being allowed; None if the customer never wrote."""
    return None if last_inbound_at is None else last_inbound_at + WINDOW


def is_open(last_inbound_at: datetime | None, now: datetime) -> bool:
    """Whether a free-form (non-template) message may be sent at `now`."""
    end = expires_at(last_inbound_at)
    return end is not None and now < end


def remaining(last_inbound_at: datetime | None, now: datetime) -> timedelta:
    """Time left to reply freely; zero, never negative, once closed."""
    end = expires_at(last_inbound_at)
    return max(end - now, timedelta()) if end is not None else timedelta()


def format_remaining(remaining: timedelta) -> str:
    """`H:MM` rounded down, so the agent never counts on a minute that is not there."""
    if remaining <= timedelta():
        return "closed"
    hours, minutes = divmod(int(remaining.total_seconds()) // 60, 60)
    return f"{hours}:{minutes:02d}"
