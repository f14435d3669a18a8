"""WhatsApp engines behind one interface; business code imports only `motores.base`."""
