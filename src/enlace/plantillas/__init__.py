"""Message templates with variants and placeholders, rendered per contact."""
