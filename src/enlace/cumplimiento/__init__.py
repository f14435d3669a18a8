"""Compliance: opt-outs, suppression lists, frequency caps, contact hours, consent, audit, ARCO."""
