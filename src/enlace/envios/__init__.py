"""The sending engine: per-session dispatcher loops, pacing and safety stops."""
