"""Baileys engine: a supervised Node gateway (gateway/) hosting the agents' WhatsApp Web sockets."""
