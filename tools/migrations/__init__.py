"""Alembic migrations of the back-office schema."""
