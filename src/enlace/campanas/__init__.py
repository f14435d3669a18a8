"""Campaigns: create, start (render every message), pause, resume, cancel, progress."""
