"""wa-inbox: a terminal agent inbox for WhatsApp Business over Twilio."""
