"""Outbound CRM webhooks: signed, retried through the job queue, logged, replayable."""
