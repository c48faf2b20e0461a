"""The webhook receiver: Twilio posts here, we check, record and acknowledge."""
