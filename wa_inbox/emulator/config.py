"""Settings of one emulated Twilio account and of how unkind its network is."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class EmulatorConfig:
    """What the fake Twilio knows about its account, its customers' receiver and its flakiness."""

    account_sid: str
    """The only account this emulator serves (AC…); every REST path must name it."""
    auth_token: str
    """Basic-auth password for account_sid and the HMAC key of every webhook signature."""
    api_key_sid: str | None = None
    """Optional API key (SK…) accepted as an alternative Basic-auth user."""
    api_key_secret: str | None = None
    inbound_url: str | None = None
    """The receiver's public inbound webhook URL: simulated customers post here."""
    status_callback_url: str | None = None
    """A Messaging Service's status callback until changed through the API: used for its sends that
    name no StatusCallback of their own."""
    status_delay: tuple[float, float] = (0.05, 0.4)
    """Seconds between status transitions, drawn uniformly, so callbacks arrive like real ones."""
    create_delay: tuple[float, float] = (0.0, 0.0)
    """Seconds a message create spends on its way in, drawn uniformly: the message exists, and is in
    `sent()`, only after it. A sender killed meanwhile has a create in flight that still lands."""
    duplicate_rate: float = 0.0
    """Probability that a webhook is delivered twice (Twilio delivers at least once)."""
    reorder: bool = False
    """Deliver a message's status callbacks in shuffled order (Twilio does not promise order)."""
    read_rate: float = 1.0
    """Probability that a delivered message is read (customers may turn read receipts off)."""
    seed: int | None = None
    """Seed for every random choice (SIDs, delays, chatter), for reproducible runs."""
    sender: str = "whatsapp:+14155238886"
    """The business sender: the only valid From, and the one used with MessagingServiceSid."""
    public_url: str = "http://127.0.0.1"
    """Where the emulator itself is reachable; media URLs in webhooks are built from it."""
    advanced_opt_out: bool = True
    """Model a Messaging Service with Advanced Opt-Out: inbound STOP blocks sends with 21610."""
    media_delay_misses: int = 0
    """Answer 404 to the first this-many fetches of each media item: media can lag behind its webhook."""
