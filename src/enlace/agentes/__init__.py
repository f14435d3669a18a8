"""Agents (one per agent user) and teams led by supervisors."""
