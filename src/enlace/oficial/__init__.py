"""The official channel (WhatsApp Cloud API): signed webhooks and hand-off from official lines to agents."""
