"""Inbox: the conversations of each agent with the people who answer, and 1:1 replies."""
