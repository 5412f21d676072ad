"""Test fixtures: one fresh database per test, on SQLite or on the local PostgreSQL server.

BACKOFFICE_TEST_DB=postgres runs the same tests against PostgreSQL on 127.0.0.1:5432 (database `test`),
each xdist worker in its own schema.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from assistant.container import Container, build_container
from assistant.settings import Settings
from tools.catalog import create_default_catalog
from tools.db import transaction
from tools.migrate import upgrade_database
from tools.schema import metadata

POSTGRES_BASE = os.environ.get("BACKOFFICE_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
# The trained intent model is derived data: one copy for every worker and run (and the `serve` subprocesses).
os.environ.setdefault("BACKOFFICE_CACHE_DIR", str(Path(tempfile.gettempdir()) / f"backoffice-test-cache-{os.getuid()}"))
# A fixed "now" (Friday 27 November 2026, noon UTC) so working-day counts are deterministic.
NOW = datetime(2026, 11, 27, 12, 0, tzinfo=timezone.utc)


def using_postgres() -> bool:
    """Return True when this run targets PostgreSQL."""
    return os.environ.get("BACKOFFICE_TEST_DB", "sqlite") == "postgres"


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


def _run_admin(statement: str) -> None:
    admin = create_engine(POSTGRES_BASE)
    with admin.begin() as connection:
        connection.execute(text(statement))
    admin.dispose()


@pytest.fixture(scope="session")
def database_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Migrate once per worker: a template SQLite file, or a PostgreSQL schema of this process."""
    if using_postgres():
        # The process id keeps concurrent test runs on one server out of each other's way.
        schema = f"bo_test_{_worker()}_{os.getpid()}"
        _run_admin(f"DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}")
        url = f"{POSTGRES_BASE}?options=-csearch_path%3D{schema}"
        upgrade_database(url)
        yield url
        _run_admin(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        return
    template = tmp_path_factory.mktemp("template") / "template.db"
    upgrade_database(f"sqlite:///{template}")
    yield str(template)


def fresh_database_url(template: str, folder: Path) -> str:
    """Return the URL of an empty, migrated database for one test."""
    if using_postgres():
        engine = create_engine(template)
        tables = ", ".join(table.name for table in metadata().sorted_tables)
        with engine.begin() as connection:
            # Only the test harness bypasses the audit trail's triggers, to reset between tests.
            connection.execute(text("SET session_replication_role = replica"))
            connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        engine.dispose()
        return template
    target = folder / "backoffice.db"
    shutil.copyfile(template, target)
    return f"sqlite:///{target}"


@pytest.fixture
def database_url(database_template: str, tmp_path: Path) -> str:
    """Return the URL of this test's own empty database (schema and default catalog in place)."""
    return fresh_database_url(database_template, tmp_path)


def make_settings(database_url: str, home: Path, **overrides: object) -> Settings:
    """Return settings for a test deployment."""
    values: dict[str, object] = {"BACKOFFICE_HOME": home, "DATABASE_URL": database_url, **overrides}
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture
def container(database_url: str, tmp_path: Path) -> Iterator[Container]:
    """Return a wired application on this test's database, with the default catalog."""
    built = build_container(make_settings(database_url, tmp_path / "home"))
    with transaction(built.session_factory) as session:
        create_default_catalog(session)
    yield built
    built.close()
