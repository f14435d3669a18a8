"""WhatsApp sessions: one per agent, their state machine, leases and encrypted credentials."""
