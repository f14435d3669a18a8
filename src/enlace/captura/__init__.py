"""Capture: every message, receipt and reply from the engines, stored exactly once."""
