"""Users, roles, login sessions, API tokens and the actor every query is scoped by."""
