"""Pure rules and types of WhatsApp Business messaging: no I/O, no framework imports."""
