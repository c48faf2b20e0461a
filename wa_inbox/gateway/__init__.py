"""Everything that talks to Twilio: the SDK client and its transport, and the outbox sender."""
