"""Enlace: plataforma de WhatsApp para el contact center (núcleo en Python)."""

__version__ = "0.1.0"
