"""The official WhatsApp Cloud API engine."""
