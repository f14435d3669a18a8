"""Core layer shared by every domain: rules that exist once (numbers and JIDs, contact hours, events)."""
