"""Outgoing messages: the `mensajes_enviados` model, its statuses and the one way to change them."""
