"""Database: connection, embedded PostgreSQL, models' base and Alembic migrations."""
