"""Alembic environment: runs migrations against the URL given by tools.migrate."""

from __future__ import annotations

from alembic import context

from tools.db import create_db_engine
from tools.schema import metadata

config = context.config


def run_migrations_online() -> None:
    """Run migrations on a live connection (batch mode so SQLite can alter tables)."""
    engine = create_db_engine(config.get_main_option("sqlalchemy.url") or "", echo=False)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=metadata(), render_as_batch=True, compare_type=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations_online()
